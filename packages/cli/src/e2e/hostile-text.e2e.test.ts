/**
 * Server text is data, not terminal control: emulators answer with names and error texts full of escape
 * sequences (CSI, OSC title, OSC 8 hyperlink, OSC 52 clipboard), 8-bit CSI, BEL and bidi overrides. Through
 * the built binary, neither stdout nor stderr (human or --json) may carry any of them, and the words stay.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCliSession, type CliRun, type CliSession } from '@latchkey/conformance/tools';
import { startNanoctlEmulator, startNanoTermEmulator } from '@latchkey/testkit';
import { RUN_TIMEOUT_MS, expectExit, disposeAfterLeakCheck } from './harness.js';

/** Visible words wrapped in every kind of terminal control a hostile server might send. */
const hostile = (word: string) =>
  `\x1b]0;pwned\x07${word}-\x1b[31mred\x1b[0m \x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\ ` +
  `\u202eltr\u202c \u2066iso\u2069 \x9b2Jc1 \x1b]52;c;ZWNobyBwd25lZA==\x07bel\x07end`;
const words = (word: string) => [`${word}-red`, 'link', 'ltr', 'iso', 'c1', 'belend'];

// eslint-disable-next-line no-control-regex
const terminalControl = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
// What JSON.stringify would have turned ESC, BEL and the 8-bit CSI into.
const escapedControl = /\\u00(?:1b|07|9b)/i;

/** No terminal control on either stream; every visible word is still there. */
function expectClean(run: CliRun, word: string): void {
  for (const [name, text] of [
    ['stdout', run.stdout],
    ['stderr', run.stderr],
  ] as const) {
    expect(text, `${name} of latchkey ${run.args.join(' ')}`).not.toMatch(terminalControl);
    expect(text, `${name} of latchkey ${run.args.join(' ')}`).not.toMatch(escapedControl);
  }
  for (const visible of words(word)) expect(`${run.stdout}${run.stderr}`).toContain(visible);
}

// Several CLI runs in a row: generous on a loaded machine (each run has its own kill timer).
const LONG_TEST_MS = 4 * RUN_TIMEOUT_MS;

const sessions: CliSession[] = [];
const closers: Array<() => Promise<void>> = [];
const secrets: string[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});
afterAll(() => disposeAfterLeakCheck(sessions, secrets));

async function session(): Promise<CliSession> {
  const created = await createCliSession();
  sessions.push(created);
  return created;
}

describe('a name from the server (nanoctl username)', () => {
  it(
    'login, status and token: human and --json output carry no terminal control',
    async () => {
      const emulator = await startNanoctlEmulator();
      closers.push(() => emulator.close());
      const cli = await session();
      const { token } = emulator.addToken({ username: hostile('Ada') });
      secrets.push(token);
      // Storage refuses an account label with control characters, so: --token (not stored) and the env token.
      const env = { LATCHKEY_NANOCTL_BASE_URL: emulator.url };
      const run = (args: string[], extra: Record<string, string> = {}) =>
        cli.run(['auth', ...args], { env: { ...env, ...extra }, timeoutMs: RUN_TIMEOUT_MS });

      const login = await run(['login', '--provider', 'nanoctl', '--token', token]);
      expectExit(login, 0);
      expectClean(login, 'Ada');
      const loginJson = await run(['login', '--provider', 'nanoctl', '--token', token, '--json']);
      expectExit(loginJson, 0);
      expectClean(loginJson, 'Ada');
      expect(JSON.parse(loginJson.stdout).result.identity.name).toBe('Ada-red link ltr iso c1 belend');

      const fromEnv = { NANOSERVICES_TOKEN: token };
      const status = await run(['status', '--provider', 'nanoctl'], fromEnv);
      expectExit(status, 0);
      expectClean(status, 'Ada');
      const statusJson = await run(['status', '--provider', 'nanoctl', '--json'], fromEnv);
      expectExit(statusJson, 0);
      expectClean(statusJson, 'Ada');

      // `auth token` prints the token itself, unaltered.
      const printed = await run(['token', '--provider', 'nanoctl'], fromEnv);
      expectExit(printed, 0);
      expect(printed.stdout).toBe(`${token}\n`);
    },
    LONG_TEST_MS,
  );
});

describe('an error message from the server', () => {
  it(
    'nanoctl: an expiry message with escape sequences, human and --json',
    async () => {
      const emulator = await startNanoctlEmulator();
      closers.push(() => emulator.close());
      const cli = await session();
      const { token } = emulator.addToken();
      secrets.push(token);
      emulator.faults.add({
        route: 'whoami',
        kind: 'status',
        status: 401,
        body: { error: 'token_expired', message: hostile('Expired') },
        times: 2,
      });
      const env = { LATCHKEY_NANOCTL_BASE_URL: emulator.url };
      for (const json of [false, true]) {
        const run = await cli.run(
          ['auth', 'login', '--provider', 'nanoctl', '--token', token, ...(json ? ['--json'] : [])],
          { env, timeoutMs: RUN_TIMEOUT_MS },
        );
        expectExit(run, 4);
        expectClean(run, 'Expired');
        if (json)
          expect(JSON.parse(run.stdout)).toMatchObject({ status: 4, error: { code: 'TOKEN_EXPIRED' } });
      }
    },
    LONG_TEST_MS,
  );

  it(
    'nanoterm: an error envelope whose code, message and action carry escape sequences',
    async () => {
      const emulator = await startNanoTermEmulator();
      closers.push(() => emulator.close());
      const cli = await session();
      const { key } = emulator.createKey({ name: hostile('Key') });
      secrets.push(key);
      const env = { LATCHKEY_NANOTERM_BASE_URL: emulator.url, LATCHKEY_STORAGE: 'file' };

      // A key name shown by login and status.
      const login = await cli.run(['auth', 'login', '--provider', 'nanoterm', '--with-token'], {
        env,
        input: `${key}\n`,
        timeoutMs: RUN_TIMEOUT_MS,
      });
      expectExit(login, 0);
      expectClean(login, 'Key');
      const status = await cli.run(['auth', 'status', '--provider', 'nanoterm', '--json'], {
        env,
        timeoutMs: RUN_TIMEOUT_MS,
      });
      expectExit(status, 0);
      expectClean(status, 'Key');

      // Envelope fields: the message on one line, the action on the next, nothing else in between.
      emulator.faults.add({
        route: 'workspaces',
        kind: 'envelope',
        status: 401,
        code: 'UNAUTHORIZED\x1b[2J',
        message: hostile('Message'),
        action: `${hostile('Action')}\nlatchkey: fake line`,
        times: 2,
      });
      for (const json of [false, true]) {
        const run = await cli.run(
          ['auth', 'login', '--provider', 'nanoterm', '--token', key, ...(json ? ['--json'] : [])],
          { env, timeoutMs: RUN_TIMEOUT_MS },
        );
        expectExit(run, 4);
        expectClean(run, 'Message');
        expectClean(run, 'Action');
        if (json) {
          expect(JSON.parse(run.stdout)).toMatchObject({ status: 4, error: { code: 'UNAUTHORIZED' } });
        } else {
          expect(run.stderr.split('\n').filter((line) => line.startsWith('latchkey:'))).toHaveLength(1);
        }
      }
    },
    LONG_TEST_MS,
  );
});
