/**
 * Damaged storage through the built binary: a corrupt index or credentials file is a clear error (exit 1,
 * naming the file and what to do), never "not signed in", and latchkey leaves the damaged file untouched.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliSession, type CliSession } from '@latchkey/conformance/tools';
import { startNanoGptEmulator, type NanoGptEmulator } from '@latchkey/testkit';
import { RUN_TIMEOUT_MS, expectExit, newKey } from './harness.js';

let emulator: NanoGptEmulator;
const sessions: CliSession[] = [];
const key = newKey();
const other = newKey();

beforeAll(async () => {
  emulator = await startNanoGptEmulator({ keys: [key, other] });
});
afterAll(async () => {
  await emulator.close();
  await Promise.all(sessions.map((s) => s.dispose()));
});

async function signedIn(): Promise<CliSession> {
  const session = await createCliSession();
  sessions.push(session);
  const login = await session.run(
    ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
    { input: key, timeoutMs: RUN_TIMEOUT_MS },
  );
  expectExit(login, 0);
  return session;
}

describe.each(['accounts.json', 'credentials.enc'])('a corrupt %s', (name) => {
  it('auth token and auth login stop with exit 1, name the file and the fix, and leave it untouched', async () => {
    const session = await signedIn();
    const file = join(session.configDir, name);
    const damaged =
      name === 'accounts.json'
        ? '{"version": 1, "accounts": [tru'
        : (await readFile(file, 'utf8')).replace(/[A-Za-z]/g, (c) => (c === 'A' ? 'B' : 'A'));
    await writeFile(file, damaged);

    const token = await session.run(['auth', 'token', '--provider', 'nanogpt'], {
      timeoutMs: RUN_TIMEOUT_MS,
    });
    expectExit(token, 1);
    expect(token.stdout).toBe('');
    expect(token.stderr).toContain(file);
    expect(token.stderr).toContain('.bak');
    expect(token.stderr).not.toMatch(/not signed in/i);

    const login = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
      { input: other, timeoutMs: RUN_TIMEOUT_MS },
    );
    expectExit(login, 1);
    expect(login.stderr).toContain(file);
    expect(await readFile(file, 'utf8')).toBe(damaged);
  });
});

describe('LATCHKEY_DEBUG=1', () => {
  it('adds request lines on stderr without the key or the device code', async () => {
    const session = await createCliSession();
    sessions.push(session);
    const device = await startNanoGptEmulator({ interval: 1, autoApproveAfterPolls: 1 });
    try {
      const env = { LATCHKEY_DEBUG: '1' };
      const login = await session.run(['auth', 'login', '--provider', 'nanogpt', '--base-url', device.url], {
        env,
        timeoutMs: RUN_TIMEOUT_MS,
      });
      expectExit(login, 0);
      expect(login.stderr).toMatch(/\[debug\] -> POST http:\/\/127\.0\.0\.1:\d+\/api\/cli-login\/poll/);
      const status = await session.run(['auth', 'status', '--provider', 'nanogpt'], {
        env,
        timeoutMs: RUN_TIMEOUT_MS,
      });
      expect(status.stderr).toMatch(/\[debug\] -> GET .*\/api\/v1\/models/);
      for (const secret of [...device.issuedKeys(), ...device.deviceCodes()]) {
        expect(login.stderr + status.stderr).not.toContain(secret);
      }
    } finally {
      await device.close();
    }
  });
});
