import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerSecretPrefixes } from '@latchkey/errors';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertNoSecretLeaks,
  createCliSession,
  defaultCliBin,
  type CliRun,
  type CliSession,
} from './cli-runner.js';

// A stand-in for the latchkey binary: this tests the runner, not latchkey.
const FAKE_BIN = `
const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'env') {
  process.stdout.write(JSON.stringify(process.env));
} else if (cmd === 'echo-stdin') {
  let input = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (c) => (input += c));
  process.stdin.on('end', () => process.stdout.write('got:' + input));
} else if (cmd === 'exit') {
  process.stderr.write('failing\\n');
  process.exit(Number(rest[0]));
} else if (cmd === 'wait') {
  process.on('SIGINT', () => { process.stderr.write('cancelled\\n'); process.exit(130); });
  process.stderr.write('CODE: ABCD-EFGH\\n');
  setInterval(() => {}, 1000);
} else if (cmd === 'hang') {
  process.on('SIGINT', () => {});
  setInterval(() => {}, 1000);
} else {
  process.stdout.write('args:' + JSON.stringify(process.argv.slice(2)));
}
`;

let dir: string;
let bin: string;
let session: CliSession | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'testkit-fake-bin-'));
  bin = join(dir, 'fake-latchkey.mjs');
  await writeFile(bin, FAKE_BIN);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await session?.dispose();
  session = undefined;
});

describe('createCliSession', () => {
  it('runs the binary with the arguments and records the run', async () => {
    session = await createCliSession({ bin });
    const run = await session.run(['auth', 'status', '--json']);
    expect(run).toEqual({
      args: ['auth', 'status', '--json'],
      stdout: 'args:["auth","status","--json"]',
      stderr: '',
      exitCode: 0,
      signal: null,
    });
    expect(session.runs).toEqual([run]);
  });

  it('gives a clean environment with its own HOME and config dir, and no outside variables', async () => {
    process.env.TESTKIT_OUTSIDE_SECRET = 'should-not-leak';
    try {
      session = await createCliSession({ bin, env: { SESSION_VAR: 's' } });
      const env = JSON.parse((await session.run(['env'])).stdout) as Record<string, string>;
      expect(env.TESTKIT_OUTSIDE_SECRET).toBeUndefined();
      expect(env.HOME).toBe(session.homeDir);
      expect(env.LATCHKEY_CONFIG_DIR).toBe(session.configDir);
      expect(env.LATCHKEY_STORAGE).toBe('file');
      expect(env.NO_COLOR).toBe('1');
      expect(env.CI).toBe('1');
      expect(env.SESSION_VAR).toBe('s');
      expect(env.PATH).toBe(process.env.PATH);
      expect(existsSync(session.configDir)).toBe(true);
    } finally {
      delete process.env.TESTKIT_OUTSIDE_SECRET;
    }
  });

  it('adds and removes variables per run', async () => {
    session = await createCliSession({ bin });
    const env = JSON.parse(
      (await session.run(['env'], { env: { LATCHKEY_NANOGPT_TOKEN: 'x', CI: undefined } })).stdout,
    ) as Record<string, string>;
    expect(env.LATCHKEY_NANOGPT_TOKEN).toBe('x');
    expect('CI' in env).toBe(false);
  });

  it('feeds input on stdin and closes it; without input stdin is closed and empty', async () => {
    session = await createCliSession({ bin });
    expect((await session.run(['echo-stdin'], { input: 'sk-nano-secret\n' })).stdout).toBe(
      'got:sk-nano-secret\n',
    );
    expect((await session.run(['echo-stdin'])).stdout).toBe('got:');
  });

  it('reports the exit code and stderr', async () => {
    session = await createCliSession({ bin });
    const run = await session.run(['exit', '4']);
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toBe('failing\n');
  });

  it('streams stderr live and sends SIGINT on abort', async () => {
    session = await createCliSession({ bin });
    const controller = new AbortController();
    let seen = '';
    const run = await session.run(['wait'], {
      signal: controller.signal,
      onStderr: (chunk) => {
        seen += chunk;
        if (seen.includes('CODE:')) controller.abort();
      },
    });
    expect(seen).toContain('ABCD-EFGH');
    expect(run.exitCode).toBe(130);
    expect(run.stderr).toContain('cancelled');
  });

  it('spawn gives the child process and a done promise', async () => {
    session = await createCliSession({ bin });
    let ready: () => void = () => {};
    const started = new Promise<void>((resolve) => (ready = resolve));
    const { child, done } = session.spawn(['wait'], {
      onStderr: (chunk) => chunk.includes('CODE:') && ready(),
    });
    expect(child.pid).toBeGreaterThan(0);
    await started;
    child.kill('SIGINT');
    expect((await done).exitCode).toBe(130);
  });

  it('kills a run that takes too long and fails with its output', async () => {
    session = await createCliSession({ bin });
    await expect(session.run(['hang'], { timeoutMs: 200 })).rejects.toThrow(/did not finish within 200 ms/);
    expect(session.runs[0]?.signal).toBe('SIGKILL');
  });

  it('dispose removes the temporary directories and kills what still runs', async () => {
    const own = await createCliSession({ bin });
    const { done } = own.spawn(['hang']);
    await own.dispose();
    expect((await done).signal).toBe('SIGKILL');
    expect(existsSync(own.configDir)).toBe(false);
    expect(existsSync(own.homeDir)).toBe(false);
  });

  it('takes the binary from LATCHKEY_BIN when no bin is given', async () => {
    const saved = process.env.LATCHKEY_BIN;
    process.env.LATCHKEY_BIN = bin;
    try {
      session = await createCliSession();
      expect((await session.run(['x'])).stdout).toBe('args:["x"]');
    } finally {
      if (saved === undefined) delete process.env.LATCHKEY_BIN;
      else process.env.LATCHKEY_BIN = saved;
    }
  });

  it('defaults to packages/cli/bin/run.cjs', () => {
    const packages = fileURLToPath(new URL('../../', import.meta.url));
    expect(defaultCliBin()).toBe(join(packages, 'cli', 'bin', 'run.cjs'));
  });
});

