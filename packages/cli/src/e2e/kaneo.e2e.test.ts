/**
 * Kaneo through the built `latchkey` binary against a REAL better-auth server configured like Kaneo's:
 * login in a pipe, approval the way a browser does it, then status, token and logout; deny, expiry, an
 * unknown client id, API keys, self-hosted base URLs, and the leak check.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  assertNoSecretLeaks,
  createCliSession,
  timeBound,
  type CliRun,
  type CliSession,
} from '@latchkey/conformance/tools';
import { startKaneoServer, type KaneoServer, type KaneoServerOptions } from '@latchkey/testkit/kaneo';
import {
  RUN_TIMEOUT_MS,
  expectExit,
  expectNothingStored,
  expectSecretNotOnDisk,
  readIndex,
  textWatcher,
} from './harness.js';

const servers: KaneoServer[] = [];
const sessions: CliSession[] = [];
const secrets: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
});

async function setup(options: KaneoServerOptions = {}) {
  const server = await startKaneoServer({ interval: 1, ...options });
  servers.push(server);
  const user = await server.signUp({ name: 'Grace Hopper', email: 'grace@example.com' });
  secrets.push(user.sessionToken);
  const session = await createCliSession();
  sessions.push(session);
  return { server, user, session };
}

const opts = (env: Record<string, string | undefined> = {}, input?: string) => ({
  env,
  input,
  timeoutMs: RUN_TIMEOUT_MS,
});

/**
 * Starts `auth login --provider kaneo` in a pipe, reads the user code from the URL on its stderr, and lets
 * `act` decide it (approve/deny/nothing). Returns the finished run and the code as the server issued it.
 */
async function deviceLogin(
  session: CliSession,
  server: KaneoServer,
  act: (userCode: string) => Promise<void>,
  extraArgs: string[] = [],
): Promise<{ run: CliRun; userCode: string }> {
  const watcher = textWatcher();
  const { done } = session.spawn(
    ['auth', 'login', '--provider', 'kaneo', '--base-url', server.url, ...extraArgs],
    {
      timeoutMs: RUN_TIMEOUT_MS,
      onStderr: (chunk) => watcher.feed(chunk),
    },
  );
  const stderr = await Promise.race([
    watcher.until((t) => /user_code=([A-Z0-9]+)/.test(t), 'the verification URL'),
    done.then((r) => r.stderr),
  ]);
  const userCode = /user_code=([A-Z0-9]+)/.exec(stderr)?.[1] ?? '';
  if (userCode) await act(userCode);
  return { run: await done, userCode };
}

const polls = (server: KaneoServer) => server.requests.filter((r) => r.path === '/api/auth/device/token');

