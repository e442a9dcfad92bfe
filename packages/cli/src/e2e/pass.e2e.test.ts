/**
 * The `pass` backend (`LATCHKEY_STORAGE=pass`) with the real pass, gpg and git from Debian, through the
 * built binary: two GPG identities in private GNUPGHOMEs under this test's own temp directory (no
 * passphrase on their keys), a bare git repository as the team's remote. User A signs in and pushes; user
 * B clones, and `auth token` prints the same token from B's own config directory, which never saw a login
 * (the store is the index); B is removed from `.gpg-id`, the store re-encrypted and pulled: B can no longer
 * read it (exit 4). An entry latchkey did not write, or one renamed, is refused; a locked key and an absent
 * agent are clear errors, never "not signed in" or another backend. Skips without pass, and fails in CI
 * without it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks } from '@latchkey/conformance/tools';
import {
  E2eFile,
  RUN_TIMEOUT_MS,
  expectExit,
  expectSecretNotOnDisk,
  newKey,
  readIndex,
  type CliSession,
} from './harness.js';

const tool = (name: string) => spawnSync(name, ['--version'], { encoding: 'utf8' }).status === 0;
const hasPass = tool('pass') && tool('gpg') && tool('git');
const inCi = Boolean(process.env.CI && process.env.CI !== 'false');

const file = new E2eFile();
let root: string;
const homes: string[] = [];

/** Who the commits are from, and no git or gpg configuration of the machine's user. */
function toolEnv(home: string, store: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(root, 'home'),
    GNUPGHOME: home,
    PASSWORD_STORE_DIR: store,
    GIT_AUTHOR_NAME: 'latchkey test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'latchkey test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
    GIT_CONFIG_NOSYSTEM: '1',
    LC_ALL: 'C',
  };
}

