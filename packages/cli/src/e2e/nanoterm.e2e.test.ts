/**
 * NanoTerm through the built `latchkey` binary against the NanoTerm emulator: keys of each permission,
 * rejected and malformed keys, the error envelope (human and --json), 426, 429 short and long, transient
 * failures, and the leak check.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, createCliSession, type CliSession } from '@latchkey/conformance/tools';
import {
  startNanoTermEmulator,
  type NanoTermEmulator,
  type NanoTermEmulatorOptions,
} from '@latchkey/testkit';
import {
  RUN_TIMEOUT_MS,
  expectExit,
  expectNothingStored,
  expectSecretNotOnDisk,
  readIndex,
} from './harness.js';

const emulators: NanoTermEmulator[] = [];
const sessions: CliSession[] = [];
const secrets: string[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
});

async function setup(options: NanoTermEmulatorOptions = {}) {
  const emulator = await startNanoTermEmulator(options);
  emulators.push(emulator);
  const session = await createCliSession();
  sessions.push(session);
  const key = (spec: Parameters<NanoTermEmulator['createKey']>[0] = {}) => {
    const created = emulator.createKey(spec).key;
    secrets.push(created);
    return created;
  };
  const login = (value: string, extra: string[] = [], env: Record<string, string | undefined> = {}) =>
    session.run(
      ['auth', 'login', '--provider', 'nanoterm', '--with-token', '--base-url', emulator.url, ...extra],
      { input: `${value}\n`, env, timeoutMs: RUN_TIMEOUT_MS },
    );
  return { emulator, session, key, login };
}

const masked = (key: string) => `nt_live_...${key.slice(-4)}`;

describe('NanoTerm keys', () => {
  it.each(['full', 'execute', 'read'] as const)(
    'a valid %s key is stored under its masked prefix, with its permission',
    async (permission) => {
      const { emulator, session, key, login } = await setup();
      const value = key({ name: `ci-${permission}`, permission, expiresAt: '2031-01-01T00:00:00.000Z' });
      const run = await login(value);
      expectExit(run, 0);
      expect(run.stderr).toContain(`Logged in to NanoTerm as ${masked(value)}`);
      const record = (await readIndex(session.configDir))?.accounts[0];
      expect(record?.account).toBe(masked(value));
      if (permission === 'full') {
        expect(record?.identity).toMatchObject({ permission: 'full', key: 'ci-full' });
        expect((record as { expiresAt?: string }).expiresAt).toBe('2031-01-01T00:00:00.000Z');
      } else {
        expect(record?.identity).toMatchObject({ permission: 'limited' });
      }
      await expectSecretNotOnDisk(session.configDir, value);
      // Every request carried latchkey's own identity, never nanoterm-cli's, and the key only in the header.
      for (const request of emulator.requests) {
        expect(request.headers['x-client-name']).toBe('latchkey');
        expect(request.headers['x-client-version']).toMatch(/^\d+\.\d+\.\d+/);
        expect(request.headers.authorization).toBe(`Bearer ${value}`);
        expect(request.path).not.toContain(value);
      }
      const status = await session.run(['auth', 'status', '--provider', 'nanoterm'], {
        timeoutMs: RUN_TIMEOUT_MS,
      });
      expectExit(status, 0);
      expect(status.stdout).toContain(masked(value));
      expect(status.stdout).toMatch(new RegExp(`Base URL: +${emulator.url}`));
      expect(status.stdout).toMatch(/Permission: +(full|limited)/);
      expect(status.stdout).toContain('Source:     stored in the file in');
      const token = await session.run(['auth', 'token', '--provider', 'nanoterm'], {
        timeoutMs: RUN_TIMEOUT_MS,
      });
      expect(token.stdout).toBe(`${value}\n`);
    },
  );

  it.each(['...', '…'] as const)(
    'a listing whose display prefix ends in %s: login stores and status shows the full key as full',
    async (prefixEllipsis) => {
      const { session, key, login } = await setup({ prefixEllipsis });
      key({ name: 'other', permission: 'read' });
      const value = key({ name: 'admin', permission: 'full' });
      expectExit(await login(value), 0);
      expect((await readIndex(session.configDir))?.accounts[0]?.identity).toMatchObject({
        permission: 'full',
        key: 'admin',
      });
      const status = await session.run(['auth', 'status', '--provider', 'nanoterm'], {
        timeoutMs: RUN_TIMEOUT_MS,
      });
      expectExit(status, 0);
      expect(status.stdout).toMatch(/Permission: +full\n/);
      expect(status.stdout).not.toContain('limited');
    },
  );

  it('a revoked key: exit 4 with the server message and action, nothing stored', async () => {
    const { emulator, session, key, login } = await setup();
    const value = key();
    emulator.revokeKey(value);
    const run = await login(value);
    expectExit(run, 4);
    expect(run.stderr).toContain('This API key has been revoked.');
    expect(run.stderr).toContain('Docs: https://docs.nanoterm.dev/errors/UNAUTHORIZED');
    await expectNothingStored(session.configDir);
  });

  it('a value without nt_ is refused before any request (exit 2)', async () => {
    const { emulator, session, login } = await setup();
    const run = await login('sk-live-0123456789abcdef');
    expectExit(run, 2);
    expect(run.stderr).toContain('keys start with nt_');
    expect(emulator.requests).toEqual([]);
    await expectNothingStored(session.configDir);
  });

  it('NANOTERM_API_KEY is honoured by token and status and never stored', async () => {
    const { emulator, session, key } = await setup();
    const value = key({ permission: 'read' });
    const env = { NANOTERM_API_KEY: value, LATCHKEY_NANOTERM_BASE_URL: emulator.url };
    const token = await session.run(['auth', 'token', '--provider', 'nanoterm'], {
      env,
      timeoutMs: RUN_TIMEOUT_MS,
    });
    expect(token.stdout).toBe(`${value}\n`);
    const status = await session.run(['auth', 'status', '--provider', 'nanoterm'], {
      env,
      timeoutMs: RUN_TIMEOUT_MS,
    });
    expectExit(status, 0);
    expect(status.stdout).toContain('environment variable NANOTERM_API_KEY');
    await expectNothingStored(session.configDir);
  });
});

describe('NanoTerm errors', () => {
  it('426: stops with the server message and action, exit 1, no retry', async () => {
    const { emulator, session, key, login } = await setup();
    const value = key();
    emulator.faults.add({
      route: 'workspaces',
      kind: 'envelope',
      status: 426,
      code: 'CLI_VERSION_TOO_OLD',
      message: 'Client 0.1.0 is below the minimum required version (0.2.0).',
      action: 'Run: npm install -g latchkey@latest',
    });
    const run = await login(value);
    expectExit(run, 1);
    expect(run.stderr).toContain('Client 0.1.0 is below the minimum required version (0.2.0).');
    expect(run.stderr).toContain('Run: npm install -g latchkey@latest');
    expect(emulator.requests.filter((r) => r.route === 'workspaces')).toHaveLength(1);
    await expectNothingStored(session.configDir);
  });

  it('429 with Retry-After <= 5 s: waits that long, retries exactly once, succeeds', async () => {
    const { emulator, key, login } = await setup();
    const value = key();
    emulator.faults.add({
      route: 'workspaces',
      kind: 'envelope',
      status: 429,
      code: 'RATE_LIMITED',
      headers: { 'retry-after': '2' },
    });
    const run = await login(value);
    expectExit(run, 0);
    const hits = emulator.requests.filter((r) => r.route === 'workspaces');
    expect(hits.map((r) => r.status)).toEqual([429, 200]);
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(1900);
  });

  it('429 with a long Retry-After: stops at once, says how long to wait and the plan hint (--json: the envelope)', async () => {
    const { emulator, session, key, login } = await setup();
    const value = key();
    emulator.faults.add({
      route: 'workspaces',
      kind: 'envelope',
      status: 429,
      code: 'RATE_LIMITED',
      headers: { 'retry-after': '17' },
      action: 'Retry after 17s, or upgrade at https://nanoterm.dev/pricing',
    });
    const run = await login(value, ['--json']);
    expectExit(run, 1);
    expect(JSON.parse(run.stdout)).toEqual({
      status: 1,
      error: {
        code: 'RATE_LIMITED',
        message: 'Rate limit exceeded. Slow down requests or upgrade your plan. Retry in 17 s.',
        action: 'Retry after 17s, or upgrade at https://nanoterm.dev/pricing',
        retryable: true,
        docs: 'https://docs.nanoterm.dev/errors/RATE_LIMITED',
      },
      warnings: [],
    });
    expect(emulator.requests.filter((r) => r.route === 'workspaces')).toHaveLength(1);
    await expectNothingStored(session.configDir);
  });

  it('a second 429 after the one retry stops with the wait; quota 429s are not retried', async () => {
    const { emulator, key, login } = await setup();
    const value = key();
    emulator.faults.add({
      route: 'workspaces',
      kind: 'envelope',
      status: 429,
      code: 'RATE_LIMITED',
      headers: { 'retry-after': '1' },
      times: 2,
    });
    const twice = await login(value);
    expectExit(twice, 1);
    expect(twice.stderr).toContain('Retry in 1 s.');
    expect(emulator.requests.filter((r) => r.route === 'workspaces')).toHaveLength(2);
    emulator.faults.add({
      route: 'workspaces',
      kind: 'envelope',
      status: 429,
      code: 'COMPUTE_QUOTA_EXCEEDED',
      headers: { 'retry-after': '1' },
    });
    const quota = await login(value);
    expectExit(quota, 1);
    expect(quota.stderr).toMatch(/^latchkey: .*compute/i);
    expect(emulator.requests.filter((r) => r.route === 'workspaces')).toHaveLength(3);
  });

  it('503 then success: retried after 0.5 s; an HTML 502 page three times, then a clear error', async () => {
    const { emulator, key, login } = await setup();
    const value = key();
    emulator.faults.add({ route: 'workspaces', kind: 'html', status: 503 });
    expectExit(await login(value), 0);
    const first = emulator.requests.filter((r) => r.route === 'workspaces');
    expect(first.map((r) => r.status)).toEqual([503, 200]);
    expect(first[1]!.at - first[0]!.at).toBeGreaterThanOrEqual(450);

    emulator.faults.add({ route: 'workspaces', kind: 'html', status: 502, times: 4 });
    const run = await login(value);
    expectExit(run, 1);
    expect(run.stderr).toContain('HTTP 502 with an HTML page');
    expect(
      emulator.requests
        .filter((r) => r.route === 'workspaces')
        .slice(2)
        .map((r) => r.status),
    ).toEqual([502, 502, 502, 502]);
  });

  it('a structured 503 envelope is the server answer: not retried, shown as is', async () => {
    const { emulator, key, login } = await setup();
    const value = key();
    emulator.faults.add({ route: 'workspaces', kind: 'envelope', status: 503, code: 'RUNTIME_UNAVAILABLE' });
    const run = await login(value);
    expectExit(run, 1);
    expect(run.stderr).toContain('Container runtime temporarily unreachable.');
    expect(run.stderr).toContain('Retry in a few seconds.');
    expect(emulator.requests.filter((r) => r.route === 'workspaces')).toHaveLength(1);
  });
});

describe('NanoTerm leaks', () => {
  it('the key never appears in any output except auth token', () => {
    const runs = sessions.flatMap((s) => s.runs);
    expect(runs.length).toBeGreaterThan(15);
    expect(runs.some((r) => r.args.includes('token') && secrets.some((s) => r.stdout.includes(s)))).toBe(
      true,
    );
    assertNoSecretLeaks(runs, secrets);
  });
});