describe('Kaneo device login through the binary', () => {
  it('login -> status -> token -> logout: the user is stored, the token works, and logout signs it out', async () => {
    const { server, user, session } = await setup();
    let approvedAt = 0;
    const { run: login, userCode } = await deviceLogin(session, server, async (code) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await server.approve(code, user);
      approvedAt = Date.now();
    });
    expectExit(login, 0);
    expect(login.stdout).toBe('');
    // The 8-character code is shown as XXXX-XXXX and the link carries it exactly as issued.
    expect(login.stderr).toContain(`${userCode.slice(0, 4)}-${userCode.slice(4)}`);
    expect(login.stderr).toContain(`${server.url}/device?user_code=${userCode}`);
    expect(login.stderr).toContain('Logged in to Kaneo as Grace Hopper grace@example.com');
    // Polled at the server's interval (1 s, by the server's clock): never a slow_down, never sooner, and
    // once approved, at most one more poll (the one that got the token).
    const made = polls(server);
    expect(made.map((p) => p.grantError)).not.toContain('slow_down');
    expect(made.at(-1)?.status).toBe(200);
    for (let i = 1; i < made.length; i += 1)
      expect(made[i]!.at - made[i - 1]!.at).toBeGreaterThanOrEqual(900);
    expect(made.filter((p) => p.at > approvedAt).length).toBeLessThanOrEqual(1);

    const index = await readIndex(session.configDir);
    expect(index?.accounts).toMatchObject([
      {
        provider: 'kaneo',
        account: 'grace@example.com',
        baseUrl: server.url,
        method: 'device',
        identity: { name: 'Grace Hopper', email: 'grace@example.com' },
      },
    ]);
    const expiresAt = Date.parse((index?.accounts[0] as { expiresAt?: string }).expiresAt ?? '');
    expect(expiresAt - Date.now()).toBeGreaterThan(6 * 24 * 3600 * 1000);

    const token = await session.run(['auth', 'token', '--provider', 'kaneo'], opts());
    expectExit(token, 0);
    const accessToken = token.stdout.trimEnd();
    expect(token.stdout).toBe(`${accessToken}\n`);
    secrets.push(accessToken);
    await expectSecretNotOnDisk(session.configDir, accessToken);
    expect(await server.getSession({ bearer: accessToken })).toMatchObject({
      user: { email: 'grace@example.com' },
    });

    // status uses the stored base URL without being told it again.
    const status = await session.run(['auth', 'status', '--provider', 'kaneo'], opts());
    expectExit(status, 0);
    expect(status.stdout).toContain('grace@example.com (active): valid');
    expect(status.stdout).toMatch(new RegExp(`Base URL: +${server.url}`));

    const logout = await session.run(['auth', 'logout', '--provider', 'kaneo'], opts());
    expectExit(logout, 0);
    expect(logout.stderr).toContain('revoked on the server');
    expect(await server.getSession({ bearer: accessToken })).toBeNull();
    const after = await session.run(['auth', 'token', '--provider', 'kaneo'], opts());
    expectExit(after, 4);
    expect(after.stdout).toBe('');
  });

  it('logout with the server down: the failed revoke is reported and the local copy is deleted anyway', async () => {
    const { server, user, session } = await setup();
    const { run: login } = await deviceLogin(session, server, (code) => server.approve(code, user));
    expectExit(login, 0);
    const token = (await session.run(['auth', 'token', '--provider', 'kaneo'], opts())).stdout.trimEnd();
    secrets.push(token);
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const logout = await session.run(['auth', 'logout', '--provider', 'kaneo'], opts());
    expectExit(logout, 0);
    expect(logout.stderr).toContain('Could not revoke it on the server');
    expect(logout.stderr).toContain('deleted here anyway');
    expect((await readIndex(session.configDir))?.accounts).toEqual([]);
    expectExit(await session.run(['auth', 'token', '--provider', 'kaneo'], opts()), 4);
  });

  it('a denied request: exit 4, "the request was denied", nothing stored', async () => {
    const { server, user, session } = await setup();
    const { run } = await deviceLogin(session, server, (code) => server.deny(code, user));
    expectExit(run, 4);
    expect(run.stderr).toContain('The request was denied.');
    await expectNothingStored(session.configDir);
  });

  it('an expired code: exit 4 by itself, "the code expired", nothing stored', async () => {
    const { server, session } = await setup({ deviceExpiresIn: 3 });
    const started = Date.now();
    const { run } = await deviceLogin(session, server, async () => undefined);
    expectExit(run, 4);
    // The code lives 3 s: exit soon after (start-up and three polls at a 1 s interval), stretched on a busy
    // machine; never polling on until the run is killed.
    expect(Date.now() - started).toBeLessThan(timeBound(9000, { atMost: RUN_TIMEOUT_MS - 10_000 }));
    expect(run.stderr).toContain('The code expired before it was approved.');
    expect(run.stderr).toContain('latchkey auth login --provider kaneo');
    expect(polls(server).length).toBeLessThanOrEqual(3);
    await expectNothingStored(session.configDir);
  });

  it('an unknown --client-id: exit 2 with a clear error naming DEVICE_AUTH_CLIENT_IDS; no poll', async () => {
    const { server, session } = await setup();
    const run = await session.run(
      ['auth', 'login', '--provider', 'kaneo', '--base-url', server.url, '--client-id', 'my-tool'],
      opts(),
    );
    expectExit(run, 2);
    expect(run.stderr).toContain('does not accept the client id "my-tool"');
    expect(run.stderr).toContain('DEVICE_AUTH_CLIENT_IDS');
    expect(polls(server)).toEqual([]);
  });

  it('kaneo-mcp is an allowed --client-id', async () => {
    const { server, user, session } = await setup();
    const { run } = await deviceLogin(session, server, (code) => server.approve(code, user), [
      '--client-id',
      'kaneo-mcp',
    ]);
    expectExit(run, 0);
    expect(server.requests.find((r) => r.path === '/api/auth/device/code')?.status).toBe(200);
  });
});

