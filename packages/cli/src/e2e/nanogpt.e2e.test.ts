/**
 * NanoGPT through the built `latchkey` binary: device login and the whole pipe (status, token, logout),
 * credentials from the environment, `--with-token` / `--token`, and the `--json` outputs.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, timeBound } from '@latchkey/conformance/tools';
import {
  E2eFile,
  RUN_TIMEOUT_MS,
  expectExit,
  expectNothingStored,
  expectSecretNotOnDisk,
  expectTokenMissing,
  newKey,
  readIndex,
  requestsTo,
  storedAccounts,
  textWatcher,
} from './harness.js';

const file = new E2eFile();
afterEach(() => file.cleanup());

const opts = { timeoutMs: RUN_TIMEOUT_MS };
/** How the CLI labels a NanoGPT key everywhere it shows one: the declared prefix, an ellipsis, the last 4. */
const masked = (key: string) => `${key.startsWith('sk-nano-') ? 'sk-nano-' : ''}...${key.slice(-4)}`;

describe('device login, then the pipe: status -> token -> logout -> token', () => {
  it('signs in with the device code, stores the key encrypted, prints it for pipes, and forgets it on logout', async () => {
    const emulator = await file.emulator({ interval: 1, autoApproveAfterPolls: 1 });
    const session = await file.session();

    const login = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--base-url', emulator.url],
      opts,
    );
    expectExit(login, 0);
    expect(login.stdout).toBe('');

    // What the emulator handed out and saw.
    expect(emulator.userCodes()).toHaveLength(1);
    expect(emulator.issuedKeys()).toHaveLength(1);
    const userCode = emulator.userCodes()[0]!;
    const deviceCode = emulator.deviceCodes()[0]!;
    const key = emulator.issuedKeys()[0]!;
    const starts = requestsTo(emulator, 'start');
    expect(starts).toHaveLength(1);
    expect(starts[0]!.body).toEqual({ client_name: 'latchkey' });
    const polls = requestsTo(emulator, 'poll');
    expect(polls.map((p) => p.status)).toEqual([202, 200]);
    for (const poll of polls) expect(poll.body).toEqual({ device_code: deviceCode });
    // The server's interval (1 s) is respected, before the first poll and between polls.
    expect(polls[0]!.at - starts[0]!.at).toBeGreaterThanOrEqual(900);
    expect(polls[1]!.at - polls[0]!.at).toBeGreaterThanOrEqual(900);

    // stderr: the complete verification URL, the user code, the time left; never the device code or key.
    expect(login.stderr).toContain(`${emulator.url}/cli-login/verify?code=${encodeURIComponent(userCode)}`);
    expect(login.stderr).toContain(userCode);
    expect(login.stderr).toMatch(/expires in 10 minutes/);
    expect(login.stderr).toContain('Waiting for approval');
    expect(login.stderr).toContain(`Logged in to NanoGPT as ${masked(key)}`);
    expect(login.stderr).not.toContain(deviceCode);
    expect(login.stderr).not.toContain(key);

    // Stored: the non-secret index names the account; the secret itself is only in encrypted form.
    const index = await readIndex(session.configDir);
    expect(index?.accounts).toEqual([
      expect.objectContaining({
        provider: 'nanogpt',
        account: masked(key),
        backend: 'file',
        baseUrl: emulator.url,
        method: 'device',
      }),
    ]);
    expect(index?.active).toEqual({ nanogpt: masked(key) });
    await expectSecretNotOnDisk(session.configDir, key);
    await expectSecretNotOnDisk(session.configDir, deviceCode);

    // status: checks the key live with the server it was stored with.
    const modelsBefore = requestsTo(emulator, 'models').length;
    const status = await session.run(['auth', 'status'], opts);
    expectExit(status, 0);
    expect(status.stdout).toContain('NanoGPT (nanogpt)');
    expect(status.stdout).toContain(`${masked(key)} (active): valid`);
    expect(status.stdout).toMatch(new RegExp(`Base URL: +${emulator.url}`));
    expect(status.stdout).not.toContain(key);
    const models = requestsTo(emulator, 'models');
    expect(models).toHaveLength(modelsBefore + 1);
    expect(models.at(-1)!.headers.authorization).toBe(`Bearer ${key}`);
    expect(models.at(-1)!.status).toBe(200);

    // token: exactly the key and one newline, nothing else, and no network call.
    const requestsBefore = emulator.requests.length;
    const token = await session.run(['auth', 'token'], opts);
    expectExit(token, 0);
    expect(token.stdout).toBe(`${key}\n`);
    expect(token.stderr).toBe('');
    const tokenNamed = await session.run(['auth', 'token', '--provider', 'nanogpt'], opts);
    expectExit(tokenNamed, 0);
    expect(tokenNamed.stdout).toBe(`${key}\n`);
    expect(emulator.requests).toHaveLength(requestsBefore);

    // logout: forgets the account locally.
    const logout = await session.run(['auth', 'logout'], opts);
    expectExit(logout, 0);
    expect(logout.stdout).toBe('');
    expect(logout.stderr).toContain(`Logged out of NanoGPT (${masked(key)})`);
    // Issued by the local server, not nano-gpt.com: that is where it would be revoked.
    expect(logout.stderr).toContain(
      `still works until you revoke it at the server that issued it (${new URL(emulator.url).host})`,
    );
    expect(logout.stderr).not.toContain('nano-gpt.com');
    await expectNothingStored(session.configDir);
    expect((await readIndex(session.configDir))?.active).toEqual({});

    // token afterwards: the pipe contract for "not signed in".
    expectTokenMissing(await session.run(['auth', 'token'], opts));
    const after = await session.run(['auth', 'token', '--provider', 'nanogpt'], opts);
    expectTokenMissing(after);
    expect(after.stderr).toContain('Not signed in to NanoGPT');
  });
});

