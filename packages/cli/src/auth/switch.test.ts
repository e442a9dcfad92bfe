/**
 * `auth switch` with fakes only: the default, a directory choice and its removal, the provider and account
 * asked for in a terminal and a usage error in a pipe, unknown names, and the variables that still win.
 */
import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeHosts, fakeProvider, rejection, type FakeHost } from '../testing/fake-host.js';
import {
  describeSwitch,
  providerGivenAsDir,
  shownDirectory,
  switchAccount,
  withOptionalDirValue,
} from './switch.js';

const start = fakeHosts();
const providers = () => [fakeProvider({ id: 'acme' }), fakeProvider({ id: 'beta' })];

async function seeded(options: Parameters<typeof start>[0] = {}): Promise<FakeHost> {
  const h = await start({ providers: providers(), ...options });
  for (const account of ['ada', 'grace']) {
    await h.store.save({ provider: 'acme', account, secret: `acme-${account}` });
  }
  await h.store.save({ provider: 'beta', account: 'bob', secret: 'beta-bob' });
  return h;
}

const defaultOf = async (h: FakeHost, provider: string) =>
  (await h.store.list(provider)).find((r) => r.active)?.account;

describe('auth switch: the default account', () => {
  it('--provider --account makes that account the default', async () => {
    const h = await seeded();
    const outcome = await switchAccount(h.runtime, {
      provider: 'acme',
      account: 'grace',
      unset: false,
      cwd: '/',
    });
    expect(outcome).toEqual({ provider: 'acme', title: 'Acme', account: 'grace', scope: 'default' });
    expect(await defaultOf(h, 'acme')).toBe('grace');
    expect(describeSwitch(outcome, h.runtime.env.HOME)).toEqual(['✓ grace is now the default Acme account.']);
  });

  it('in a terminal, asks for the provider and then the account (the default marked)', async () => {
    const h = await seeded({ interactive: true, answers: ['acme', 'grace'] });
    await switchAccount(h.runtime, { unset: false, cwd: '/' });
    expect(h.prompts).toEqual([
      {
        kind: 'select',
        message: 'Which provider to switch accounts of?',
        choices: ['Acme (acme)', 'Beta (beta)'],
      },
      { kind: 'select', message: 'Which Acme account?', choices: ['ada (default)', 'grace'] },
    ]);
    expect(await defaultOf(h, 'acme')).toBe('grace');
  });

  it.each([
    [
      {},
      '--provider is required: more than one provider applies to switch accounts of.',
      'Pass --provider with one of: acme, beta.',
    ],
    [
      { provider: 'acme' },
      '--account is required: there is no terminal to ask which Acme account.',
      'Pass --account with one of: ada, grace.',
    ],
  ])(
    'in a pipe, a left-out choice is a usage error listing the choices: %j',
    async (given, message, action) => {
      const h = await seeded();
      const error = await rejection(switchAccount(h.runtime, { ...given, unset: false, cwd: '/' }));
      expect(error).toMatchObject({ exitCode: 2, message, action });
      expect(await defaultOf(h, 'acme')).toBe('ada');
    },
  );

  it('an account that is not stored: exit 4 listing the stored ones, nothing changed', async () => {
    const h = await seeded();
    const error = await rejection(
      switchAccount(h.runtime, { provider: 'acme', account: 'bob', unset: false, cwd: '/' }),
    );
    expect(error).toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
      exitCode: 4,
      message: "No Acme account named 'bob' is stored.",
    });
    expect(error.action).toContain('ada, grace');
    expect(await defaultOf(h, 'acme')).toBe('ada');
  });

  it.each([
    [{ provider: 'nope' }, 2, 'Unknown provider "nope".'],
    [{ provider: 'beta' }, 4, 'No stored account for Beta: there is nothing to switch to.'],
    [{}, 4, 'No stored accounts: there is nothing to switch to.'],
  ])('refuses %j when there is nothing to switch to', async (given, exitCode, message) => {
    const h = await start({ providers: providers() });
    const error = await rejection(switchAccount(h.runtime, { ...given, unset: false, cwd: '/' }));
    expect(error).toMatchObject({ exitCode, message });
  });

  it('warns when a variable set here wins over the choice', async () => {
    const h = await seeded({ env: { LATCHKEY_ACME_ACCOUNT: 'ada' } });
    const outcome = await switchAccount(h.runtime, {
      provider: 'acme',
      account: 'grace',
      unset: false,
      cwd: '/',
    });
    expect(outcome.overriddenBy).toBe('LATCHKEY_ACME_ACCOUNT');
    expect(h.stderr()).toBe(
      '! LATCHKEY_ACME_ACCOUNT is set here and wins over this choice until you unset it.\n',
    );
  });
});

