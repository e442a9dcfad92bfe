import { describe, expect, it } from 'vitest';
import { LatchkeyError } from '@latchkey/errors';
import type { LockState, OrphanedSecret } from '@latchkey/storage';
import {
  describeDoctor,
  npmrcCafile,
  runDoctor,
  type DoctorInputs,
  type Finding,
  type PluginInventory,
} from './doctor.js';

const bundled: PluginInventory = {
  plugins: [
    { name: '@oclif/plugin-help', type: 'core' },
    { name: '@latchkey/plugin-nanogpt', version: '0.1.0', type: 'core' },
  ],
  providers: new Map([['nanogpt', '@latchkey/plugin-nanogpt']]),
  broken: [],
  conflicts: [],
};

function inputs(over: Partial<DoctorInputs> = {}): DoctorInputs {
  return {
    nodeVersion: '22.12.0',
    env: { LATCHKEY_STORAGE: 'file' },
    platform: 'linux',
    configDir: '/home/ada/.config/latchkey',
    checkConfigDir: async () => 'ok',
    modeOf: async () => 0o40700,
    probeKeychain: async () => undefined,
    passphraseFile: async () => undefined,
    passStore: async () => undefined,
    passInstalled: async () => true,
    exists: async () => true,
    userNpmrc: async () => undefined,
    plugins: async () => bundled,
    accounts: async () => [{ provider: 'nanogpt', account: 'ada', backend: 'file' as const }],
    orphans: async () => [],
    lock: async () => ({ state: 'free' }),
    ...over,
  };
}

const byCheck = (findings: Finding[], check: Finding['check']) => findings.filter((f) => f.check === check);