describe('auth token from the environment', () => {
  it('with no credential anywhere: exit 4, empty stdout, the error on stderr, no network call, nothing created', async () => {
    const emulator = await file.emulator();
    const session = await file.session();
    const env = { LATCHKEY_NANOGPT_BASE_URL: emulator.url };
    expectTokenMissing(await session.run(['auth', 'token'], { ...opts, env }));
    const named = await session.run(['auth', 'token', '--provider', 'nanogpt'], { ...opts, env });
    expectTokenMissing(named);
    expect(named.stderr).toContain('NANOGPT_API_KEY');
    expect(emulator.requests).toEqual([]);
    expect(await readIndex(session.configDir)).toBeUndefined();
  });

  it.each(['NANOGPT_API_KEY', 'LATCHKEY_NANOGPT_TOKEN'])(
    'prints %s exactly, without storing it or calling the server',
    async (variable) => {
      const emulator = await file.emulator();
      const session = await file.session();
      const key = file.secret(newKey());
      const env = { [variable]: key, LATCHKEY_NANOGPT_BASE_URL: emulator.url };
      for (const args of [
        ['auth', 'token'],
        ['auth', 'token', '--provider', 'nanogpt'],
      ]) {
        const run = await session.run(args, { ...opts, env });
        expectExit(run, 0);
        expect(run.stdout).toBe(`${key}\n`);
        expect(run.stderr).toBe('');
      }
      expect(emulator.requests).toEqual([]);
      expect(await readIndex(session.configDir)).toBeUndefined();
      await expectSecretNotOnDisk(session.configDir, key);
      await expectSecretNotOnDisk(session.homeDir, key);
    },
  );

  it('orders the sources: NANOGPT_API_KEY, then LATCHKEY_NANOGPT_TOKEN, then the stored key (and leaves the store alone)', async () => {
    const storedKey = newKey();
    const emulator = await file.emulator({ keys: [storedKey] });
    const session = await file.session();
    const envKey = file.secret(newKey());
    const latchkeyKey = file.secret(newKey());

    const login = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
      { ...opts, input: `${storedKey}\n` },
    );
    expectExit(login, 0);
    const indexBefore = await readIndex(session.configDir);
    expect(indexBefore?.accounts).toHaveLength(1);
    const requestsBefore = emulator.requests.length;

    const bothEnv = await session.run(['auth', 'token'], {
      ...opts,
      env: { NANOGPT_API_KEY: envKey, LATCHKEY_NANOGPT_TOKEN: latchkeyKey },
    });
    expectExit(bothEnv, 0);
    expect(bothEnv.stdout).toBe(`${envKey}\n`);

    const latchkeyEnv = await session.run(['auth', 'token', '--provider', 'nanogpt'], {
      ...opts,
      env: { LATCHKEY_NANOGPT_TOKEN: latchkeyKey },
    });
    expectExit(latchkeyEnv, 0);
    expect(latchkeyEnv.stdout).toBe(`${latchkeyKey}\n`);

    const stored = await session.run(['auth', 'token'], opts);
    expectExit(stored, 0);
    expect(stored.stdout).toBe(`${storedKey}\n`);

    expect(await readIndex(session.configDir)).toEqual(indexBefore);
    expect(emulator.requests).toHaveLength(requestsBefore);
    await expectSecretNotOnDisk(session.configDir, envKey);
    await expectSecretNotOnDisk(session.configDir, latchkeyKey);
  });
});

