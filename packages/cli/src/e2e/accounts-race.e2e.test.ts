/**
 * Several accounts at once, through the built binary with two NanoTerm keys from the emulator: readers
 * never see a half-switched default (20 concurrent `auth token` loops while another process switches the
 * default back and forth 50 times), two shells in different directories get their own accounts at the
 * same time, and `--account`, LATCHKEY_<ID>_ACCOUNT and a directory choice stay on the fast path (no
 * oclif loaded).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertNoSecretLeaks,
  createCliSession,
  tasksAtOnce,
  type CliRun,
  type CliSession,
} from '@latchkey/conformance/tools';
import { startNanoTermEmulator, type NanoTermEmulator } from '@latchkey/testkit';
import {
  RUN_TIMEOUT_MS,
  errorLines,
  expectExit,
  expectFastPath,
  moduleRecorder,
  readIndex,
} from './harness.js';

const bin = resolve(import.meta.dirname, '../../bin/run.cjs');
/** Concurrent `auth token` loops: enough to overlap the switching, sized to the cores (at most 20). */
const READERS = Math.min(20, tasksAtOnce(4));
/** 100 reads in all, whatever the number of loops. */
const READS_PER_LOOP = Math.ceil(100 / READERS);

let emulator: NanoTermEmulator;
let session: CliSession;
let root: string;
const keys: Record<'work' | 'home', string> = { work: '', home: '' };
/** Runs made outside the session (own working directory or preload), for the leak check. */
const ownRuns: CliRun[] = [];

/** The built binary in `cwd`, with the session's environment (its config dir, HOME, file storage, CI). */
function runIn(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...nodeArgs, bin, ...args], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: session.homeDir,
        XDG_CONFIG_HOME: join(session.homeDir, '.config'),
        XDG_CACHE_HOME: join(session.homeDir, '.cache'),
        LATCHKEY_CONFIG_DIR: session.configDir,
        LATCHKEY_STORAGE: 'file',
        NO_COLOR: '1',
        CI: '1',
        TERM: 'dumb',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      const run: CliRun = { args, stdout, stderr, exitCode, signal };
      ownRuns.push(run);
      done(run);
    });
  });
}

async function switchDefault(account: string): Promise<void> {
  const run = await session.run(['auth', 'switch', '--provider', 'nanoterm', '--account', account], {
    timeoutMs: RUN_TIMEOUT_MS,
  });
  expectExit(run, 0);
}

beforeAll(async () => {
  emulator = await startNanoTermEmulator();
  session = await createCliSession();
  root = await realpath(await mkdtemp(join(tmpdir(), 'latchkey-accounts-race-')));
  for (const name of ['work', 'home'] as const) {
    keys[name] = emulator.createKey({ permission: 'read' }).key;
    const login = await session.run(
      ['auth', 'login', '--provider', 'nanoterm', '--with-token', '--base-url', emulator.url, '--name', name],
      { input: `${keys[name]}\n`, timeoutMs: RUN_TIMEOUT_MS },
    );
    expectExit(login, 0);
  }
  const stored = (await readIndex(session.configDir))?.accounts.map((r) => r.account).sort();
  expect(stored).toEqual(['home', 'work']);
  // Both accounts are there before the race starts.
  const first = await session.run(['auth', 'token', '--provider', 'nanoterm'], { timeoutMs: RUN_TIMEOUT_MS });
  expectExit(first, 0);
}, 4 * RUN_TIMEOUT_MS);

afterAll(async () => {
  try {
    assertNoSecretLeaks([...session.runs, ...ownRuns], [keys.work, keys.home]);
  } finally {
    await session.dispose();
    await emulator.close();
    await rm(root, { recursive: true, force: true });
  }
});

