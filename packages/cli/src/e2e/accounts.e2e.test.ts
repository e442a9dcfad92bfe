/**
 * Several accounts per provider through the built binary: two NanoTerm keys on the NanoTerm emulator and
 * two Kaneo users on a real better-auth server. Login twice (replace, add without becoming the default),
 * `auth switch` (default, --dir, --unset), `auth status` saying what chose the account, and logout with
 * several accounts in a pipe.
 */
import { realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, createCliSession, type CliSession } from '@latchkey/conformance/tools';
import { startNanoTermEmulator, type NanoTermEmulator } from '@latchkey/testkit';
import { startKaneoServer, type KaneoServer } from '@latchkey/testkit/kaneo';
import { RUN_TIMEOUT_MS, expectExit, readIndex } from './harness.js';

const closers: Array<() => Promise<void>> = [];
const sessions: CliSession[] = [];
const secrets: string[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
});

async function newSession(): Promise<CliSession> {
  const session = await createCliSession();
  sessions.push(session);
  return session;
}

const run = (session: CliSession, args: string[], input?: string, env: Record<string, string> = {}) =>
  session.run(args, { input, env, timeoutMs: RUN_TIMEOUT_MS });

interface Envelope {
  status: number;
  result?: { credentials: Array<{ account: string; active: boolean; chosenBy?: unknown }> } & Record<
    string,
    unknown
  >;
  error?: { code: string; action?: string };
}
const json = (stdout: string) => JSON.parse(stdout) as Envelope;

