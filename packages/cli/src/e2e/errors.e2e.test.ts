/**
 * Usage errors and refusals through the built binary: the base-URL rule (checked before a byte is sent),
 * bad flags, unknown providers, and a stored credential the server no longer accepts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, createCliSession } from '@latchkey/conformance/tools';
import { type Fault } from '@latchkey/testkit';
import {
  E2eFile,
  RUN_TIMEOUT_MS,
  expectExit,
  expectNothingStored,
  expectTokenMissing,
  newKey,
  readIndex,
} from './harness.js';

const file = new E2eFile();
afterEach(() => file.cleanup());

const opts = { timeoutMs: RUN_TIMEOUT_MS };

describe('the base URL rule: https://, or http:// only for loopback', () => {
  it('--base-url http://example.com: exit 2 with a clear message, nothing stored', async () => {
    const session = await file.session();
    const run = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--base-url', 'http://example.com'],
      opts,
    );
    expectExit(run, 2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^latchkey: --base-url uses plain http:\/\/ for example\.com/m);
    expect(run.stderr).toMatch(/https:\/\//);
    await expectNothingStored(session.configDir);
  });

  it('a non-loopback http:// host that would reach the emulator: refused before a single request', async () => {
    // 0.0.0.0 is not one of the loopback names, yet on Linux it connects to the emulator on 127.0.0.1: if the
    // rule were not enforced before sending, the emulator would see the request.
    const key = newKey();
    const emulator = await file.emulator({ keys: [key], autoApproveAfterPolls: 0 });
    const session = await file.session();
    const sneaky = emulator.url.replace('127.0.0.1', '0.0.0.0');

    const device = await session.run(['auth', 'login', '--provider', 'nanogpt', '--base-url', sneaky], opts);
    expectExit(device, 2);
    expect(device.stderr).toContain('plain http://');

    const withToken = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', sneaky],
      {
        ...opts,
        input: `${key}\n`,
      },
    );
    expectExit(withToken, 2);

    const fromEnv = await session.run(['auth', 'login', '--provider', 'nanogpt', '--token', key], {
      ...opts,
      env: { LATCHKEY_NANOGPT_BASE_URL: sneaky },
    });
    expectExit(fromEnv, 2);
    expect(fromEnv.stderr).toContain('LATCHKEY_NANOGPT_BASE_URL');

    const status = await session.run(['auth', 'status'], {
      ...opts,
      env: { NANOGPT_API_KEY: key, LATCHKEY_NANOGPT_BASE_URL: sneaky },
    });
    expect(status.exitCode).not.toBe(0);
    expect(status.stdout).not.toContain(': valid');

    expect(emulator.requests).toEqual([]);
    await expectNothingStored(session.configDir);

    // The same emulator on a loopback address is fine (the test above is not failing for another reason).
    const ok = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--token', key, '--base-url', emulator.url],
      opts,
    );
    expectExit(ok, 0);
    expect(emulator.requests).toHaveLength(1);
  });

  it.each([
    ['not-a-url', /not a valid URL/],
    ['ftp://127.0.0.1/', /must be an https:\/\/ URL/],
    ['https://user:pass@example.com', /user name or password/],
  ])('--base-url %s: exit 2', async (value, message) => {
    const session = await file.session();
    const run = await session.run(['auth', 'login', '--provider', 'nanogpt', '--base-url', value], opts);
    expectExit(run, 2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toContain('pass@');
  });

  it('loopback names are accepted over http: localhost', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const session = await file.session();
    const localhost = emulator.url.replace('127.0.0.1', 'localhost');
    const run = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', localhost],
      {
        ...opts,
        input: `${key}\n`,
      },
    );
    // localhost may resolve to ::1 first while the emulator listens on 127.0.0.1 only: then the request
    // fails as a network error (exit 1), but never as a usage error.
    expect(run.exitCode).not.toBe(2);
    expect(run.stderr).not.toContain('plain http://');
  });
});

describe('usage errors', () => {
  it('an unknown flag: exit 2 naming the flag', async () => {
    const session = await file.session();
    const run = await session.run(['auth', 'login', '--provider', 'nanogpt', '--bogus'], opts);
    expectExit(run, 2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('--bogus');
  });

  it('an unknown provider: exit 2 listing the installed ones', async () => {
    const session = await file.session();
    for (const args of [
      ['auth', 'login', '--provider', 'nope'],
      ['auth', 'token', '--provider', 'nope'],
    ]) {
      const run = await session.run(args, opts);
      expectExit(run, 2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('"nope"');
      expect(run.stderr).toContain('nanogpt');
    }
  });

  it('auth token prints its errors like every command: the action on its own line, nothing on stdout', async () => {
    const session = await file.session();
    const run = await session.run(['auth', 'token', '--bogus'], opts);
    expectExit(run, 2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'latchkey: Nonexistent flag: --bogus\n  Run the command with --help to see its flags.\n',
    );
    // The fast path (a known provider, nothing stored) prints the same shape.
    const missing = await session.run(['auth', 'token', '--provider', 'nanogpt'], opts);
    expectExit(missing, 4);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe(
      'latchkey: Not signed in to NanoGPT.\n  Run `latchkey auth login --provider nanogpt` or set NANOGPT_API_KEY or LATCHKEY_NANOGPT_TOKEN.\n',
    );
  });

  it.each([['login'], ['login', 'nanogpt'], ['logout']])(
    '`latchkey %s` (as in `doppler login`) points at the auth command: exit 2',
    async (...args) => {
      const session = await file.session();
      const run = await session.run(args, opts);
      expectExit(run, 2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(
        `latchkey: "${args[0]}" is not a latchkey command.\n  Did you mean \`auth ${args[0]}\`?\n`,
      );
    },
  );

  it('auth token --provider with a typo: exit 2 with a did-you-mean on the action line', async () => {
    const session = await file.session();
    const run = await session.run(['auth', 'token', '--provider', 'nangpt'], opts);
    expectExit(run, 2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^latchkey: Unknown provider "nangpt"\.\n {2}Did you mean nanogpt\? Choose one of: /,
    );
  });

  it('--client-name longer than 64 characters: exit 2 before any request', async () => {
    const emulator = await file.emulator();
    const session = await file.session();
    const run = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--client-name', 'x'.repeat(65), '--base-url', emulator.url],
      opts,
    );
    expectExit(run, 2);
    expect(run.stderr).toContain('--client-name');
    expect(emulator.requests).toEqual([]);
  });

  it('--client-name is sent as client_name and names the key', async () => {
    const emulator = await file.emulator({ autoApproveAfterPolls: 0 });
    const session = await file.session();
    const run = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--client-name', 'ci-runner', '--base-url', emulator.url],
      opts,
    );
    expectExit(run, 0);
    expect(emulator.requests.find((r) => r.route === 'start')!.body).toEqual({ client_name: 'ci-runner' });
    expect(emulator.issuedKeyDetails()).toEqual([expect.objectContaining({ name: 'CLI (ci-runner)' })]);
    expect((await readIndex(session.configDir))?.accounts[0]?.identity).toEqual({ key: 'CLI (ci-runner)' });
  });
});

describe('not signed in / rejected', () => {
  it('status, logout and token with nothing stored: exit 4', async () => {
    const session = await file.session();
    const status = await session.run(['auth', 'status'], opts);
    expectExit(status, 4);
    expect(status.stdout).toBe('');
    expect(status.stderr).toContain('Not signed in');
    const logout = await session.run(['auth', 'logout', '--provider', 'nanogpt'], opts);
    expectExit(logout, 4);
    expectTokenMissing(await session.run(['auth', 'token'], opts));
    expect(await readIndex(session.configDir)).toBeUndefined();
  });

  it('a stored key revoked on the server: status exit 4 "rejected", token still prints it (no network)', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const session = await file.session();
    expectExit(
      await session.run(
        ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
        {
          ...opts,
          input: `${key}\n`,
        },
      ),
      0,
    );
    emulator.revokeKey(key);
    const status = await session.run(['auth', 'status'], opts);
    expectExit(status, 4);
    expect(status.stdout).toContain('rejected by the server');
    expect(status.stdout).not.toContain(': valid');

    const before = emulator.requests.length;
    const token = await session.run(['auth', 'token'], opts);
    expectExit(token, 0);
    expect(token.stdout).toBe(`${key}\n`);
    expect(emulator.requests).toHaveLength(before);
  });

  it('status when the server is down: exit 1, "could not be checked"', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const session = await file.session();
    expectExit(
      await session.run(
        ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
        {
          ...opts,
          input: `${key}\n`,
        },
      ),
      0,
    );
    // Every attempt (the first and its 3 retries) answers a CDN error page.
    emulator.faults.add({ route: 'models', kind: 'html', status: 502, times: 10 });
    const status = await session.run(['auth', 'status', '--json'], opts);
    expectExit(status, 1);
    expect(JSON.parse(status.stdout)).toEqual({
      status: 1,
      result: {
        credentials: [
          expect.objectContaining({
            validity: 'unreachable',
            error: expect.objectContaining({ code: 'UNEXPECTED_RESPONSE' }),
          }),
        ],
      },
      warnings: [],
    });
  });
});

describe('server words that echo the key', () => {
  // A server (or proxy) error that quotes the key back must not put it on stdout or stderr, with or without
  // --json. This test uses its own session so that its runs do not also fail the file's final leak check.
  it('are redacted in human errors and in --json error envelopes (login and status)', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const session = await createCliSession();
    try {
      const echo: Fault = {
        route: 'models',
        kind: 'status',
        status: 403,
        body: { error: { message: `key ${key} is not allowed from this origin` } },
      };
      const login = ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url];
      emulator.faults.add(echo);
      const human = await session.run(login, { ...opts, input: `${key}\n` });
      expectExit(human, 4);
      expect(human.stderr).toContain('NanoGPT refused the key');

      emulator.faults.add(echo);
      const json = await session.run([...login, '--json'], { ...opts, input: `${key}\n` });
      expectExit(json, 4);
      expect(JSON.parse(json.stdout)).toEqual({
        status: 4,
        error: expect.objectContaining({ code: 'FORBIDDEN' }),
        warnings: [],
      });

      expectExit(await session.run(login, { ...opts, input: `${key}\n` }), 0);
      emulator.faults.add(echo);
      const status = await session.run(['auth', 'status', '--json'], opts);
      expectExit(status, 4);
      expect(JSON.parse(status.stdout)).toEqual({
        status: 4,
        result: {
          credentials: [
            expect.objectContaining({
              validity: 'rejected',
              error: expect.objectContaining({ code: 'FORBIDDEN' }),
            }),
          ],
        },
        warnings: [],
      });

      assertNoSecretLeaks(session.runs, [key]);
    } finally {
      await session.dispose();
    }
  });
});

describe('secrets', () => {
  it('no key ever reaches stderr, and reaches stdout only through `auth token`', () => {
    const runs = file.runs();
    const secrets = file.secrets();
    expect(runs.length).toBeGreaterThan(20);
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    expect(runs.some((r) => r.args[1] === 'token' && secrets.some((s) => r.stdout.includes(s)))).toBe(true);
    assertNoSecretLeaks(runs, secrets);
  });
});
