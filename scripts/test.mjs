// `npm test`: set-up (scripts/setup.sh), then two streams side by side: the CLI's tests (the longest task,
// started first) and, meanwhile, the formatting check, typecheck and lint, then every other package's tests.
// Each step runs even when one before it failed, and every package's tests run even when another's fail
// (turbo --continue). It ends with one line summing every package's tests, `N passed, N failed, N
// skipped`, and exits non-zero when anything failed.
//
// The run has a temporary directory of its own (TMPDIR and TMUX_TMPDIR point into it, so every test's
// temporary files, sockets and caches land there), removed when the run ends, fails, or is stopped with
// Ctrl-C or SIGTERM; a directory left by a run that was killed outright (SIGKILL) is removed by the next.
//
// Arguments are turbo's package filters, for a part of the run: `npm test -- --filter=@latchkey/http`.
//
// Plain Node (no dependencies, any Node npm runs on): the steps themselves run through scripts/toolchain.sh.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const started = Date.now();
const filters = process.argv.slice(2);
for (const arg of filters) {
  if (!/^--filter=\S+$/.test(arg)) {
    console.error(`npm test: unknown argument ${arg} (only turbo filters: --filter=<package>)`);
    process.exit(2);
  }
}
const RUN_PREFIX = 'latchkey-test-';

/** Removes the directories of earlier runs whose process is gone (a run killed with SIGKILL). */
function removeStaleRuns(base) {
  for (const name of readdirSync(base)) {
    const match = new RegExp(`^${RUN_PREFIX}(\\d+)-`).exec(name);
    if (!match || Number(match[1]) === process.pid) continue;
    try {
      process.kill(Number(match[1]), 0);
      continue; // still running (or another process has that id now): leave it
    } catch (error) {
      if (error.code !== 'ESRCH') continue;
    }
    rmSync(join(base, name), { recursive: true, force: true, maxRetries: 3 });
  }
}

const base = tmpdir();
removeStaleRuns(base);
const runDir = mkdtempSync(join(base, `${RUN_PREFIX}${process.pid}-`));
const temp = join(runDir, 'tmp');
const results = join(runDir, 'results');
mkdirSync(temp);
mkdirSync(results);
// Like /tmp for the tests: some run a process as another user (as root, to check ownership rules), which
// must reach its files in there.
chmodSync(runDir, 0o755);
chmodSync(temp, 0o1777);
const env = { ...process.env, TMPDIR: temp, TMUX_TMPDIR: temp, LATCHKEY_TEST_RESULTS: results };

let removed = false;
function removeRunDir() {
  if (removed) return;
  removed = true;
  // A test's child process may still be writing as it dies: retry a few times.
  rmSync(runDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
process.on('exit', removeRunDir);

/** The steps running now (each in a process group of its own). */
const running = new Set();
let stoppedBy;
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
for (const signal of Object.keys(SIGNAL_EXIT)) {
  process.on(signal, () => {
    if (stoppedBy) return;
    stoppedBy = signal;
    process.stderr.write(`\nnpm test: ${signal}, stopping\n`);
    if (running.size === 0) process.exit(SIGNAL_EXIT[signal]);
    // Each step runs in a process group of its own: the signal goes to all of it, then, if it is still
    // there after 10 s, SIGKILL. The run exits once every step has (see run()).
    for (const child of running) {
      const group = -child.pid;
      try {
        process.kill(group, signal);
      } catch {
        // Already gone.
      }
      setTimeout(() => {
        try {
          process.kill(group, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }, 10_000).unref();
    }
  });
}

/** Runs a command in the repository, output straight through; resolves with its exit code. */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    running.add(child);
    child.once('error', (error) => {
      process.stderr.write(`npm test: could not start ${command}: ${error.message}\n`);
      resolve(127);
    });
    child.once('close', (code, signal) => {
      running.delete(child);
      if (stoppedBy && running.size === 0) process.exit(SIGNAL_EXIT[stoppedBy]);
      // A step started after the signal (the next one of its stream) is not started at all.
      if (stoppedBy) return;
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

const toolchain = (...args) => run('bash', [join(root, 'scripts', 'toolchain.sh'), ...args]);
const failedSteps = [];

if ((await run('bash', [join(root, 'scripts', 'setup.sh')])) !== 0) {
  console.log('0 passed, 0 failed, 0 skipped; set-up failed (scripts/setup.sh), no test ran');
  process.exit(1);
}
// Package tests: one package at a time in each stream, each package's vitest sizing its own workers to the
// cores. The builds they depend on were made by set-up (--only: no build is replayed from turbo's cache
// while a test runs the built files).
const reporter = join(root, 'scripts', 'vitest-summary-reporter.mjs');
const packageTests = (...selection) =>
  toolchain(
    'pnpm',
    'exec',
    'turbo',
    'run',
    'test',
    '--continue',
    '--only',
    '--concurrency=1',
    ...selection,
    '--',
    '--reporter=default',
    `--reporter=${reporter}`,
  );
const checks = async () => {
  if ((await toolchain('pnpm', 'run', '-s', 'format:check')) !== 0) failedSteps.push('formatting');
  const code = await toolchain(
    'pnpm',
    'exec',
    'turbo',
    'run',
    'typecheck',
    'lint',
    '--continue',
    '--only',
    `--concurrency=${Math.max(1, availableParallelism())}`,
    ...filters,
  );
  if (code !== 0) failedSteps.push('typecheck or lint');
};
const CLI = '@latchkey/cli';
let tests;
if (filters.length > 0) {
  // Part of the run: its checks, then its packages' tests.
  await checks();
  tests = await packageTests(...filters);
} else {
  const [cli, others] = await Promise.all([
    packageTests(`--filter=${CLI}`),
    checks().then(() => packageTests(`--filter=!${CLI}`)),
  ]);
  tests = cli !== 0 ? cli : others;
}

// Every package with a test script (of the filtered ones: every one that reported) must have reported;
// one that did not counts as a failure.
const total = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
for (const group of ['packages', 'plugins', 'examples']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const entry of readdirSync(dir).sort()) {
    const manifest = join(dir, entry, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    if (!pkg.scripts?.test) continue;
    const file = join(results, `${pkg.name.replace(/[^\w.-]+/g, '+')}.json`);
    if (filters.length > 0 && !existsSync(file)) continue;
    const got = existsSync(file)
      ? JSON.parse(readFileSync(file, 'utf8'))
      : { passed: 0, failed: 1, skipped: 0, failures: ['its tests did not run or did not report'] };
    for (const key of Object.keys(total)) total[key] += got[key];
    lines.push(`  ${pkg.name.padEnd(28)} ${got.passed} passed, ${got.failed} failed, ${got.skipped} skipped`);
    for (const failure of got.failures.slice(0, 20)) lines.push(`      ✗ ${failure}`);
    if (got.failures.length > 20) lines.push(`      … and ${got.failures.length - 20} more`);
  }
}
if (tests !== 0 && total.failed === 0) {
  total.failed += 1;
  lines.push('  the test run itself failed (see above)');
}
const took = Math.round((Date.now() - started) / 1000);
console.log(`\nTests by package (npm test took ${Math.floor(took / 60)} min ${took % 60} s):`);
console.log(lines.join('\n'));
const also = failedSteps.length > 0 ? `; ${failedSteps.join(' and ')} failed (see above)` : '';
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped${also}`);
process.exitCode = total.failed > 0 || failedSteps.length > 0 ? 1 : 0;