describe('runDoctor', () => {
  it('a healthy set-up: no problems, one line each', async () => {
    const report = await runDoctor(inputs());
    expect(report.problems).toBe(0);
    expect(describeDoctor(report)).toBe(
      [
        '✓ Node 22.12.0',
        '✓ Config directory /home/ada/.config/latchkey (mode 700)',
        '! Storage: the file backend (LATCHKEY_STORAGE=file), protected by its permissions only: the key sits beside it, so whoever can read the config directory can read the secrets. The keychain is not tried.',
        '    Fix: Nothing to fix if the file modes are protection enough; for more protection use a passphrase (--storage passphrase), pass (--storage pass) or a system keychain (--storage keychain); see `latchkey help storage`.',
        '! Stored: 1 account in the file backend, protected by its permissions only (the key sits beside it).',
        '    Fix: Move them somewhere stronger: latchkey auth migrate --to passphrase (or --to keychain, --to pass).',
        '✓ Proxy: none set (HTTPS_PROXY, HTTP_PROXY); requests go direct.',
        '✓ Plugin @latchkey/plugin-nanogpt@0.1.0 (bundled): nanogpt',
        '✓ Stored credentials: 1 account, no stale lock, no orphaned secret.',
        '',
        'No problems found.',
        '',
      ].join('\n'),
    );
  });

  it('Node older than 22 is a problem with the fix', async () => {
    const [node] = (await runDoctor(inputs({ nodeVersion: '20.11.1' }))).findings;
    expect(node).toEqual({
      check: 'node',
      status: 'problem',
      message: 'Node 20.11.1 is too old: latchkey needs Node 22 or newer.',
      fix: 'Install Node 22 or newer (https://nodejs.org, or your version manager), then reinstall latchkey.',
    });
  });

  it("an insecure config dir is storage's own error and fix, and its credentials are not read", async () => {
    let read = false;
    const report = await runDoctor(
      inputs({
        checkConfigDir: async () => {
          throw new LatchkeyError({
            code: 'STORAGE_INSECURE',
            message:
              '/d has permissions 777; latchkey refuses to use credentials that other users may read or replace.',
            action:
              "Run: chmod 700 '/d' (and consider the stored credentials exposed if others could read them).",
          });
        },
        accounts: async () => {
          read = true;
          return [];
        },
      }),
    );
    expect(report.problems).toBe(1);
    expect(byCheck(report.findings, 'config-dir')[0]!.fix).toMatch(/^Run: chmod 700 '\/d'/);
    expect(byCheck(report.findings, 'credentials')).toEqual([]);
    expect(read).toBe(false);
  });

  it('a config dir not created yet is fine and skips the credential checks', async () => {
    const report = await runDoctor(inputs({ checkConfigDir: async () => 'missing' }));
    expect(report.problems).toBe(0);
    expect(byCheck(report.findings, 'config-dir')[0]!.message).toContain('does not exist yet');
    expect(byCheck(report.findings, 'credentials')).toEqual([]);
  });

  describe('storage', () => {
    const down = async () => {
      throw new LatchkeyError({
        code: 'KEYCHAIN_UNAVAILABLE',
        message: 'The OS keychain is not available: Platform failure: DBus error: autolaunch disabled',
        action: 'Start gnome-keyring',
      });
    };

    it('auto with a keychain that answers picks the keychain', async () => {
      const [storage] = byCheck((await runDoctor(inputs({ env: {} }))).findings, 'storage');
      expect(storage).toMatchObject({
        status: 'ok',
        message: 'Storage: auto picks the system keychain (it answered).',
      });
    });

    it('auto without a keychain says it uses the file and why; a note, not a problem', async () => {
      const report = await runDoctor(inputs({ env: {}, probeKeychain: down }));
      expect(report.problems).toBe(0);
      expect(byCheck(report.findings, 'storage')[0]).toMatchObject({
        status: 'note',
        message:
          'Storage: auto picks the file protected by its permissions (the key sits beside it) here, because the system keychain cannot be used: no system keychain is running here (no Secret Service on D-Bus).',
      });
      // The raw D-Bus text only with LATCHKEY_DEBUG.
      expect(describeDoctor(report)).not.toContain('DBus error');
      const debug = await runDoctor(inputs({ env: { LATCHKEY_DEBUG: '1' }, probeKeychain: down }));
      expect(describeDoctor(debug)).toContain(
        '(no Secret Service on D-Bus). (The OS keychain is not available: Platform failure: DBus error: autolaunch disabled)',
      );
    });

    it('a locked keychain and one that does not answer are said in words; on macOS "not available"', async () => {
      const failing = (code: string) => async () => {
        throw new LatchkeyError({ code, message: 'raw' });
      };
      const message = async (code: string, platform: NodeJS.Platform = 'linux') =>
        byCheck(
          (await runDoctor(inputs({ env: {}, platform, probeKeychain: failing(code) }))).findings,
          'storage',
        )[0]!.message;
      expect(await message('KEYCHAIN_LOCKED')).toMatch(/cannot be used: it is locked\.$/);
      expect(await message('KEYCHAIN_TIMEOUT')).toMatch(/cannot be used: it did not answer in time\.$/);
      expect(await message('KEYCHAIN_UNAVAILABLE', 'darwin')).toMatch(
        /cannot be used: it is not available here\.$/,
      );
      expect(await message('KEYCHAIN_ERROR')).toMatch(/cannot be used: raw$/);
    });

    it('LATCHKEY_STORAGE=keychain without a keychain is a problem', async () => {
      const report = await runDoctor(inputs({ env: { LATCHKEY_STORAGE: 'keychain' }, probeKeychain: down }));
      expect(byCheck(report.findings, 'storage')[0]).toMatchObject({
        status: 'problem',
        fix: 'Start gnome-keyring, or set LATCHKEY_STORAGE=auto to fall back to the file protected by its permissions (the key sits beside it).',
      });
    });

    it('LATCHKEY_STORAGE=passphrase: the file, its cost and whether LATCHKEY_FILE_PASSPHRASE opens it; the keychain is not asked', async () => {
      const file = '/home/ada/.config/latchkey/credentials.passphrase.enc';
      const noKeychain = async () => {
        throw new Error('keychain asked');
      };
      const finding = async (env: NodeJS.ProcessEnv, opens?: boolean, none = false) =>
        byCheck(
          (
            await runDoctor(
              inputs({
                env: { LATCHKEY_STORAGE: 'passphrase', ...env },
                probeKeychain: noKeychain,
                passphraseFile: async () => (none ? undefined : { params: { N: 131072, r: 8, p: 1 }, opens }),
              }),
            )
          ).findings,
          'storage',
        )[0];
      expect(await finding({ LATCHKEY_FILE_PASSPHRASE: 'pw-pw-pw-pw' }, true)).toEqual({
        check: 'storage',
        status: 'ok',
        message: `Storage: the passphrase file ${file} (LATCHKEY_STORAGE=passphrase, scrypt N=131072, r=8, p=1), its key from LATCHKEY_FILE_PASSPHRASE, which opens it.`,
      });
      expect(await finding({ LATCHKEY_FILE_PASSPHRASE: 'wrong-wrong' }, false)).toMatchObject({
        status: 'problem',
        message: `Storage: LATCHKEY_FILE_PASSPHRASE does not open the passphrase file ${file} (scrypt N=131072, r=8, p=1).`,
      });
      expect((await finding({}, undefined))!.message).toContain(
        'its key from a prompt in a terminal (without one, set LATCHKEY_FILE_PASSPHRASE).',
      );
      expect((await finding({}, undefined, true))!.message).toBe(
        `Storage: the passphrase file (LATCHKEY_STORAGE=passphrase), not created yet: the first sign-in creates ${file}, its key from a prompt in a terminal (without one, set LATCHKEY_FILE_PASSPHRASE).`,
      );
    });

    it('LATCHKEY_STORAGE=pass: pass installed, the store set up, its recipients and git; the keychain is not asked', async () => {
      const noKeychain = async () => {
        throw new Error('keychain asked');
      };
      const finding = async (passStore: DoctorInputs['passStore'], installed = true) =>
        byCheck(
          (
            await runDoctor(
              inputs({
                env: { LATCHKEY_STORAGE: 'pass' },
                probeKeychain: noKeychain,
                passStore,
                passInstalled: async () => installed,
              }),
            )
          ).findings,
          'storage',
        )[0]!;
      const team = { dir: '/team/store', recipients: ['AAA', 'BBB'], git: true, entries: 1 };
      expect(await finding(async () => team)).toEqual({
        check: 'storage',
        status: 'ok',
        message:
          "Storage: the pass store /team/store (LATCHKEY_STORAGE=pass): 2 recipients in .gpg-id, 1 latchkey entry, a git repository (share with pass git push; pass git pull for the team's changes).",
      });
      expect(await finding(async () => ({ ...team, recipients: undefined }))).toMatchObject({
        status: 'problem',
        message:
          'Storage: the pass store /team/store (LATCHKEY_STORAGE=pass) is not set up: it has no .gpg-id naming whom to encrypt for.',
      });
      expect(await finding(async () => team, false)).toMatchObject({
        status: 'problem',
        message: 'Storage: LATCHKEY_STORAGE=pass, but the pass command is not installed.',
      });
    });

    it('reports each backend that holds accounts, with its health, the keychain asked once', async () => {
      let probes = 0;
      const report = await runDoctor(
        inputs({
          env: { LATCHKEY_STORAGE: 'pass', LATCHKEY_FILE_PASSPHRASE: 'wrong-wrong' },
          accounts: async () => [
            { provider: 'nanogpt', account: 'a', backend: 'keychain' as const },
            { provider: 'nanogpt', account: 'b', backend: 'passphrase' as const },
            { provider: 'nanogpt', account: 'c', backend: 'passphrase' as const },
            { provider: 'acme', account: 'd', backend: 'pass' as const },
          ],
          probeKeychain: async () => {
            probes += 1;
            throw new LatchkeyError({ code: 'KEYCHAIN_LOCKED', message: 'locked', action: 'Unlock it' });
          },
          passphraseFile: async () => ({ params: { N: 131072, r: 8, p: 1 }, opens: false }),
          passStore: async () => ({ dir: '/team', recipients: ['AAA'], git: true, entries: 1 }),
        }),
      );
      expect(byCheck(report.findings, 'storage').map((f) => [f.status, f.message])).toEqual([
        [
          'ok',
          "Storage: the pass store /team (LATCHKEY_STORAGE=pass): 1 recipient in .gpg-id, 1 latchkey entry, a git repository (share with pass git push; pass git pull for the team's changes).",
        ],
        ['problem', 'Stored: 1 account in the system keychain, which cannot be used: it is locked.'],
        [
          'problem',
          'Stored: 2 accounts in the passphrase file /home/ada/.config/latchkey/credentials.passphrase.enc (scrypt N=131072, r=8, p=1), but LATCHKEY_FILE_PASSPHRASE does not open it.',
        ],
        ['ok', 'Stored: 1 account in the pass store.'],
      ]);
      expect(probes).toBe(1);
      expect(byCheck(report.findings, 'storage')[1]!.fix).toBe(
        'Unlock it; or move them once it answers: latchkey auth migrate --to passphrase',
      );
    });

    it('an invalid LATCHKEY_STORAGE is a problem, and the keychain is not asked', async () => {
      let asked = false;
      const report = await runDoctor(
        inputs({
          env: { LATCHKEY_STORAGE: 'cloud' },
          probeKeychain: async () => {
            asked = true;
          },
        }),
      );
      expect(byCheck(report.findings, 'storage')[0]).toMatchObject({
        status: 'problem',
        message:
          "Invalid LATCHKEY_STORAGE value 'cloud': expected one of auto, keychain, file, passphrase, pass.",
      });
      expect(asked).toBe(false);
    });
  });

  describe('network', () => {
    it('shows the proxy without its password, and NO_PROXY', async () => {
      const report = await runDoctor(
        inputs({
          env: {
            LATCHKEY_STORAGE: 'file',
            HTTPS_PROXY: 'http://ada:s3cret@proxy.corp:3128',
            NO_PROXY: 'localhost,.corp',
          },
        }),
      );
      const text = describeDoctor(report);
      expect(text).toContain('✓ Proxy: HTTPS_PROXY=http://***@proxy.corp:3128/\n');
      expect(text).toContain('✓ Proxy: not used for NO_PROXY=localhost,.corp\n');
      expect(text).not.toContain('s3cret');
    });

    it('a proxy that is not a URL, and CA files that cannot be read, are problems', async () => {
      const report = await runDoctor(
        inputs({
          env: { LATCHKEY_STORAGE: 'file', HTTP_PROXY: 'proxy corp', NODE_EXTRA_CA_CERTS: '/missing/ca.pem' },
          exists: async () => false,
          userNpmrc: async () => 'registry=https://npm.corp\ncafile=/etc/corp/ca.pem\n',
        }),
      );
      expect(byCheck(report.findings, 'network').map((f) => [f.status, f.message])).toEqual([
        ['problem', 'HTTP_PROXY is not a URL, so requests cannot go through it.'],
        ['problem', 'CA: NODE_EXTRA_CA_CERTS names /missing/ca.pem, which cannot be read.'],
        [
          'problem',
          "CA: npm's cafile names /etc/corp/ca.pem, which cannot be read; plugin installs will fail.",
        ],
      ]);
      expect(report.problems).toBe(3);
    });

    it("reads npm's cafile from the environment before the npmrc", async () => {
      const report = await runDoctor(
        inputs({
          env: { LATCHKEY_STORAGE: 'file', npm_config_cafile: '/env/ca.pem' },
          userNpmrc: async () => 'cafile=/rc/ca.pem',
        }),
      );
      expect(describeDoctor(report)).toContain(
        "✓ CA: npm's cafile /env/ca.pem (used by `latchkey plugins install`)",
      );
    });

    it('npmrcCafile reads the cafile line only', () => {
      expect(npmrcCafile('registry=x\n  cafile = "/a b/ca.pem"  \n')).toBe('/a b/ca.pem');
      expect(npmrcCafile('registry=x\n')).toBeUndefined();
      expect(npmrcCafile(undefined)).toBeUndefined();
    });
  });

  describe('plugins', () => {
    it('names a broken linked plugin with the reason and how to unlink it', async () => {
      const inventory: PluginInventory = {
        ...bundled,
        plugins: [...bundled.plugins, { name: 'latchkey-plugin-bad', version: '1.0.0', type: 'link' }],
        broken: [{ plugin: 'latchkey-plugin-bad', reason: 'its provider hook failed: boom' }],
      };
      const report = await runDoctor(inputs({ plugins: async () => inventory }));
      expect(report.problems).toBe(1);
      expect(byCheck(report.findings, 'plugins')).toContainEqual({
        check: 'plugins',
        status: 'problem',
        message: 'Plugin latchkey-plugin-bad@1.0.0 (linked) is broken: its provider hook failed: boom',
        fix: 'Fix and rebuild the plugin, or unlink it: latchkey plugins unlink latchkey-plugin-bad',
      });
    });

    it("an invalid static manifest in a plugin's package.json is a problem", async () => {
      const inventory: PluginInventory = {
        ...bundled,
        plugins: [...bundled.plugins, { name: 'acme', type: 'user', declared: { id: 'Not An Id' } }],
      };
      const [finding] = byCheck(
        (await runDoctor(inputs({ plugins: async () => inventory }))).findings,
        'plugins',
      ).filter((f) => f.status === 'problem');
      expect(finding!.message).toMatch(
        /^Plugin acme \(installed\) is broken: its package.json "latchkey.provider" is not valid: /,
      );
      expect(finding!.fix).toBe(
        'Update or reinstall it (latchkey plugins install acme), or remove it: latchkey plugins uninstall acme',
      );
    });

    it('conflicts and plugins without a provider are notes', async () => {
      const inventory: PluginInventory = {
        ...bundled,
        plugins: [...bundled.plugins, { name: 'extra-commands', type: 'user' }],
        conflicts: [{ id: 'nanogpt', winner: '@latchkey/plugin-nanogpt', ignored: ['evil-nanogpt'] }],
      };
      const report = await runDoctor(inputs({ plugins: async () => inventory }));
      expect(report.problems).toBe(0);
      expect(
        byCheck(report.findings, 'plugins')
          .filter((f) => f.status === 'note')
          .map((f) => f.message),
      ).toEqual([
        'Plugin extra-commands (installed) provides no provider.',
        'Provider id "nanogpt" is claimed by @latchkey/plugin-nanogpt and evil-nanogpt; @latchkey/plugin-nanogpt is used.',
      ]);
    });
  });

  describe('credentials', () => {
    it('a stale lock is a problem with the rm fix; a held one a note', async () => {
      const stale: LockState = {
        state: 'stale',
        path: '/d/.lock',
        holder: { pid: 4242, hostname: 'box' },
        mtimeMs: 0,
      };
      const report = await runDoctor(inputs({ lock: async () => stale }));
      expect(byCheck(report.findings, 'credentials')).toEqual([
        {
          check: 'credentials',
          status: 'problem',
          message: 'A stale lock /d/.lock was left by process 4242 on box, which is no longer running.',
          fix: "Remove it: rm '/d/.lock' (the next sign-in would also break it).",
        },
      ]);
      const held = await runDoctor(inputs({ lock: async () => ({ ...stale, state: 'held' }) }));
      expect(held.problems).toBe(0);
      expect(byCheck(held.findings, 'credentials')[0]).toMatchObject({ status: 'note' });
    });

    it('orphaned secrets and credentials of a provider no plugin provides are problems', async () => {
      const orphans: OrphanedSecret[] = [{ provider: 'nanogpt', account: 'old', backend: 'file' }];
      const report = await runDoctor(
        inputs({
          accounts: async () => [
            { provider: 'acme', account: 'work', backend: 'keychain' as const },
            { provider: 'acme', account: 'home', backend: 'keychain' as const },
          ],
          orphans: async () => orphans,
        }),
      );
      expect(byCheck(report.findings, 'credentials').map((f) => [f.message, f.fix])).toEqual([
        [
          'Credentials for "acme" are stored (work, home), but no installed plugin provides it.',
          'Reinstall its plugin (latchkey plugins install <package>), or remove them: latchkey auth logout --provider acme --all',
        ],
        [
          "A secret for nanogpt account 'old' in the file protected by its permissions (the key sits beside it) has no record (left by an interrupted write).",
          'Remove it: latchkey auth logout --provider nanogpt --all',
        ],
      ]);
      expect(describeDoctor(report).endsWith('\n2 problems to fix (see "Fix:" above).\n')).toBe(true);
    });

    it('a store that cannot be read is a problem with its own action', async () => {
      const report = await runDoctor(
        inputs({
          accounts: async () => {
            throw new LatchkeyError({
              code: 'STORAGE_CORRUPT',
              message: 'accounts.json is corrupt.',
              action: 'Move it aside.',
            });
          },
        }),
      );
      expect(byCheck(report.findings, 'credentials')).toEqual([
        {
          check: 'credentials',
          status: 'problem',
          message: 'accounts.json is corrupt.',
          fix: 'Move it aside.',
        },
      ]);
    });
  });
});