describe('two NanoTerm keys', () => {
  async function setup() {
    const emulator: NanoTermEmulator = await startNanoTermEmulator();
    closers.push(() => emulator.close());
    const session = await newSession();
    const work = emulator.createKey({ name: 'work', permission: 'full' }).key;
    const personal = emulator.createKey({ name: 'personal', permission: 'full' }).key;
    secrets.push(work, personal);
    const login = (key: string, extra: string[] = []) =>
      run(
        session,
        ['auth', 'login', '--provider', 'nanoterm', '--with-token', '--base-url', emulator.url, ...extra],
        `${key}\n`,
      );
    const token = (extra: string[] = [], env: Record<string, string> = {}) =>
      run(session, ['auth', 'token', '--provider', 'nanoterm', ...extra], undefined, env);
    return { emulator, session, work, personal, login, token };
  }

  it('login twice, switch the default, choose per directory, unset, and status says why', async () => {
    const { session, work, personal, login, token } = await setup();
    const home = await realpath(session.homeDir);

    const first = await login(work, ['--name', 'work']);
    expectExit(first, 0);
    expect(first.stderr).toContain('✓ Logged in to NanoTerm as work');

    // A new identity in a pipe: added, not the default, and the output says how to switch.
    const second = await login(personal, ['--name', 'personal']);
    expectExit(second, 0);
    expect(second.stderr).toContain(
      'Stored as personal; the default stays work. Use it with --account personal, or make it the default: latchkey auth switch --provider nanoterm --account personal',
    );
    expect((await readIndex(session.configDir))?.active).toEqual({ nanoterm: 'work' });
    expect((await token()).stdout).toBe(`${work}\n`);
    expect((await token(['--account', 'personal'])).stdout).toBe(`${personal}\n`);

    // The same identity again: replaced, and said so.
    const again = await login(work, ['--name', 'work']);
    expectExit(again, 0);
    expect(again.stderr).toContain('Replaced the stored credential for work.');
    expect((await readIndex(session.configDir))?.accounts.map((a) => a.account).sort()).toEqual([
      'personal',
      'work',
    ]);

    // The default.
    const switched = await run(session, [
      'auth',
      'switch',
      '--provider',
      'nanoterm',
      '--account',
      'personal',
    ]);
    expectExit(switched, 0);
    expect(switched.stderr).toBe('✓ personal is now the default NanoTerm account.\n');
    expect((await token()).stdout).toBe(`${personal}\n`);
    let status = await run(session, ['auth', 'status', '--provider', 'nanoterm']);
    expectExit(status, 0);
    expect(status.stdout).toMatch(/personal \(active\): valid\n.*\n.*Chosen by: {2}default\n/);

    // The current directory (the session's home) and below, with --dir alone: --json envelope.
    const dir = await run(session, [
      'auth',
      'switch',
      '--provider',
      'nanoterm',
      '--account',
      'work',
      '--dir',
      '--json',
    ]);
    expectExit(dir, 0);
    expect(json(dir.stdout)).toEqual({
      status: 0,
      result: {
        provider: 'nanoterm',
        title: 'NanoTerm',
        account: 'work',
        scope: 'directory',
        directory: home,
      },
      warnings: [],
    });
    expect(dir.stderr).toContain(`✓ NanoTerm uses work in ~ and below.`);
    expect((await readIndex(session.configDir)) as unknown).toMatchObject({
      active: { nanoterm: 'personal' },
      directories: { [home]: { nanoterm: 'work' } },
    });
    expect((await token()).stdout).toBe(`${work}\n`);
    status = await run(session, ['auth', 'status', '--provider', 'nanoterm', '--json']);
    const rows = json(status.stdout).result!.credentials;
    expect(rows.map((r) => [r.account, r.active, r.chosenBy])).toEqual(
      expect.arrayContaining([
        ['work', true, { by: 'directory', detail: home }],
        ['personal', false, undefined],
      ]),
    );
    status = await run(session, ['auth', 'status', '--provider', 'nanoterm']);
    expect(status.stdout).toContain('Chosen by:  directory ~ (auth switch --dir)');

    // LATCHKEY_NANOTERM_ACCOUNT beats the directory; --account beats both.
    const env = { LATCHKEY_NANOTERM_ACCOUNT: 'personal' };
    expect((await token([], env)).stdout).toBe(`${personal}\n`);
    status = await run(session, ['auth', 'status', '--provider', 'nanoterm'], undefined, env);
    expect(status.stdout).toContain('Chosen by:  LATCHKEY_NANOTERM_ACCOUNT');
    status = await run(
      session,
      ['auth', 'status', '--provider', 'nanoterm', '--account', 'work'],
      undefined,
      env,
    );
    expect(status.stdout).toContain('Chosen by:  --account');
    expect(status.stdout).not.toContain('personal');

    // A choice for another directory does not apply here; --unset removes this one.
    const elsewhere = await run(session, [
      'auth',
      'switch',
      '--provider',
      'nanoterm',
      '--account',
      'personal',
      '--dir=/',
    ]);
    expectExit(elsewhere, 0);
    expect((await token()).stdout).toBe(`${work}\n`);
    const unset = await run(session, ['auth', 'switch', '--provider', 'nanoterm', '--dir', '--unset']);
    expectExit(unset, 0);
    expect(unset.stderr).toBe('✓ Removed the NanoTerm account choice for ~ (it was work).\n');
    // The choice for / now applies (the nearest directory at or above the home).
    expect((await token()).stdout).toBe(`${personal}\n`);
    status = await run(session, ['auth', 'status', '--provider', 'nanoterm']);
    expect(status.stdout).toContain('Chosen by:  directory / (auth switch --dir)');

    assertNoSecretLeaks(session.runs, secrets);
  });

  it('unknown names exit 4 listing the stored ones; logout with several in a pipe is a usage error', async () => {
    const { session, work, personal, login } = await setup();
    expectExit(await login(work, ['--name', 'work']), 0);
    expectExit(await login(personal, ['--name', 'personal']), 0);

    for (const args of [
      ['auth', 'status', '--provider', 'nanoterm', '--account', 'nope'],
      ['auth', 'switch', '--provider', 'nanoterm', '--account', 'nope'],
      ['auth', 'logout', '--provider', 'nanoterm', '--account', 'nope'],
    ]) {
      const refused = await run(session, [...args, '--json']);
      expectExit(refused, 4);
      expect(json(refused.stdout).error).toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
      expect(json(refused.stdout).error!.action).toContain('personal, work');
    }

    const noTerminal = await run(session, ['auth', 'switch', '--provider', 'nanoterm']);
    expectExit(noTerminal, 2);
    expect(noTerminal.stderr).toContain('Pass --account with one of: personal, work.');

    const logout = await run(session, ['auth', 'logout', '--provider', 'nanoterm']);
    expectExit(logout, 2);
    expect(logout.stderr).toContain('--account is required: NanoTerm has 2 stored accounts.');
    expect((await readIndex(session.configDir))?.accounts).toHaveLength(2);

    const one = await run(session, ['auth', 'logout', '--provider', 'nanoterm', '--account', 'work']);
    expectExit(one, 0);
    expect(one.stderr).toContain('✓ Logged out of NanoTerm (work)');
    expect((await readIndex(session.configDir))?.active).toEqual({ nanoterm: 'personal' });
    expectExit(await run(session, ['auth', 'logout', '--provider', 'nanoterm']), 0);
  });

  it('--dir needs a directory; `--dir nanoterm` is the provider; --account alone finds it; logout --all with nothing is exit 4', async () => {
    const { session, work, personal, login } = await setup();
    const home = await realpath(session.homeDir);
    expectExit(await login(work, ['--name', 'work']), 0);
    expectExit(await login(personal, ['--name', 'personal']), 0);
    await writeFile(join(home, 'app.env'), 'X=1\n');

    const choose = ['auth', 'switch', '--provider', 'nanoterm', '--account', 'work'];
    const missing = await run(session, [...choose, '--dir', '../latchkey-no-such-dir']);
    expectExit(missing, 2);
    expect(missing.stderr).toBe(
      `latchkey: --dir ../latchkey-no-such-dir: there is no directory ${join(home, '..', 'latchkey-no-such-dir')}.\n` +
        '  Check the path (it is taken from the current directory), create the directory first, or pass --force to record the choice anyway.\n',
    );
    const file = await run(session, [...choose, '--dir', 'app.env']);
    expectExit(file, 2);
    expect(file.stderr).toContain(`${join(home, 'app.env')} is a file, not a directory.`);
    expect((await readIndex(session.configDir)) as unknown).not.toHaveProperty('directories');

    // The provider right after --dir, as `auth switch nanoterm --dir` would have it: the current directory.
    const asProvider = await run(session, ['auth', 'switch', '--dir', 'nanoterm', '--account', 'personal']);
    expectExit(asProvider, 0);
    expect(asProvider.stderr).toContain('✓ NanoTerm uses personal in ~ and below.');
    expect((await readIndex(session.configDir)) as unknown).toMatchObject({
      directories: { [home]: { nanoterm: 'personal' } },
    });

    // --account without --provider: the provider that has that account (auth token and exec alike).
    const token = await run(session, ['auth', 'token', '--account', 'work']);
    expectExit(token, 0);
    expect(token.stdout).toBe(`${work}\n`);
    const exec = await run(
      session,
      ['exec', '--account', 'work', '--', 'sh', '-c', '[ "$NANOTERM_API_KEY" = "$WANT" ] && echo same'],
      undefined,
      { WANT: work },
    );
    expectExit(exec, 0);
    expect(exec.stdout).toBe('same\n');
    const nobody = await run(session, ['exec', '--account', 'nobody', '--', 'true']);
    expectExit(nobody, 4);
    expect(nobody.stderr).toContain("'nobody'");

    // Nothing stored: --all and a plain logout end alike (exit 4, NOT_SIGNED_IN).
    expectExit(await run(session, ['auth', 'logout', '--all']), 0);
    for (const args of [
      ['auth', 'logout', '--all'],
      ['auth', 'logout'],
    ]) {
      const none = await run(session, [...args, '--json']);
      expectExit(none, 4);
      expect(json(none.stdout).error).toMatchObject({ code: 'NOT_SIGNED_IN' });
    }
  });

  it('a key without --name is labelled by its prefix and last 4 characters only', async () => {
    const { session, work, login } = await setup();
    const stored = await login(work);
    expectExit(stored, 0);
    const label = `nt_live_...${work.slice(-4)}`;
    expect((await readIndex(session.configDir))?.accounts.map((a) => a.account)).toEqual([label]);
    const token = await run(session, ['auth', 'token', '--provider', 'nanoterm', '--account', label]);
    expect(token.stdout).toBe(`${work}\n`);
    // Typed as a person would: the last 4 alone, or with the Unicode ellipsis older versions printed.
    for (const typed of [work.slice(-4), `nt_live_\u2026${work.slice(-4)}`]) {
      const byTyped = await run(session, ['auth', 'token', '--provider', 'nanoterm', '--account', typed]);
      expectExit(byTyped, 0);
      expect(byTyped.stdout).toBe(`${work}\n`);
    }
    const status = await run(session, ['auth', 'status', '--account', work.slice(-4), '--json']);
    expectExit(status, 0);
    expect(json(status.stdout).result!.credentials.map((c: { account: string }) => c.account)).toEqual([
      label,
    ]);
    const wrong = await run(session, ['auth', 'token', '--provider', 'nanoterm', '--account', 'zzzz']);
    expectExit(wrong, 4);
    expect(wrong.stderr).toContain(`Use one of: ${label}`);
  });
});