/** Runs pass, gpg or git; throws with its stderr when it fails. */
function sh(command: string, args: string[], env: Record<string, string>, input?: string): string {
  const r = spawnSync(command, args, { env, input, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A GPG identity with no passphrase (or with one: a key that stays locked without a terminal). */
async function identity(name: string, passphrase = ''): Promise<{ home: string; fpr: string }> {
  const home = join(root, `gnupg-${name}`);
  await mkdir(home, { mode: 0o700 });
  homes.push(home);
  const env = toolEnv(home, join(root, 'none'));
  sh(
    'gpg',
    [
      '--batch',
      '--pinentry-mode',
      'loopback',
      '--passphrase',
      passphrase,
      '--quick-gen-key',
      `${name} <${name}@example.com>`,
      'default',
      'default',
      'never',
    ],
    env,
  );
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(sh('gpg', ['--list-keys', '--with-colons'], env))![1]!;
  return { home, fpr };
}

/** `to` can encrypt for `from` (its public key imported and trusted). */
function trust(from: { home: string; fpr: string }, to: { home: string }): void {
  const key = sh('gpg', ['--export', '--armor', from.fpr], toolEnv(from.home, ''));
  sh('gpg', ['--batch', '--import'], toolEnv(to.home, ''), key);
  sh('gpg', ['--batch', '--import-ownertrust'], toolEnv(to.home, ''), `${from.fpr}:6:\n`);
}

let alice: { home: string; fpr: string };
let bob: { home: string; fpr: string };
let remote: string;

beforeAll(async () => {
  if (!hasPass) return;
  root = await mkdtemp(join(tmpdir(), 'latchkey-pass-'));
  await mkdir(join(root, 'home'));
  alice = await identity('alice');
  bob = await identity('bob');
  trust(bob, alice);
  trust(alice, bob);
  remote = join(root, 'team.git');
  sh('git', ['init', '--quiet', '--bare', remote], toolEnv(alice.home, ''));
}, 120_000);

afterAll(async () => {
  await file.cleanup();
  for (const home of homes) spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: toolEnv(home, '') });
  if (root) await rm(root, { recursive: true, force: true });
});

/** latchkey for one person: their GNUPGHOME, their store, LATCHKEY_STORAGE=pass. */
function as(session: CliSession, person: { home: string }, store: string) {
  return (args: string[], options: { input?: string; env?: Record<string, string | undefined> } = {}) =>
    session.run(args, {
      timeoutMs: RUN_TIMEOUT_MS,
      ...(options.input !== undefined && { input: options.input }),
      env: {
        ...toolEnv(person.home, store),
        HOME: session.homeDir,
        LATCHKEY_STORAGE: 'pass',
        ...options.env,
      },
    });
}

describe.runIf(hasPass)('the pass backend: a team store through git', () => {
  it('A signs in and pushes; B pulls and gets the same token; B removed from .gpg-id and re-encrypted: B cannot read it', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    // A's store: both members as recipients, a git repository with the bare remote.
    const storeA = join(root, 'store-a');
    const a = toolEnv(alice.home, storeA);
    sh('pass', ['init', alice.fpr, bob.fpr], a);
    sh('pass', ['git', 'init'], a);
    sh('pass', ['git', 'remote', 'add', 'origin', remote], a);

    const sessionA = await file.session();
    const latchkeyA = as(sessionA, alice, storeA);
    const login = await latchkeyA(
      [
        'auth',
        'login',
        '--provider',
        'nanogpt',
        '--with-token',
        '--name',
        'team-bot',
        '--base-url',
        emulator.url,
      ],
      { input: `${key}\n` },
    );
    expectExit(login, 0);
    expect(login.stderr).toContain(
      `Stored in the pass store ${storeA} (GPG, for the recipients in its .gpg-id).`,
    );
    // One entry, written with pass (its first line the secret, as pass users expect) and committed.
    expect(sh('pass', ['show', 'latchkey/nanogpt/team-bot'], a).split('\n')[0]).toBe(key);
    expect(sh('git', ['-C', storeA, 'log', '--format=%s', '-1'], a)).toContain('latchkey/nanogpt/team-bot');
    // A's config keeps personal choices only: no account record, the default, where the store is.
    const indexA = (await readIndex(sessionA.configDir))!;
    expect(indexA.accounts).toEqual([]);
    expect(indexA.active).toEqual({ nanogpt: 'team-bot' });
    expect((indexA as { passStore?: string }).passStore).toBe(storeA);
    await expectSecretNotOnDisk(sessionA.configDir, key);
    await expectSecretNotOnDisk(storeA, key);
    const tokenA = await latchkeyA(['auth', 'token', '--provider', 'nanogpt']);
    expectExit(tokenA, 0);
    expect(tokenA.stdout).toBe(`${key}\n`);
    sh('pass', ['git', 'push', '--quiet', 'origin', 'HEAD'], a);

    // B: a clone of the team's store, a config directory that never saw a login.
    const storeB = join(root, 'store-b');
    sh('git', ['clone', '--quiet', remote, storeB], toolEnv(bob.home, storeB));
    const sessionB = await file.session();
    const latchkeyB = as(sessionB, bob, storeB);
    const tokenB = await latchkeyB(['auth', 'token', '--provider', 'nanogpt']);
    expectExit(tokenB, 0);
    expect(tokenB.stdout).toBe(`${key}\n`);
    const status = await latchkeyB(['auth', 'status', '--provider', 'nanogpt']);
    expectExit(status, 0);
    expect(status.stdout).toContain('team-bot (active): valid');
    expect(status.stdout).toContain(
      `Source:     stored in the pass store ${storeB} (GPG, for the recipients in its .gpg-id)`,
    );
    expect(status.stdout).toContain(`Base URL:   ${emulator.url}`);

    const doctor = await latchkeyB(['doctor']);
    expect(doctor.stdout).toContain(
      `✓ Storage: the pass store ${storeB} (LATCHKEY_STORAGE=pass): 2 recipients in .gpg-id, 1 latchkey entry, a git repository`,
    );
    expect(doctor.stdout).toContain('✓ Stored: 1 account in the pass store.\n');

    // B leaves the team: A re-encrypts the store for A alone (pass commits it) and pushes; B pulls.
    sh('pass', ['init', alice.fpr], a);
    sh('pass', ['git', 'push', '--quiet', 'origin', 'HEAD'], a);
    sh('git', ['-C', storeB, 'pull', '--quiet', '--ff-only'], toolEnv(bob.home, storeB));
    const refused = await latchkeyB(['auth', 'token', '--provider', 'nanogpt']);
    expectExit(refused, 4);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('is not encrypted for any GPG key you have');
    // A still reads it.
    expect((await latchkeyA(['auth', 'token', '--provider', 'nanogpt'])).stdout).toBe(`${key}\n`);
    assertNoSecretLeaks(file.runs(), file.secrets());
  }, 300_000);

  it('refuses an entry latchkey did not write, and one moved to another name (STORAGE_TAMPERED, exit 1)', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const store = join(root, 'store-foreign');
    const env = toolEnv(alice.home, store);
    sh('pass', ['init', alice.fpr], env);
    const session = await file.session();
    const latchkey = as(session, alice, store);
    const login = await latchkey(
      [
        'auth',
        'login',
        '--provider',
        'nanogpt',
        '--with-token',
        '--name',
        'real',
        '--base-url',
        emulator.url,
      ],
      { input: `${key}\n` },
    );
    expectExit(login, 0);
    // By hand: a bare token under latchkey's folder, and latchkey's own entry copied to another name.
    const planted = file.secret(newKey());
    sh('pass', ['insert', '--multiline', 'latchkey/nanogpt/planted'], env, `${planted}\n`);
    sh('pass', ['cp', 'latchkey/nanogpt/real', 'latchkey/nanogpt/copied'], env);
    for (const account of ['planted', 'copied']) {
      const run = await latchkey(['auth', 'token', '--provider', 'nanogpt', '--account', account]);
      expectExit(run, 1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('is not an entry latchkey wrote for this account');
    }
    expect((await latchkey(['auth', 'token', '--provider', 'nanogpt', '--account', 'real'])).stdout).toBe(
      `${key}\n`,
    );
    assertNoSecretLeaks(file.runs(), file.secrets());
  }, 120_000);

  it('auth migrate moves a file account into the store and back out: readable at every end, the other copy gone', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const store = join(root, 'store-migrate');
    const env = toolEnv(alice.home, store);
    sh('pass', ['init', alice.fpr], env);
    sh('pass', ['git', 'init'], env);
    const session = await file.session();
    const latchkey = as(session, alice, store);
    const login = await latchkey(
      [
        'auth',
        'login',
        '--provider',
        'nanogpt',
        '--with-token',
        '--name',
        'moved',
        '--base-url',
        emulator.url,
      ],
      { input: `${key}\n`, env: { LATCHKEY_STORAGE: 'file' } },
    );
    expectExit(login, 0);
    const into = await latchkey(['auth', 'migrate', '--to', 'pass'], { env: { LATCHKEY_STORAGE: 'file' } });
    expectExit(into, 0);
    expect(into.stderr).toContain("✓ Moved nanogpt account 'moved' from the file backend to the pass store.");
    expect(sh('pass', ['show', 'latchkey/nanogpt/moved'], env).split('\n')[0]).toBe(key);
    expect(sh('git', ['-C', store, 'log', '--format=%s', '-1'], env)).toContain('latchkey/nanogpt/moved');
    expect((await readdir(session.configDir)).filter((n) => n.startsWith('credentials'))).toEqual([]);
    // The config directory remembers the store: read without LATCHKEY_STORAGE=pass.
    const token = await latchkey(['auth', 'token', '--provider', 'nanogpt'], {
      env: { LATCHKEY_STORAGE: 'file' },
    });
    expectExit(token, 0);
    expect(token.stdout).toBe(`${key}\n`);
    const out = await latchkey(['auth', 'migrate', '--to', 'file']);
    expectExit(out, 0);
    expect(existsSync(join(store, 'latchkey/nanogpt/moved.gpg'))).toBe(false);
    expect((await readIndex(session.configDir))?.accounts.map((r) => r.backend)).toEqual(['file']);
    expect((await latchkey(['auth', 'token', '--provider', 'nanogpt'])).stdout).toBe(`${key}\n`);
    assertNoSecretLeaks(file.runs(), file.secrets());
  }, 120_000);

  it('a locked key, an absent agent and a store not set up are clear errors; nothing falls back to another backend', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const carol = await identity('carol', 'carol has a passphrase');
    const store = join(root, 'store-locked');
    const env = toolEnv(carol.home, store);
    sh('pass', ['init', carol.fpr], env);
    const session = await file.session();
    const latchkey = as(session, carol, store);
    // Encrypting needs only the public key: the login works.
    const login = await latchkey(
      [
        'auth',
        'login',
        '--provider',
        'nanogpt',
        '--with-token',
        '--name',
        'locked',
        '--base-url',
        emulator.url,
      ],
      { input: `${key}\n` },
    );
    expectExit(login, 0);
    spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env });
    const locked = await latchkey(['auth', 'token', '--provider', 'nanogpt']);
    expectExit(locked, 1);
    expect(locked.stdout).toBe('');
    expect(locked.stderr).toContain('Your GPG key is locked');
    // No agent (and none started): said so, not "not signed in".
    spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env });
    const noAgent = await latchkey(['auth', 'token', '--provider', 'nanogpt'], {
      env: { PASSWORD_STORE_GPG_OPTS: '--no-autostart' },
    });
    spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env });
    expectExit(noAgent, 1);
    expect(noAgent.stderr).toContain('GPG could not reach its agent');
    // Nothing went anywhere else.
    expect((await readdir(session.configDir)).filter((n) => n.startsWith('credentials'))).toEqual([]);

    // A store without .gpg-id: the login stops before writing, and stores nothing anywhere.
    const empty = join(root, 'store-empty');
    const other = await file.session();
    const notSetUp = await as(
      other,
      carol,
      empty,
    )(['auth', 'login', '--provider', 'nanogpt', '--with-token', '--name', 'x', '--base-url', emulator.url], {
      input: `${key}\n`,
    });
    expectExit(notSetUp, 1);
    expect(notSetUp.stderr).toContain(`The pass store ${empty} is not set up`);
    expect(existsSync(empty)).toBe(false);
    expect((await readIndex(other.configDir))?.accounts ?? []).toEqual([]);
    expect(await readFile(join(store, '.gpg-id'), 'utf8')).toContain(carol.fpr);
    assertNoSecretLeaks(file.runs(), file.secrets());
  }, 120_000);
});

it.runIf(!hasPass && inCi)(
  'pass, gpg and git are installed in CI (the pass tests must not skip there)',
  () => {
    expect(hasPass).toBe(true);
  },
);