describe('login --with-token and --token', () => {
  it('--with-token: verifies the key from stdin with the server, then stores it (trimmed)', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const session = await file.session();

    const login = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
      { ...opts, input: `  ${key}\r\n` },
    );
    expectExit(login, 0);
    expect(login.stdout).toBe('');
    expect(login.stderr).toContain(`Logged in to NanoGPT as ${masked(key)}`);
    expect(emulator.requests).toHaveLength(1);
    expect(emulator.requests[0]).toMatchObject({ method: 'GET', path: '/api/v1/models', status: 200 });
    expect(emulator.requests[0]!.headers.authorization).toBe(`Bearer ${key}`);

    expect(await storedAccounts(session.configDir)).toEqual([
      expect.objectContaining({
        provider: 'nanogpt',
        account: masked(key),
        method: 'token',
        baseUrl: emulator.url,
      }),
    ]);
    await expectSecretNotOnDisk(session.configDir, key);

    const token = await session.run(['auth', 'token'], opts);
    expectExit(token, 0);
    expect(token.stdout).toBe(`${key}\n`);
  });

  it('--with-token: a revoked or unknown key is rejected by the server: exit 4, nothing stored', async () => {
    const revoked = newKey();
    const unknown = file.secret(newKey());
    const emulator = await file.emulator({ keys: [revoked] });
    emulator.revokeKey(revoked);
    const session = await file.session();

    for (const key of [revoked, unknown]) {
      const before = emulator.requests.length;
      const run = await session.run(
        ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
        { ...opts, input: `${key}\n` },
      );
      expectExit(run, 4);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('NanoGPT rejected the API key');
      const seen = emulator.requests.slice(before);
      expect(seen.map((r) => [r.route, r.status, r.headers.authorization])).toEqual([
        ['models', 401, `Bearer ${key}`],
      ]);
      await expectNothingStored(session.configDir);
      await expectSecretNotOnDisk(session.configDir, key);
    }
    expectTokenMissing(await session.run(['auth', 'token'], opts));
  });

  it('--with-token: a malformed value is a usage error (exit 2) and nothing is sent to the server', async () => {
    const emulator = await file.emulator();
    const session = await file.session();
    for (const input of ['not-a-key\n', `sk-nano-${randomUUID().slice(0, 20)}\n`]) {
      const run = await session.run(
        ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
        { ...opts, input },
      );
      expectExit(run, 2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('not a NanoGPT API key');
    }
    const empty = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
      { ...opts, input: '' },
    );
    expectExit(empty, 2);
    expect(empty.stderr).toContain('No token was given on standard input');
    expect(emulator.requests).toEqual([]);
    await expectNothingStored(session.configDir);
  });

  it('--with-token: a legacy bare-UUID key is accepted and stored', async () => {
    const legacy = randomUUID();
    const emulator = await file.emulator({ keys: [legacy] });
    const session = await file.session();
    const login = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
      { ...opts, input: `${legacy}\n` },
    );
    expectExit(login, 0);
    expect(emulator.requests.map((r) => [r.route, r.status, r.headers.authorization])).toEqual([
      ['models', 200, `Bearer ${legacy}`],
    ]);
    expect(await storedAccounts(session.configDir)).toEqual([
      expect.objectContaining({ provider: 'nanogpt', account: masked(legacy) }),
    ]);
    await expectSecretNotOnDisk(session.configDir, legacy);
    const token = await session.run(['auth', 'token'], opts);
    expectExit(token, 0);
    expect(token.stdout).toBe(`${legacy}\n`);
  });

  it('--token: validates the key, warns about shell history, and does not store it', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const session = await file.session();
    const run = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--token', key, '--base-url', emulator.url],
      opts,
    );
    expectExit(run, 0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/shell history/);
    expect(run.stderr).toContain(`The token is valid for NanoGPT as ${masked(key)}`);
    expect(run.stderr).toContain('Not stored');
    expect(emulator.requests.map((r) => [r.route, r.status, r.headers.authorization])).toEqual([
      ['models', 200, `Bearer ${key}`],
    ]);
    await expectNothingStored(session.configDir);
    await expectSecretNotOnDisk(session.configDir, key);
    expectTokenMissing(await session.run(['auth', 'token'], opts));

    // A rejected --token: exit 4, still nothing stored.
    emulator.revokeKey(key);
    const rejected = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '-t', key, '--base-url', emulator.url],
      opts,
    );
    expectExit(rejected, 4);
    await expectNothingStored(session.configDir);
  });

  it('--token and --with-token together are a usage error, before any request', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const session = await file.session();
    const run = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--token', key, '--base-url', emulator.url],
      { ...opts, input: `${key}\n` },
    );
    expectExit(run, 2);
    expect(run.stderr).toContain('cannot be used together');
    expect(emulator.requests).toEqual([]);
    await expectNothingStored(session.configDir);
  });
});