describe('Kaneo API keys and self-hosted servers', () => {
  it('--with-token stores an API key checked with x-api-key; status shows the user', async () => {
    const { server, user, session } = await setup();
    const key = await server.createApiKey(user, 'ci');
    secrets.push(key);
    const login = await session.run(
      ['auth', 'login', '--provider', 'kaneo', '--with-token', '--base-url', server.url],
      opts({}, `${key}\n`),
    );
    expectExit(login, 0);
    expect(login.stderr).toContain('grace@example.com');
    expect((await readIndex(session.configDir))?.accounts[0]).toMatchObject({
      account: 'grace@example.com',
      method: 'token',
    });
    await expectSecretNotOnDisk(session.configDir, key);
    const status = await session.run(['auth', 'status', '--provider', 'kaneo'], opts());
    expectExit(status, 0);
    expect(status.stdout).toContain('Credential: API key');
    const token = await session.run(['auth', 'token', '--provider', 'kaneo'], opts());
    expect(token.stdout).toBe(`${key}\n`);
    const logout = await session.run(['auth', 'logout', '--provider', 'kaneo'], opts());
    expectExit(logout, 0);
    expect(logout.stderr).toContain('still works');
    expect(await server.getSession({ apiKey: key })).toMatchObject({ user: { email: 'grace@example.com' } });
  });

  it('a wrong API key: exit 4, nothing stored', async () => {
    const { server, session } = await setup();
    const wrong = 'x'.repeat(64);
    const run = await session.run(
      ['auth', 'login', '--provider', 'kaneo', '--with-token', '--base-url', server.url],
      opts({}, wrong),
    );
    expectExit(run, 4);
    expect(run.stderr).toContain('Kaneo rejected the API key');
    await expectNothingStored(session.configDir);
  });

  it('KANEO_API_KEY with KANEO_API_URL: auth token prints it, status validates it against that server, nothing stored', async () => {
    const { server, user, session } = await setup();
    const key = await server.createApiKey(user);
    secrets.push(key);
    const env = { KANEO_API_KEY: key, KANEO_API_URL: server.url };
    const token = await session.run(['auth', 'token', '--provider', 'kaneo'], opts(env));
    expectExit(token, 0);
    expect(token.stdout).toBe(`${key}\n`);
    const status = await session.run(['auth', 'status', '--provider', 'kaneo', '--json'], opts(env));
    expectExit(status, 0);
    const [entry] = (JSON.parse(status.stdout) as { result: { credentials: Array<Record<string, unknown>> } })
      .result.credentials;
    expect(entry).toMatchObject({ source: 'env:KANEO_API_KEY', baseUrl: server.url, validity: 'valid' });
    expect(status.stdout).not.toContain(key);
    await expectNothingStored(session.configDir);
  });

  it('a plain-http base URL that is not loopback is refused before any request (exit 2)', async () => {
    const { session } = await setup();
    const run = await session.run(
      ['auth', 'login', '--provider', 'kaneo', '--base-url', 'http://kaneo.example.com'],
      opts(),
    );
    expectExit(run, 2);
    expect(run.stderr).toContain('https://');
  });
});

describe('Kaneo leaks', () => {
  it('never shows a token, key or device code outside auth token', () => {
    const runs = sessions.flatMap((s) => s.runs);
    expect(runs.length).toBeGreaterThan(10);
    expect(secrets.length).toBeGreaterThan(3);
    assertNoSecretLeaks(runs, secrets);
  });
});