describe('two Kaneo users on a real better-auth server', () => {
  it('both stored under their e-mail, the second not the default; switch and --account pick each', async () => {
    const server: KaneoServer = await startKaneoServer({ interval: 1 });
    closers.push(() => server.close());
    const grace = await server.signUp({ name: 'Grace Hopper', email: 'grace@example.com' });
    const ada = await server.signUp({ name: 'Ada Lovelace', email: 'ada@example.com' });
    const graceKey = await server.createApiKey(grace, 'ci');
    const adaKey = await server.createApiKey(ada, 'ci');
    secrets.push(grace.sessionToken, ada.sessionToken, graceKey, adaKey);
    const session = await newSession();
    const login = (key: string) =>
      run(
        session,
        ['auth', 'login', '--provider', 'kaneo', '--with-token', '--base-url', server.url],
        `${key}\n`,
      );

    expectExit(await login(graceKey), 0);
    const second = await login(adaKey);
    expectExit(second, 0);
    expect(second.stderr).toContain('Stored as ada@example.com; the default stays grace@example.com.');
    expect((await run(session, ['auth', 'token', '--provider', 'kaneo'])).stdout).toBe(`${graceKey}\n`);

    let status = await run(session, ['auth', 'status', '--provider', 'kaneo', '--json']);
    expectExit(status, 0);
    const rows = json(status.stdout).result!.credentials;
    expect(rows.map((r) => [r.account, r.chosenBy])).toEqual(
      expect.arrayContaining([
        ['grace@example.com', { by: 'default' }],
        ['ada@example.com', undefined],
      ]),
    );

    expectExit(
      await run(session, ['auth', 'switch', '--provider', 'kaneo', '--account', 'ada@example.com']),
      0,
    );
    expect((await run(session, ['auth', 'token', '--provider', 'kaneo'])).stdout).toBe(`${adaKey}\n`);
    const grace1 = await run(session, [
      'auth',
      'token',
      '--provider',
      'kaneo',
      '--account',
      'grace@example.com',
    ]);
    expect(grace1.stdout).toBe(`${graceKey}\n`);
    status = await run(session, ['auth', 'status', '--provider', 'kaneo', '--account', 'grace@example.com']);
    expectExit(status, 0);
    expect(status.stdout).toContain('grace@example.com (active): valid');
    expect(status.stdout).toContain('Chosen by:  --account');

    const logout = await run(session, ['auth', 'logout', '--provider', 'kaneo']);
    expectExit(logout, 2);
    expect(logout.stderr).toContain('Pass --account with one of: ada@example.com, grace@example.com');
    assertNoSecretLeaks(session.runs, secrets);
  });
});