describe('no race between auth switch and auth token', () => {
  it(`${READERS} concurrent auth token loops while the default is switched 50 times: every read is one whole token, exit 0`, async () => {
    const whole = new Set([`${keys.work}\n`, `${keys.home}\n`]);
    const reads: CliRun[] = [];
    const reader = async () => {
      for (let i = 0; i < READS_PER_LOOP; i += 1) {
        reads.push(await runIn(session.homeDir, ['auth', 'token', '--provider', 'nanoterm']));
      }
    };
    const switcher = async () => {
      for (let i = 0; i < 50; i += 1) await switchDefault(i % 2 === 0 ? 'home' : 'work');
    };
    await Promise.all([switcher(), ...Array.from({ length: READERS }, reader)]);

    expect(reads).toHaveLength(READERS * READS_PER_LOOP);
    for (const run of reads) {
      expect(run.signal, run.stderr).toBeNull();
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stderr).toBe('');
      expect(whole.has(run.stdout), `not one whole token: ${JSON.stringify(run.stdout.length)}`).toBe(true);
    }
    // The reads overlapped the switching: both defaults were seen.
    expect(new Set(reads.map((run) => run.stdout)).size).toBe(2);
    // The last switch (i = 49) chose work, and the index says so: no switch was lost.
    expect((await readIndex(session.configDir))?.active.nanoterm).toBe('work');
    const after = await runIn(session.homeDir, ['auth', 'token', '--provider', 'nanoterm']);
    expect(after.stdout).toBe(`${keys.work}\n`);
  }, 300_000);

  it('two shells in different directories with different directory choices get their own accounts at the same time', async () => {
    const workDir = join(root, 'work-repo');
    const homeDir = join(root, 'home-repo');
    await mkdir(join(workDir, 'src', 'deep'), { recursive: true });
    await mkdir(homeDir, { recursive: true });
    for (const [dir, account] of [
      [workDir, 'work'],
      [homeDir, 'home'],
    ] as const) {
      const run = await session.run(
        ['auth', 'switch', '--provider', 'nanoterm', '--account', account, '--dir', dir],
        { timeoutMs: RUN_TIMEOUT_MS },
      );
      expectExit(run, 0);
    }
    // Five rounds, one after the other; in each, both shells and a switch run at the same time.
    const rounds: Array<Record<'inWork' | 'inWorkBelow' | 'inHome', CliRun>> = [];
    for (let i = 0; i < 5; i += 1) {
      const [inWork, inWorkBelow, inHome] = await Promise.all([
        runIn(workDir, ['auth', 'token', '--provider', 'nanoterm']),
        runIn(join(workDir, 'src', 'deep'), ['auth', 'token', '--provider', 'nanoterm']),
        runIn(homeDir, ['auth', 'token', '--provider', 'nanoterm']),
        // The default changes meanwhile: directory choices don't depend on it.
        switchDefault(i % 2 === 0 ? 'home' : 'work'),
      ]);
      rounds.push({ inWork, inWorkBelow, inHome });
    }
    for (const { inWork, inWorkBelow, inHome } of rounds) {
      for (const [run, key] of [
        [inWork, keys.work],
        [inWorkBelow, keys.work],
        [inHome, keys.home],
      ] as const) {
        expect(run.exitCode, run.stderr).toBe(0);
        expect(run.stdout).toBe(`${key}\n`);
      }
    }
  }, 300_000);
});

describe('auth token picks an account on the fast path', () => {
  let recorder: Awaited<ReturnType<typeof moduleRecorder>>;
  beforeAll(async () => {
    recorder = await moduleRecorder(root);
  });

  it.each([
    ['--account', 'a home', ['--account', 'home'], {}, 'home'],
    ['--account=', 'a home', ['--account=home'], {}, 'home'],
    ['LATCHKEY_NANOTERM_ACCOUNT', 'a home', [], { LATCHKEY_NANOTERM_ACCOUNT: 'home' }, 'home'],
    [
      '--account over NANOTERM_API_KEY',
      'a home',
      ['--account', 'home'],
      { NANOTERM_API_KEY: 'nt_env' },
      'home',
    ],
    ['a directory choice', 'home-repo', [], {}, 'home'],
  ] as const)(
    '%s prints the chosen token without loading oclif',
    async (_what, where, args, env, account) => {
      const cwd = where === 'home-repo' ? join(root, 'home-repo') : session.homeDir;
      if (where === 'home-repo') {
        await mkdir(cwd, { recursive: true });
        expectExit(
          await session.run(['auth', 'switch', '--provider', 'nanoterm', '--account', 'home', '--dir', cwd], {
            timeoutMs: RUN_TIMEOUT_MS,
          }),
          0,
        );
      }
      await switchDefault('work'); // so that only the choice under test can print the home key
      const run = await runIn(
        cwd,
        ['auth', 'token', '--provider', 'nanoterm', ...args],
        env,
        recorder.importArgs,
      );
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stdout).toBe(`${keys[account]}\n`);
      expectFastPath(await recorder.modules(), 'fast-token.cjs');
    },
  );

  it('an unknown --account: exit 4 on the fast path, the action listing the names, nothing on stdout', async () => {
    const run = await runIn(
      session.homeDir,
      ['auth', 'token', '--provider', 'nanoterm', '--account', 'nobody'],
      {},
      recorder.importArgs,
    );
    expect(run.exitCode).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(errorLines);
    expect(run.stderr).toContain("'nobody'");
    expect(run.stderr).toContain('home, work');
    expectFastPath(await recorder.modules(), 'fast-token.cjs');
  });

  it('the full CLI (oclif parses -pID) gives the same answers: --account, and an unknown LATCHKEY_NANOTERM_ACCOUNT', async () => {
    await switchDefault('work');
    const chosen = await session.run(['auth', 'token', '-pnanoterm', '--account', 'home'], {
      timeoutMs: RUN_TIMEOUT_MS,
    });
    expectExit(chosen, 0);
    expect(chosen.stdout).toBe(`${keys.home}\n`);
    const env = { LATCHKEY_NANOTERM_ACCOUNT: 'nobody' };
    const full = await session.run(['auth', 'token', '-pnanoterm'], { env, timeoutMs: RUN_TIMEOUT_MS });
    const fast = await session.run(['auth', 'token', '-p', 'nanoterm'], { env, timeoutMs: RUN_TIMEOUT_MS });
    for (const run of [full, fast]) {
      expect(run.exitCode).toBe(4);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('home, work');
    }
    expect(full.stderr).toBe(fast.stderr);
  });
});
