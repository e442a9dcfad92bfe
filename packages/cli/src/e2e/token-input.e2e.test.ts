/**
 * Bad tokens fail fast: through the built binary, every token input (--with-token, --token, the provider's
 * environment variable, LATCHKEY_<ID>_TOKEN) that is not printable ASCII of at most 8 KiB ends with exit 2,
 * a message naming where it came from (never the token), and no request to the server.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCliSession, timeBound, type CliRun, type CliSession } from '@latchkey/conformance/tools';
import { startNanoctlEmulator, type NanoctlEmulator } from '@latchkey/testkit';
import { RUN_TIMEOUT_MS, expectExit, expectNothingStored, disposeAfterLeakCheck } from './harness.js';

// Fast means no request at all (so no retries: today's failure took 6.8 s of them), asserted below; this
// bound, one process start (stretched on a busy machine), only catches a hang.
const fastMs = () => timeBound(5000, { atMost: RUN_TIMEOUT_MS });

// Several CLI runs in a row: generous on a loaded machine (each run has its own kill timer).
const LONG_TEST_MS = 4 * RUN_TIMEOUT_MS;

const sessions: CliSession[] = [];
const emulators: NanoctlEmulator[] = [];
const secrets: string[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});
afterAll(() => disposeAfterLeakCheck(sessions, secrets));

async function setup() {
  const emulator = await startNanoctlEmulator();
  emulators.push(emulator);
  const session = await createCliSession();
  sessions.push(session);
  const run = async (args: string[], env: Record<string, string> = {}, input?: string) => {
    const started = performance.now();
    const result = await session.run(['auth', ...args], {
      env: { LATCHKEY_NANOCTL_BASE_URL: emulator.url, LATCHKEY_NANOGPT_BASE_URL: emulator.url, ...env },
      input,
      timeoutMs: RUN_TIMEOUT_MS,
    });
    return { ...result, ms: performance.now() - started };
  };
  return { emulator, session, run };
}

/** Exit 2 quickly, a clear message naming the source, the token nowhere, the server never asked. */
function expectRefused(
  run: CliRun & { ms: number },
  emulator: NanoctlEmulator,
  message: RegExp,
  token: string,
): void {
  expectExit(run, 2);
  expect(run.ms).toBeLessThan(fastMs());
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/bug in latchkey|Could not reach/);
  const secretPart = token.slice(0, 12);
  expect(run.stdout).not.toContain(secretPart);
  expect(run.stderr).not.toContain(secretPart);
  expect(emulator.requests).toEqual([]);
}

describe('--with-token and --token', () => {
  it(
    'a control character on stdin: exit 2 at once, no request, nothing stored',
    async () => {
      const { emulator, session, run } = await setup();
      const token = secretValue(`nsv_abcdefgh\x01ijklmnop`);
      const login = await run(['login', '--provider', 'nanoctl', '--with-token'], {}, `${token}\n`);
      expectRefused(
        login,
        emulator,
        /^latchkey: The token from standard input \(--with-token\) contains a control character/,
        token,
      );
      await expectNothingStored(session.configDir);
    },
    LONG_TEST_MS,
  );

  it(
    'a 10 MB token on stdin: exit 2, no crash, no request',
    async () => {
      const { emulator, run } = await setup();
      const token = 'A'.repeat(10 * 1024 * 1024);
      const login = await run(['login', '--provider', 'nanoctl', '--with-token'], {}, token);
      expectRefused(
        login,
        emulator,
        /The token from standard input \(--with-token\) is longer than 64 KiB/,
        token,
      );
    },
    LONG_TEST_MS,
  );

  it(
    'a 20 KiB token on stdin (under the read limit, over the token limit): exit 2',
    async () => {
      const { emulator, run } = await setup();
      const token = 'B'.repeat(20 * 1024);
      const login = await run(['login', '--provider', 'nanoctl', '--with-token'], {}, `${token}\n`);
      expectRefused(
        login,
        emulator,
        /The token from standard input \(--with-token\) is longer than 8 KiB/,
        token,
      );
    },
    LONG_TEST_MS,
  );

  it(
    '--token with an escape sequence: exit 2, --json gives the usage envelope',
    async () => {
      const { emulator, run } = await setup();
      const token = secretValue('nsv_abcdefgh\x1b[31mijkl');
      const login = await run(['login', '--provider', 'nanoctl', '--token', token, '--json']);
      expectRefused(login, emulator, /^$/, token);
      expect(JSON.parse(login.stdout)).toMatchObject({ status: 2, warnings: [] });
      expect(JSON.parse(login.stdout).error).toMatchObject({
        code: 'USAGE',
        message: expect.stringMatching(/^The token from --token contains a control character/),
      });
    },
    LONG_TEST_MS,
  );
});

describe('environment variables', () => {
  it(
    'a bad NANOSERVICES_TOKEN: auth token (full CLI and fast path), status and login exit 2',
    async () => {
      const { emulator, run } = await setup();
      const token = secretValue('nsv_abcdefgh\x01ijklmnop');
      const env = { NANOSERVICES_TOKEN: token };
      // The message, then what to do on its own line (as every command's errors).
      const message =
        /^latchkey: The token from NANOSERVICES_TOKEN contains a control character[^\n]*\n {2}Copy the token again[^\n]*\n$/;
      // The fast path, then the full CLI (a trailing `--` is a form the fast path leaves to oclif).
      for (const args of [
        ['token', '--provider', 'nanoctl'],
        ['token', '--provider', 'nanoctl', '--'],
      ]) {
        const printed = await run(args, env);
        expectRefused(printed, emulator, message, token);
        expect(printed.stdout).toBe('');
      }
      const status = await run(['status', '--provider', 'nanoctl'], env);
      expectRefused(
        status,
        emulator,
        /^latchkey: The token from NANOSERVICES_TOKEN contains a control character/,
        token,
      );
      const statusJson = await run(['status', '--json'], env);
      expectRefused(statusJson, emulator, /^$/, token);
      expect(JSON.parse(statusJson.stdout)).toMatchObject({ status: 2, error: { code: 'USAGE' } });
      const login = await run(['login', '--provider', 'nanoctl'], env);
      expectRefused(login, emulator, /The token from NANOSERVICES_TOKEN contains a control character/, token);
    },
    LONG_TEST_MS,
  );

  it(
    'NANOGPT_API_KEY with a space and LATCHKEY_NANOGPT_TOKEN over 8 KiB: auth token and status exit 2',
    async () => {
      const { emulator, run } = await setup();
      const spaced = secretValue('sk-nano-0b7c7d64 5d8e-4bb4-9f7e-2a1c3b4d5e6f');
      for (const args of [
        ['token', '--provider', 'nanogpt'],
        ['status', '--provider', 'nanogpt'],
      ]) {
        expectRefused(
          await run(args, { NANOGPT_API_KEY: spaced }),
          emulator,
          /The token from NANOGPT_API_KEY contains a space/,
          spaced,
        );
      }
      const long = 'C'.repeat(9000);
      expectRefused(
        await run(['token', '--provider', 'nanogpt'], { LATCHKEY_NANOGPT_TOKEN: long }),
        emulator,
        /The token from LATCHKEY_NANOGPT_TOKEN is longer than 8 KiB/,
        long,
      );
    },
    LONG_TEST_MS,
  );
});

function secretValue(value: string): string {
  secrets.push(value);
  return value;
}
