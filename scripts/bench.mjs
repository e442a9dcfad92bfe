#!/usr/bin/env node
// Start-up cost of `latchkey auth token` (and of `latchkey exec` over the command it runs), measured against `node -e 0` in the same run and the same
// environment, so the machine (CPU, Node version, NODE_EXTRA_CA_CERTS, ...) cancels out of the ratio.
// A measurement, not a test: timings never change the exit code. See docs/performance.md.
//
//   node scripts/bench.mjs [--runs N] [--warmup N] [--json]
//
// Needs a build (`pnpm exec turbo run build`). Plain Node ESM, no dependencies.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'packages/cli/bin/run.js');
const emulatorBin = join(root, 'packages/testkit/dist/bin/nanogpt-emulator.js');
const node = process.execPath;

const usage = 'Usage: node scripts/bench.mjs [--runs N] [--warmup N] [--json]';
let flags;
try {
  flags = parseArgs({
    options: {
      runs: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
} catch (error) {
  console.error(`bench: ${error.message}\n${usage}`);
  process.exit(2);
}
if (flags.help) {
  console.log(usage);
  process.exit(0);
}
const runs = Number(flags.runs);
const warmup = Number(flags.warmup);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(warmup) || warmup < 0) {
  console.error(`bench: --runs needs an integer >= 1 and --warmup an integer >= 0.\n${usage}`);
  process.exit(2);
}

/** Progress and human output: stderr in --json mode, so stdout stays one JSON document. */
const say = (line = '') => (flags.json ? process.stderr : process.stdout).write(`${line}\n`);
const note = (line) => process.stderr.write(`bench: ${line}\n`);

function setupFailure(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}

for (const file of [bin, join(root, 'packages/cli/dist/commands/auth/token.js'), emulatorBin]) {
  if (!existsSync(file)) setupFailure(`${file} is missing; build first: pnpm exec turbo run build`);
}

// ---------------------------------------------------------------------------------------------------------
// A clean, private environment shared by every case. Only the config/data/cache directories and the
// credential variable differ from the caller's environment; NODE_EXTRA_CA_CERTS and the rest are kept, so
// `node -e 0` pays whatever this machine makes every Node process pay.
const work = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
const cleanup = () => rmSync(work, { recursive: true, force: true });
process.on('exit', cleanup);

const baseEnv = { ...process.env };
for (const name of Object.keys(baseEnv)) {
  // Nothing inherited may change which credential `auth token` finds or how latchkey behaves.
  if (/^LATCHKEY_/.test(name) || name === 'NANOGPT_API_KEY' || name === 'NODE_OPTIONS') delete baseEnv[name];
}
Object.assign(baseEnv, {
  LATCHKEY_CONFIG_DIR: join(work, 'config'), // credentials index + encrypted file (also oclif's configDir)
  LATCHKEY_DATA_DIR: join(work, 'data'), // oclif: no user-installed plugins are picked up
  LATCHKEY_CACHE_DIR: join(work, 'cache'),
  LATCHKEY_STORAGE: 'file',
});

const envKey = `sk-nano-${randomUUID()}`;
const storedKey = `sk-nano-${randomUUID()}`;
// A second stored account, named `second`: the default stays the first, so printing this key shows that
// --account, LATCHKEY_NANOGPT_ACCOUNT or the directory choice picked it.
const secondKey = `sk-nano-${randomUUID()}`;
const chosenDir = join(work, 'project');

function lastLine(text) {
  return text.trim().split('\n').pop() ?? '';
}

// ---------------------------------------------------------------------------------------------------------
// Store two accounts: the NanoGPT emulator validates each key once (`auth login --with-token` checks it
// with GET /api/v1/models), then it is stopped. The stored base URL now points at a closed port. The
// second account is chosen for one directory (`auth switch --dir`).
async function storeCredential() {
  const emulator = spawn(node, [emulatorBin, '--key', storedKey, '--key', secondKey, '--no-rate-limits'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  emulator.stderr.on('data', (chunk) => (stderr += chunk));
  try {
    const url = await new Promise((resolveUrl, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`the emulator did not start in 10 s: ${stderr}`)),
        10_000,
      );
      emulator.once('exit', (code) => reject(new Error(`the emulator exited (${code}): ${stderr}`)));
      emulator.stdout.on('data', (chunk) => {
        out += chunk;
        const line = out.split('\n').find((l) => l.trim().startsWith('{'));
        if (line) {
          clearTimeout(timer);
          resolveUrl(JSON.parse(line).url);
        }
      });
    });
    const latchkey = (args, input) => {
      const r = spawnSync(node, [bin, ...args], { env: baseEnv, input, encoding: 'utf8', timeout: 30_000 });
      if (r.status !== 0) {
        throw new Error(
          `${args.slice(0, 2).join(' ')} failed (exit ${r.status}): ${lastLine(r.stderr)}${lastLine(r.stdout)}`,
        );
      }
    };
    const login = ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', url];
    latchkey([...login, '--storage', 'file', '--json'], `${storedKey}\n`);
    latchkey([...login, '--storage', 'file', '--json', '--name', 'second'], `${secondKey}\n`);
    mkdirSync(join(chosenDir, 'src'), { recursive: true });
    latchkey(['auth', 'switch', '--provider', 'nanogpt', '--account', 'second', '--dir', chosenDir]);
    return url;
  } finally {
    emulator.removeAllListeners('exit');
    emulator.kill('SIGTERM');
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on (taken, then released). */
async function closedPort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Timing and memory.
const timeBin = ['/usr/bin/time', '/bin/time'].find(
  (p) => existsSync(p) && spawnSync(p, ['-f', '%M', 'true']).status === 0,
);

// Used only when GNU time is absent: a preload that reports the child's own peak RSS when it exits.
const rssPreload = join(work, 'rss-preload.mjs');
writeFileSync(
  rssPreload,
  `import { writeSync } from 'node:fs';
process.on('exit', () => writeSync(2, '\\n@@maxrss ' + process.resourceUsage().maxRSS + '\\n'));
`,
);

const envOf = (c) => (typeof c.env === 'function' ? c.env() : c.env);

function run(c) {
  const env = envOf(c);
  const started = process.hrtime.bigint();
  const r = spawnSync(node, c.args, {
    env,
    ...(c.cwd && { cwd: c.cwd }),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    ms,
    ok: r.status === 0 && (c.expect === undefined || r.stdout === c.expect),
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
  };
}

/** Peak RSS in KiB of one run. */
function rss(c) {
  if (timeBin) {
    const r = spawnSync(timeBin, ['-f', '@@maxrss %M', node, ...c.args], {
      env: envOf(c),
      ...(c.cwd && { cwd: c.cwd }),
      encoding: 'utf8',
    });
    const m = /@@maxrss (\d+)/.exec(r.stderr);
    return m ? Number(m[1]) : undefined;
  }
  const r = spawnSync(node, ['--import', pathToFileURL(rssPreload).href, ...c.args], {
    env: envOf(c),
    ...(c.cwd && { cwd: c.cwd }),
    encoding: 'utf8',
  });
  const m = /@@maxrss (\d+)/.exec(r.stderr);
  return m ? Number(m[1]) : undefined;
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(q * sorted.length); // nearest rank
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const round1 = (x) => Math.round(x * 10) / 10;

// ---------------------------------------------------------------------------------------------------------
// The "no network" check: `auth token` with its base URL (env and stored) pointing at a closed port, and
// a preload that makes any socket connect, DNS lookup or fetch fail loudly and records it.
const netPreload = join(work, 'no-network-preload.mjs');
const netLog = join(work, 'network-attempts.log');
const loadLog = join(work, 'loaded-modules.log');
writeFileSync(
  netPreload,
  `import { appendFileSync, writeFileSync } from 'node:fs';
import * as module from 'node:module';
import net from 'node:net';
import dns from 'node:dns';
const log = ${JSON.stringify(netLog)};
const attempt = (what) => { appendFileSync(log, what + '\\n'); throw new Error('bench: network call blocked: ' + what); };
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const o = args[0];
  // Unix-domain sockets (a D-Bus keychain) are not network calls.
  if (o && typeof o === 'object' && typeof o.path === 'string') return connect.apply(this, args);
  if (typeof o === 'string' && !/^\\d+$/.test(o)) return connect.apply(this, args);
  attempt('net.connect ' + JSON.stringify(o && typeof o === 'object' ? { host: o.host, port: o.port } : o));
};
dns.lookup = (host) => attempt('dns.lookup ' + host);
globalThis.fetch = async (url) => attempt('fetch ' + String(url));
const loaded = [];
if (typeof module.registerHooks === 'function') {
  module.registerHooks({
    resolve(specifier, context, next) {
      const r = next(specifier, context);
      loaded.push(r.url);
      return r;
    },
  });
  process.on('exit', () => writeFileSync(${JSON.stringify(loadLog)}, [...new Set(loaded)].join('\\n')));
}
`,
);

function checkNoNetwork(label, env, expect, { args = [], cwd } = {}) {
  rmSync(netLog, { force: true });
  rmSync(loadLog, { force: true });
  const started = process.hrtime.bigint();
  const r = spawnSync(
    node,
    ['--import', pathToFileURL(netPreload).href, bin, 'auth', 'token', '--provider', 'nanogpt', ...args],
    {
      env,
      ...(cwd && { cwd }),
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const attempts = existsSync(netLog) ? readFileSync(netLog, 'utf8').trim().split('\n').filter(Boolean) : [];
  const modules = existsSync(loadLog) ? readFileSync(loadLog, 'utf8').split('\n').filter(Boolean) : undefined;
  const loadedMatching = (re) => (modules === undefined ? undefined : modules.some((u) => re.test(u)));
  return {
    label,
    pass: r.status === 0 && r.stdout === expect && attempts.length === 0,
    exitCode: r.status,
    stdoutIsToken: r.stdout === expect,
    networkAttempts: attempts,
    ms: round1(ms),
    modulesLoaded: modules?.length,
    providerCodeLoaded: loadedMatching(/plugin-nanogpt\/dist|plugins\/nanogpt\/dist/),
    keychainLibraryLoaded: loadedMatching(/@napi-rs[/+]keyring/),
    oclifLoaded: loadedMatching(/@oclif[/+]core/),
    stderr: r.status === 0 ? undefined : lastLine(r.stderr),
  };
}

// ---------------------------------------------------------------------------------------------------------
let storedBaseUrl;
try {
  note('storing a credential through the NanoGPT emulator...');
  storedBaseUrl = await storeCredential();
} catch (error) {
  setupFailure(`could not set up a stored credential: ${error.message}`);
}

const deadPort = await closedPort();
const deadUrl = `http://127.0.0.1:${deadPort}`;
const envCase = { ...baseEnv, NANOGPT_API_KEY: envKey };
// A first run: a cache directory nothing has written to yet (latchkey's provider cache, oclif's cache).
let coldRuns = 0;
const coldEnv = (extra = {}) => ({
  ...baseEnv,
  LATCHKEY_CACHE_DIR: join(work, 'cold-cache', String(coldRuns++)),
  ...extra,
});

const cases = [
  { id: 'baseline', label: 'node -e 0', args: ['-e', '0'], env: baseEnv },
  { id: 'version', label: 'latchkey --version', args: [bin, '--version'], env: baseEnv },
  {
    id: 'tokenEnv',
    label: 'auth token (env NANOGPT_API_KEY)',
    args: [bin, 'auth', 'token', '--provider', 'nanogpt'],
    env: envCase,
    expect: `${envKey}\n`,
  },
  {
    id: 'tokenStored',
    label: 'auth token (stored, file backend)',
    args: [bin, 'auth', 'token', '--provider', 'nanogpt'],
    env: baseEnv,
    expect: `${storedKey}\n`,
  },
  {
    id: 'tokenAccountFlag',
    label: 'auth token --account (stored)',
    args: [bin, 'auth', 'token', '--provider', 'nanogpt', '--account', 'second'],
    env: baseEnv,
    expect: `${secondKey}\n`,
  },
  {
    id: 'tokenAccountEnv',
    label: 'auth token (LATCHKEY_NANOGPT_ACCOUNT)',
    args: [bin, 'auth', 'token', '--provider', 'nanogpt'],
    env: { ...baseEnv, LATCHKEY_NANOGPT_ACCOUNT: 'second' },
    expect: `${secondKey}\n`,
  },
  {
    id: 'tokenDirectory',
    label: 'auth token (directory choice)',
    args: [bin, 'auth', 'token', '--provider', 'nanogpt'],
    env: baseEnv,
    cwd: join(chosenDir, 'src'),
    expect: `${secondKey}\n`,
  },
  {
    // exec's own cost: the same `node -e 0` as the baseline, run through latchkey exec (stored key, masked).
    id: 'execStored',
    label: 'exec --provider nanogpt -- node -e 0',
    args: [bin, 'exec', '--provider', 'nanogpt', '--', node, '-e', '0'],
    env: baseEnv,
    expect: '',
  },
  {
    id: 'tokenStoredCold',
    label: 'auth token (stored, cold cache dir)',
    args: [bin, 'auth', 'token', '--provider', 'nanogpt'],
    env: () => coldEnv(),
    expect: `${storedKey}\n`,
  },
];

note(`warming up (${warmup} run(s) per case)...`);
for (let i = 0; i < warmup; i++) for (const c of cases) run(c);

note(`measuring ${runs} interleaved run(s) per case...`);
const samples = Object.fromEntries(cases.map((c) => [c.id, { ms: [], failures: 0, lastError: undefined }]));
for (let i = 0; i < runs; i++) {
  for (const c of cases) {
    const r = run(c);
    samples[c.id].ms.push(r.ms);
    if (!r.ok) {
      samples[c.id].failures += 1;
      samples[c.id].lastError = `exit ${r.status}: ${lastLine(r.stderr)}`;
    }
  }
}

const rssRuns = Math.min(5, runs);
note(
  `peak RSS (${rssRuns} run(s) per case, ${timeBin ? `${timeBin} -f %M` : 'process.resourceUsage().maxRSS via --import preload'})...`,
);
const rssKiB = Object.fromEntries(cases.map((c) => [c.id, []]));
for (let i = 0; i < rssRuns; i++)
  for (const c of cases) {
    const kib = rss(c);
    if (kib !== undefined) rssKiB[c.id].push(kib);
  }

note('checking that auth token makes no network call...');
const checks = [
  checkNoNetwork(
    'env credential, LATCHKEY_NANOGPT_BASE_URL at a closed port',
    { ...envCase, LATCHKEY_NANOGPT_BASE_URL: deadUrl },
    `${envKey}\n`,
  ),
  checkNoNetwork(
    'stored credential, LATCHKEY_NANOGPT_BASE_URL at a closed port',
    { ...baseEnv, LATCHKEY_NANOGPT_BASE_URL: deadUrl },
    `${storedKey}\n`,
  ),
  checkNoNetwork(
    '--account, LATCHKEY_NANOGPT_BASE_URL at a closed port',
    { ...baseEnv, LATCHKEY_NANOGPT_BASE_URL: deadUrl },
    `${secondKey}\n`,
    { args: ['--account', 'second'] },
  ),
  checkNoNetwork(
    'LATCHKEY_NANOGPT_ACCOUNT, LATCHKEY_NANOGPT_BASE_URL at a closed port',
    { ...baseEnv, LATCHKEY_NANOGPT_BASE_URL: deadUrl, LATCHKEY_NANOGPT_ACCOUNT: 'second' },
    `${secondKey}\n`,
  ),
  checkNoNetwork(
    'directory choice, LATCHKEY_NANOGPT_BASE_URL at a closed port',
    { ...baseEnv, LATCHKEY_NANOGPT_BASE_URL: deadUrl },
    `${secondKey}\n`,
    { cwd: join(chosenDir, 'src') },
  ),
  checkNoNetwork(
    'stored credential, cold cache dir, stored base URL at a closed port',
    coldEnv(),
    `${storedKey}\n`,
  ),
];

// ---------------------------------------------------------------------------------------------------------
const baseMedian = median(samples.baseline.ms);
const results = cases.map((c) => {
  const s = samples[c.id];
  const med = median(s.ms);
  const out = {
    id: c.id,
    command: c.label,
    runs: s.ms.length,
    medianMs: round1(med),
    p90Ms: round1(quantile(s.ms, 0.9)),
    minMs: round1(Math.min(...s.ms)),
    ratioToBaseline: Math.round((med / baseMedian) * 100) / 100,
    peakRssMiB: rssKiB[c.id].length ? round1(median(rssKiB[c.id]) / 1024) : null,
    failures: s.failures,
  };
  if (s.lastError) out.lastError = s.lastError;
  return out;
});
const byId = Object.fromEntries(results.map((r) => [r.id, r]));

const report = {
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model?.trim(),
    nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS ? 'set (kept for every case)' : 'unset',
  },
  method: {
    runs,
    warmup,
    order: 'interleaved round-robin over the cases',
    wallTime: 'spawnSync of process.execPath, hrtime around it',
    peakRss: timeBin
      ? `${timeBin} -f %M (KiB), median of ${rssRuns}`
      : `process.resourceUsage().maxRSS from an --import preload, median of ${rssRuns}`,
    storedCredential: `file backend in a temp LATCHKEY_CONFIG_DIR, two accounts stored with auth login --with-token against the testkit emulator (since stopped; stored base URL ${storedBaseUrl}); the second, named "second", is chosen for ${chosenDir} with auth switch --dir`,
  },
  results,
  checks,
  // latchkey exec's start-up overhead over running the command directly (goal: at most 60 ms).
  execOverheadMs: round1(median(samples.execStored.ms) - median(samples.baseline.ms)),
};

if (flags.json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  say(
    `latchkey start-up: ${runs} interleaved runs per case after ${warmup} warm-up(s); Node ${process.version}, ${report.machine.cpus} CPU(s), NODE_EXTRA_CA_CERTS ${report.machine.nodeExtraCaCerts}`,
  );
  say();
  const header = ['command', 'median ms', 'p90 ms', 'min ms', 'x node -e 0', 'peak RSS MiB', 'failed'];
  const rows = results.map((r) => [
    r.command,
    r.medianMs.toFixed(1),
    r.p90Ms.toFixed(1),
    r.minMs.toFixed(1),
    `${r.ratioToBaseline.toFixed(2)}x`,
    r.peakRssMiB === null ? 'n/a' : r.peakRssMiB.toFixed(1),
    String(r.failures),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  say(line(header));
  say(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) say(line(row));
  say();
  say(`peak RSS: ${report.method.peakRss}`);
  for (const r of results)
    if (r.lastError) say(`! ${r.command} failed ${r.failures} time(s); last: ${r.lastError}`);
  for (const c of checks) {
    const extra = [
      `exit ${c.exitCode}`,
      c.stdoutIsToken ? 'stdout = token' : 'stdout WRONG',
      `${c.networkAttempts.length} network attempt(s)`,
      `${c.ms} ms`,
      c.oclifLoaded === undefined ? undefined : c.oclifLoaded ? 'via oclif' : 'without oclif',
      c.modulesLoaded === undefined ? undefined : `${c.modulesLoaded} modules`,
      c.providerCodeLoaded === undefined
        ? undefined
        : `provider code ${c.providerCodeLoaded ? 'LOADED' : 'not loaded'}`,
      c.keychainLibraryLoaded === undefined
        ? undefined
        : `keychain library ${c.keychainLibraryLoaded ? 'loaded' : 'not loaded'}`,
    ].filter(Boolean);
    say(
      `check: no network (${c.label}): ${c.pass ? 'PASS' : 'FAIL'} (${extra.join(', ')})${c.stderr ? ` — ${c.stderr}` : ''}`,
    );
    for (const a of c.networkAttempts) say(`  attempted: ${a}`);
  }
  const b = byId.baseline;
  const x = byId.execStored;
  say(
    `exec overhead over running node -e 0 directly: ${report.execOverheadMs} ms (median ${Math.round(x.medianMs)} ms vs ${Math.round(b.medianMs)} ms; goal <= 60 ms)`,
  );
  const e = byId.tokenEnv;
  const t = byId.tokenStored;
  const k = byId.tokenStoredCold;
  const a = byId.tokenAccountFlag;
  const d = byId.tokenDirectory;
  say(
    `auth token (first run, cold cache dir): ${k.ratioToBaseline.toFixed(1)}x node -e 0 (median ${Math.round(k.medianMs)} ms vs ${Math.round(b.medianMs)} ms)`,
  );
  say(
    `auth token (env credential): ${e.ratioToBaseline.toFixed(1)}x node -e 0 (median ${Math.round(e.medianMs)} ms vs ${Math.round(b.medianMs)} ms)`,
  );
  say(
    `auth token: ${t.ratioToBaseline.toFixed(1)}x node -e 0 (median ${Math.round(t.medianMs)} ms vs ${Math.round(b.medianMs)} ms)`,
  );
  say(
    `auth token --account: ${a.ratioToBaseline.toFixed(1)}x, directory choice: ${d.ratioToBaseline.toFixed(1)}x node -e 0 (medians ${Math.round(a.medianMs)} and ${Math.round(d.medianMs)} ms)`,
  );
}
process.exitCode = 0;