describe('--json', () => {
  it('login (device) prints the documented result on stdout and keeps the human text on stderr', async () => {
    const emulator = await file.emulator({ autoApproveAfterPolls: 0 });
    const session = await file.session();
    const run = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--json', '--base-url', emulator.url],
      opts,
    );
    expectExit(run, 0);
    const key = emulator.issuedKeys()[0]!;
    const envelope = JSON.parse(run.stdout) as { status: number; result: unknown; warnings: string[] };
    expect(envelope).toEqual({ status: 0, result: expect.any(Object), warnings: [] });
    expect(envelope.result).toMatchObject({
      provider: 'nanogpt',
      title: 'NanoGPT',
      account: masked(key),
      baseUrl: emulator.url,
      method: 'device',
      stored: true,
      backend: 'file',
    });
    // Printed once: exactly one JSON document on stdout.
    expect(
      run.stdout
        .trimEnd()
        .split('\n')
        .filter((line) => line === '}'),
    ).toHaveLength(1);
    expect(run.stdout).not.toContain(key);
    expect(run.stderr).toContain(emulator.userCodes()[0]!);
    expect(run.stderr).toContain(`${emulator.url}/cli-login/verify?code=`);
  });

  it('login --token --json reports stored: false', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const session = await file.session();
    const run = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--json', '--token', key, '--base-url', emulator.url],
      opts,
    );
    expectExit(run, 0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      status: 0,
      result: { provider: 'nanogpt', method: 'token', stored: false, account: masked(key) },
      // The warning people see on stderr reaches scripts too.
      warnings: [expect.stringContaining('visible in your shell history')],
    });
    expect(run.stderr).toMatch(/shell history/);
  });

  it('status --json lists stored and environment credentials with source, backend, base URL and validity', async () => {
    const storedKey = newKey();
    const envKey = newKey();
    const emulator = await file.emulator({ keys: [storedKey, envKey] });
    const session = await file.session();
    expectExit(
      await session.run(
        ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
        {
          ...opts,
          input: `${storedKey}\n`,
        },
      ),
      0,
    );

    const stored = await session.run(['auth', 'status', '--json'], opts);
    expectExit(stored, 0);
    expect(JSON.parse(stored.stdout)).toEqual({
      status: 0,
      result: {
        credentials: [
          expect.objectContaining({
            provider: 'nanogpt',
            account: masked(storedKey),
            active: true,
            source: 'stored',
            backend: 'file',
            baseUrl: emulator.url,
            validity: 'valid',
          }),
        ],
      },
      warnings: [],
    });

    const withEnv = await session.run(['auth', 'status', '--json', '--provider', 'nanogpt'], {
      ...opts,
      env: { NANOGPT_API_KEY: envKey, LATCHKEY_NANOGPT_BASE_URL: emulator.url },
    });
    expectExit(withEnv, 0);
    const { credentials } = (
      JSON.parse(withEnv.stdout) as { result: { credentials: Array<Record<string, unknown>> } }
    ).result;
    expect(credentials).toHaveLength(2);
    expect(credentials).toContainEqual(
      expect.objectContaining({
        provider: 'nanogpt',
        source: 'env:NANOGPT_API_KEY',
        account: masked(envKey),
        validity: 'valid',
      }),
    );
    expect(credentials).toContainEqual(
      expect.objectContaining({ source: 'stored', account: masked(storedKey), validity: 'valid' }),
    );
    // Both keys were checked with the server.
    const bearers = requestsTo(emulator, 'models').map((r) => r.headers.authorization);
    expect(bearers).toContain(`Bearer ${envKey}`);

    // A key the server no longer accepts: exit 4, validity "rejected" with the error envelope.
    emulator.revokeKey(storedKey);
    const rejected = await session.run(['auth', 'status', '--json'], opts);
    expectExit(rejected, 4);
    // The envelope's status is the exit code: a script sees 4 without reading every entry.
    expect(JSON.parse(rejected.stdout)).toEqual({
      status: 4,
      result: {
        credentials: [
          expect.objectContaining({
            account: masked(storedKey),
            validity: 'rejected',
            error: expect.objectContaining({ code: 'CREDENTIAL_REJECTED', message: expect.any(String) }),
          }),
        ],
      },
      warnings: [],
    });

    // A rejected key from the variable: the fix is the variable (signing in again changes nothing).
    emulator.revokeKey(envKey);
    const fromVariable = await session.run(['auth', 'status', '--provider', 'nanogpt'], {
      ...opts,
      env: { NANOGPT_API_KEY: envKey, LATCHKEY_NANOGPT_BASE_URL: emulator.url },
    });
    expectExit(fromVariable, 4);
    // The stored key, issued by the local server: sign in again there; no public key page.
    expect(fromVariable.stdout).toContain(
      `Sign in again with \`latchkey auth login --provider nanogpt --base-url ${emulator.url}\`.`,
    );
    expect(fromVariable.stdout).not.toContain('nano-gpt.com');
    expect(fromVariable.stdout).toContain(
      'The credential comes from NANOGPT_API_KEY, which wins over any stored account: fix its value, or unset it (`unset NANOGPT_API_KEY`) to use a stored one.',
    );
    const envRow = fromVariable.stdout.split(/\n {2}[✗✓?!-] /)[1]!;
    expect(envRow).toContain('environment variable NANOGPT_API_KEY');
    expect(envRow).not.toContain('Sign in again');
  });

  it('logout --json reports what was removed; auth token has no --json (exit 2, the error on stderr)', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const session = await file.session();
    const login = ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url];
    expectExit(await session.run(login, { ...opts, input: `${key}\n` }), 0);

    const token = await session.run(['auth', 'token', '--provider', 'nanogpt', '--json'], opts);
    expectExit(token, 2);
    expect(token.stdout).toBe('');
    expect(token.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^latchkey: .*--json/),
      '  Run the command with --help to see its flags.',
    ]);

    const logout = await session.run(['auth', 'logout', '--provider', 'nanogpt', '--json'], opts);
    expectExit(logout, 0);
    expect(JSON.parse(logout.stdout)).toEqual({
      status: 0,
      result: {
        removed: [expect.objectContaining({ provider: 'nanogpt', title: 'NanoGPT', account: masked(key) })],
        orphansRemoved: [],
        envStillSet: [],
      },
      warnings: [],
    });
    expect(logout.stdout).not.toContain(key);

    const again = await session.run(['auth', 'logout', '--provider', 'nanogpt', '--json'], opts);
    expectExit(again, 4);
    expect(JSON.parse(again.stdout)).toEqual({
      status: 4,
      error: expect.objectContaining({ code: 'NOT_SIGNED_IN' }),
      warnings: [],
    });
  });

  it('providers --json lists nanogpt with its methods, env vars and plugin', async () => {
    const session = await file.session();
    const run = await session.run(['auth', 'providers', '--json'], opts);
    expectExit(run, 0);
    const { result: listing, warnings } = JSON.parse(run.stdout) as {
      result: { providers: Array<Record<string, unknown>>; broken: unknown[] };
      warnings: string[];
    };
    expect(warnings).toEqual([]);
    expect(listing.providers).toContainEqual(
      expect.objectContaining({
        id: 'nanogpt',
        title: 'NanoGPT',
        methods: ['browser', 'device', 'token'],
        envVars: ['NANOGPT_API_KEY', 'LATCHKEY_NANOGPT_TOKEN'],
        defaultBaseUrl: 'https://nano-gpt.com',
        plugin: expect.stringMatching(/^@latchkey\/plugin-nanogpt@/),
      }),
    );
    expect(listing.broken).toEqual([]);

    const human = await session.run(['auth', 'providers'], opts);
    expectExit(human, 0);
    expect(human.stdout).toMatch(
      /^nanogpt\s+NanoGPT\s+browser, device, token\s+NANOGPT_API_KEY, LATCHKEY_NANOGPT_TOKEN\s+@latchkey\/plugin-nanogpt@/m,
    );
  });

  it('errors with --json are a {"status", "error", "warnings"} envelope on stdout', async () => {
    const emulator = await file.emulator();
    const session = await file.session();

    const malformed = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--json', '--base-url', emulator.url],
      { ...opts, input: 'not-a-key\n' },
    );
    expectExit(malformed, 2);
    expect(JSON.parse(malformed.stdout)).toEqual({
      status: 2,
      error: expect.objectContaining({
        code: 'INVALID_TOKEN_FORMAT',
        message: expect.any(String),
        retryable: false,
      }),
      warnings: [],
    });
    expect(malformed.stderr).toBe('');

    const none = await session.run(['auth', 'status', '--json'], opts);
    expectExit(none, 4);
    expect(JSON.parse(none.stdout)).toEqual({
      status: 4,
      error: expect.objectContaining({
        code: 'NOT_SIGNED_IN',
        message: expect.any(String),
        action: expect.any(String),
      }),
      warnings: [],
    });

    const badFlag = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--json', '--no-such-flag'],
      opts,
    );
    expectExit(badFlag, 2);
    expect(JSON.parse(badFlag.stdout)).toEqual({
      status: 2,
      error: expect.objectContaining({ code: 'USAGE' }),
      warnings: [],
    });
    expect(emulator.requests).toEqual([]);
  });
});