describe('assertNoSecretLeaks', () => {
  // The provider these keys come from declares the prefix; masks keep it.
  registerSecretPrefixes(['sk-nano-']);
  const secret = 'sk-nano-0f0e4c1a-7d1e-4b7a-9a55-3e1f2d9c8b7a';
  const run = (args: string[], stdout: string, stderr: string): CliRun => ({
    args,
    stdout,
    stderr,
    exitCode: 0,
    signal: null,
  });

  it('passes when no secret appears', () => {
    expect(() =>
      assertNoSecretLeaks([run(['auth', 'status'], 'signed in as sk-nano-0f0e...', '')], [secret]),
    ).not.toThrow();
  });

  it('names the run and stream of a leak on stderr, showing the secret only masked', () => {
    let message = '';
    try {
      assertNoSecretLeaks(
        [run(['auth', 'login', '--provider', 'nanogpt'], '', `debug: key=${secret}\n`)],
        [secret],
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('stderr of `latchkey auth login --provider nanogpt`');
    expect(message).not.toContain(secret);
  });

  it('allows the secret on stdout of `auth token` only, by default', () => {
    expect(() => assertNoSecretLeaks([run(['auth', 'token'], `${secret}\n`, '')], [secret])).not.toThrow();
    expect(() => assertNoSecretLeaks([run(['auth', 'status'], `${secret}\n`, '')], [secret])).toThrow(
      /stdout of `latchkey auth status`/,
    );
    expect(() => assertNoSecretLeaks([run(['auth', 'token'], '', secret)], [secret])).toThrow(/stderr/);
  });

  it('takes a custom stdoutAllowed and masks secrets passed as arguments', () => {
    const runs = [run(['run', '--token', secret], secret, '')];
    expect(() =>
      assertNoSecretLeaks(runs, [secret], { stdoutAllowed: (r) => r.args[0] === 'run' }),
    ).not.toThrow();
    expect(() => assertNoSecretLeaks(runs, [secret])).toThrow(
      /stdout of `latchkey run --token sk-nano-\.\.\.8b7a`/,
    );
  });
});