describe('auth switch --dir', () => {
  it('records the choice for that directory tree in the config; the default is unchanged', async () => {
    const h = await seeded();
    const home = await realpath(h.runtime.env.HOME!);
    const project = join(home, 'work', 'api');
    await mkdir(project, { recursive: true });
    const outcome = await switchAccount(h.runtime, {
      provider: 'acme',
      account: 'grace',
      dir: '.',
      unset: false,
      cwd: project,
    });
    expect(outcome).toMatchObject({ account: 'grace', scope: 'directory', directory: project });
    expect(await h.store.directoryChoices('acme')).toEqual([
      { provider: 'acme', dir: project, account: 'grace' },
    ]);
    expect(await defaultOf(h, 'acme')).toBe('ada');
    expect(describeSwitch(outcome, home)).toEqual([
      '✓ Acme uses grace in ~/work/api and below.',
      '  Recorded in your latchkey config, not in the directory.',
    ]);
    const chosen = await h.store.choose('acme', { cwd: join(project, 'src') });
    expect(chosen).toMatchObject({ record: { account: 'grace' }, chosenBy: 'directory', detail: project });
  });

  it('a relative path is taken from the current directory', async () => {
    const h = await seeded();
    const home = await realpath(h.runtime.env.HOME!);
    await mkdir(join(home, 'a', 'b'), { recursive: true });
    const outcome = await switchAccount(h.runtime, {
      provider: 'acme',
      account: 'grace',
      dir: 'b',
      unset: false,
      cwd: join(home, 'a'),
    });
    expect(outcome.directory).toBe(join(home, 'a', 'b'));
  });

  it('--unset removes the choice and says what it was; again, it says there was none', async () => {
    const h = await seeded();
    const home = await realpath(h.runtime.env.HOME!);
    await switchAccount(h.runtime, { provider: 'acme', account: 'grace', dir: '.', unset: false, cwd: home });
    const removed = await switchAccount(h.runtime, { provider: 'acme', dir: '.', unset: true, cwd: home });
    expect(removed).toMatchObject({ scope: 'directory', removed: 'grace', directory: home });
    expect(removed.account).toBeUndefined();
    expect(describeSwitch(removed, home)).toEqual([
      '✓ Removed the Acme account choice for ~ (it was grace).',
    ]);
    expect(await h.store.directoryChoices('acme')).toEqual([]);
    const again = await switchAccount(h.runtime, { provider: 'acme', dir: '.', unset: true, cwd: home });
    expect(describeSwitch(again, home)).toEqual([
      '✓ There was no Acme account choice for ~; nothing changed.',
    ]);
  });

  it('a path that is not there, or a file: exit 2 saying what to do, nothing recorded; --force records it', async () => {
    const h = await seeded();
    const home = await realpath(h.runtime.env.HOME!);
    await writeFile(join(home, 'app.env'), 'X=1\n');
    const missing = await rejection(
      switchAccount(h.runtime, {
        provider: 'acme',
        account: 'grace',
        dir: '../nonexistent',
        unset: false,
        cwd: home,
      }),
    );
    expect(missing).toMatchObject({
      exitCode: 2,
      message: `--dir ../nonexistent: there is no directory ${join(home, '..', 'nonexistent')}.`,
      action:
        'Check the path (it is taken from the current directory), create the directory first, or pass --force to record the choice anyway.',
    });
    const file = await rejection(
      switchAccount(h.runtime, {
        provider: 'acme',
        account: 'grace',
        dir: 'app.env',
        unset: false,
        cwd: home,
      }),
    );
    expect(file).toMatchObject({
      exitCode: 2,
      message: `--dir app.env: ${join(home, 'app.env')} is a file, not a directory.`,
      action:
        'Name the directory the choice is for (`--dir .` for the one that holds it), or pass --force to record it anyway.',
    });
    expect(await h.store.directoryChoices('acme')).toEqual([]);
    const forced = await switchAccount(h.runtime, {
      provider: 'acme',
      account: 'grace',
      dir: 'later',
      unset: false,
      force: true,
      cwd: home,
    });
    expect(forced.directory).toBe(join(home, 'later'));
    expect(await h.store.directoryChoices('acme')).toEqual([
      { provider: 'acme', dir: join(home, 'later'), account: 'grace' },
    ]);
    // Removing the choice of a directory that is gone needs no --force.
    await switchAccount(h.runtime, { provider: 'acme', dir: 'later', unset: true, cwd: home });
    expect(await h.store.directoryChoices('acme')).toEqual([]);
  });

  it('stores the real path: a directory reached through a symlink is recorded as its target', async () => {
    const h = await seeded();
    const home = await realpath(h.runtime.env.HOME!);
    await mkdir(join(home, 'real', 'api'), { recursive: true });
    await symlink(join(home, 'real'), join(home, 'link'));
    const outcome = await switchAccount(h.runtime, {
      provider: 'acme',
      account: 'grace',
      dir: 'link/api',
      unset: false,
      cwd: home,
    });
    expect(outcome.directory).toBe(join(home, 'real', 'api'));
    expect(await h.store.directoryChoices('acme')).toEqual([
      { provider: 'acme', dir: join(home, 'real', 'api'), account: 'grace' },
    ]);
  });

  it('`--dir acme` with no provider given: acme is the provider and the directory is the current one', async () => {
    const h = await seeded();
    const home = await realpath(h.runtime.env.HOME!);
    const outcome = await switchAccount(h.runtime, {
      account: 'grace',
      dir: 'acme',
      unset: false,
      cwd: home,
    });
    expect(outcome).toMatchObject({
      provider: 'acme',
      account: 'grace',
      scope: 'directory',
      directory: home,
    });
    expect(
      providerGivenAsDir({ provider: 'beta', dir: 'acme', unset: false, cwd: '/' }, new Set(['acme'])),
    ).toMatchObject({
      provider: 'beta',
      dir: 'acme',
    });
    expect(providerGivenAsDir({ dir: './acme', unset: false, cwd: '/' }, new Set(['acme']))).toMatchObject({
      dir: './acme',
    });
  });

  it.each([
    [{ unset: true }, '--unset removes a directory choice: it needs --dir.'],
    [{ unset: true, dir: '.', account: 'ada' }, '--unset and --account cannot be used together.'],
  ])('%j is a usage error', async (given, message) => {
    const h = await seeded();
    const error = await rejection(switchAccount(h.runtime, { provider: 'acme', cwd: '/', ...given }));
    expect(error).toMatchObject({ exitCode: 2, message });
  });
});

describe('auth switch: --dir without a value', () => {
  it.each([
    [['--dir'], ['--dir=.']],
    [
      ['--dir', '--unset'],
      ['--dir=.', '--unset'],
    ],
    [
      ['--dir', 'api', '--unset'],
      ['--dir', 'api', '--unset'],
    ],
    [['--dir=api'], ['--dir=api']],
    [
      ['--provider', 'acme'],
      ['--provider', 'acme'],
    ],
  ])('%j -> %j', (argv, expected) => {
    expect(withOptionalDirValue(argv)).toEqual(expected);
  });

  it.each([
    ['/home/ada/work/api', '/home/ada', '~/work/api'],
    ['/home/ada', '/home/ada', '~'],
    ['/home/adam/x', '/home/ada', '/home/adam/x'],
    ['/srv/x', undefined, '/srv/x'],
  ])('shows %s under HOME=%s as %s', (dir, home, shown) => {
    expect(shownDirectory(dir, home)).toBe(shown);
  });
});