describe('a server failure while polling is a server failure', () => {
  it('a /poll that keeps answering an HTML 503: one "still trying" line, then exit 1 with the server\'s problem, not "expired"', async () => {
    const emulator = await file.emulator({ interval: 1 });
    emulator.faults.add({ route: 'poll', kind: 'html', status: 503, times: 100 });
    const session = await file.session();
    const started = Date.now();
    const run = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--base-url', emulator.url],
      opts,
    );
    expectExit(run, 1);
    // 5 polls at the 1 s interval with back-off (1, 1, 1.5, 2.25, 3.4 s): about 9 s, never the 10-minute
    // expiry. The bound stretches on a loaded machine (two CI runs at once took 15.9 s); what it tells
    // apart is seconds from the 600 s the code lives.
    expect(Date.now() - started).toBeLessThan(timeBound(20_000, { atMost: RUN_TIMEOUT_MS }));
    expect(run.stdout).toBe('');
    const host = new URL(emulator.url).host;
    const trying = run.stderr.split('\n').filter((line) => line.includes('still trying'));
    expect(trying).toEqual(['! NanoGPT is not answering (HTTP 503); still trying...']);
    expect(run.stderr).toContain(`latchkey: Unexpected response from ${host}: HTTP 503 with an HTML page.`);
    expect(run.stderr).not.toMatch(/expired/i);
    expect(requestsTo(emulator, 'poll').map((p) => p.status)).toEqual([503, 503, 503, 503, 503]);
    expect(requestsTo(emulator, 'start')).toHaveLength(1);
    await expectNothingStored(session.configDir);
  });

  it('a short outage is shown once and the login still succeeds', async () => {
    const emulator = await file.emulator({ interval: 1, autoApproveAfterPolls: 0 });
    emulator.faults.add({ route: 'poll', kind: 'status', status: 502, times: 2 });
    const session = await file.session();
    const run = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--base-url', emulator.url],
      opts,
    );
    expectExit(run, 0);
    const trying = run.stderr.split('\n').filter((line) => line.includes('still trying'));
    expect(trying).toEqual(['! NanoGPT is not answering (HTTP 502); still trying...']);
    expect(run.stderr).toContain('Logged in to NanoGPT');
  });

  it('an unsafe verification address fails with exit 1 before anything is shown or polled', async () => {
    const emulator = await file.emulator({
      interval: 1,
      verificationUri: 'http://nano-gpt.example/cli-login/verify',
    });
    const session = await file.session();
    const run = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--base-url', emulator.url],
      opts,
    );
    expectExit(run, 1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      `latchkey: ${new URL(emulator.url).host} sent an unsafe verification address (verification_uri: it uses plain http:// for a host that is not this machine); latchkey did not show or open it.`,
    );
    expect(run.stderr).not.toContain('nano-gpt.example');
    expect(run.stderr).not.toContain('approve the code');
    expect(requestsTo(emulator, 'poll')).toEqual([]);
  });

  it('an interval of 3e9 s is clamped to 60 s: one poll in the first seconds, not thousands', async () => {
    const emulator = await file.emulator({ interval: 3e9 });
    const session = await file.session();
    const stderr = textWatcher();
    const ctrlC = new AbortController();
    const { done } = session.spawn(['auth', 'login', '--provider', 'nanogpt', '--base-url', emulator.url], {
      timeoutMs: RUN_TIMEOUT_MS,
      onStderr: stderr.feed,
      signal: ctrlC.signal,
    });
    await stderr.until((text) => text.includes('Waiting for approval'), '"Waiting for approval" on stderr');
    // Long enough for an overflowed (1 ms) timer to have polled hundreds of times.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    ctrlC.abort();
    const run = await done;
    expectExit(run, 130);
    expect(requestsTo(emulator, 'poll')).toEqual([]);
    expect(run.stderr).not.toContain('TimeoutOverflowWarning');
  });
});

describe('secrets', () => {
  it('no key or device code ever reaches stderr, and the key reaches stdout only through `auth token`', () => {
    const runs = file.runs();
    const secrets = file.secrets();
    // Not vacuous: many runs, the emulators' keys and device codes are in the list, and some `auth token`
    // run really printed one of them (so the list holds the actual secrets).
    expect(runs.length).toBeGreaterThan(30);
    expect(file.emulators.flatMap((e) => e.deviceCodes()).length).toBeGreaterThanOrEqual(2);
    expect(runs.some((r) => r.args[1] === 'token' && secrets.some((s) => r.stdout.includes(s)))).toBe(true);
    assertNoSecretLeaks(runs, secrets);
  });
});
