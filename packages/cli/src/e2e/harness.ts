/**
 * Shared helpers for the end-to-end suites (src/e2e is left out of the published build).
 *
 * Every suite spawns the BUILT binary (packages/cli/bin/run.cjs, run `pnpm exec turbo run build` first)
 * through testkit's `createCliSession()` against a NanoGPT emulator on 127.0.0.1, and keeps every run so
 * the last test of each file can check that no secret leaked.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import {
  assertNoSecretLeaks,
  createCliSession,
  timeBound,
  type CliRun,
  type CliSession,
  type RunOptions,
} from '@latchkey/conformance/tools';
import { startNanoGptEmulator, type NanoGptEmulator, type NanoGptEmulatorOptions } from '@latchkey/testkit';

/**
 * Upper bound for any single CLI run that is expected to finish by itself: a hang detector, not a time
 * bound (room for a heavily loaded 2-core machine). What a test asserts about time uses `timeBound`.
 */
export const RUN_TIMEOUT_MS = 90_000;

/** A fresh, valid-looking NanoGPT key (not known to any emulator unless passed in `keys`). */
export function newKey(): string {
  return `sk-nano-${randomUUID()}`;
}

export interface IndexRecord {
  provider: string;
  account: string;
  backend: string;
  baseUrl?: string;
  method?: string;
  identity?: Record<string, string>;
  createdAt: string;
}

export interface IndexDoc {
  version: number;
  accounts: IndexRecord[];
  active: Record<string, string>;
}

/** `<configDir>/accounts.json`, or undefined when it does not exist. */
export async function readIndex(configDir: string): Promise<IndexDoc | undefined> {
  const file = join(configDir, 'accounts.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as IndexDoc;
}

/** The stored accounts (empty when nothing was ever stored). */
export async function storedAccounts(configDir: string): Promise<IndexRecord[]> {
  return (await readIndex(configDir))?.accounts ?? [];
}

/** Every file under a directory (recursively), with its bytes. */
async function allFiles(dir: string): Promise<Array<{ path: string; bytes: Buffer }>> {
  if (!existsSync(dir)) return [];
  const out: Array<{ path: string; bytes: Buffer }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(path)));
    else if (entry.isFile()) out.push({ path, bytes: await readFile(path) });
  }
  return out;
}

/**
 * The secret is not written in the clear to any file of the directory: neither its bytes nor their
 * base64/hex encodings (an "encryption" that is only an encoding would pass a plain byte search).
 */
export async function expectSecretNotOnDisk(dir: string, secret: string): Promise<void> {
  const forms = [
    Buffer.from(secret, 'utf8'),
    Buffer.from(Buffer.from(secret, 'utf8').toString('base64'), 'utf8'),
    Buffer.from(Buffer.from(secret, 'utf8').toString('hex'), 'utf8'),
    // The UUID part alone (a store that kept the key minus its prefix would still leak it).
    Buffer.from(secret.replace(/^sk-nano-/, ''), 'utf8'),
  ];
  for (const file of await allFiles(dir)) {
    for (const form of forms) {
      expect(file.bytes.includes(form), `${file.path} contains the secret (or an encoding of it)`).toBe(
        false,
      );
    }
  }
}

/** Nothing stored: no index, or an index without accounts, and no encrypted entry. */
export async function expectNothingStored(configDir: string): Promise<void> {
  expect(await storedAccounts(configDir)).toEqual([]);
  const enc = join(configDir, 'credentials.enc');
  if (existsSync(enc)) {
    const doc = JSON.parse(await readFile(enc, 'utf8')) as { entries?: Record<string, unknown> };
    expect(Object.keys(doc.entries ?? {})).toEqual([]);
  }
}

/**
 * An error as every command prints it, `auth token` included: `latchkey: <message>` on one line, then the
 * action (and a guide) each on an indented line of its own.
 */
export const errorLines = /^latchkey: [^\n]+\n(?: {2}[^\n]+\n)+$/;

/** `auth token`'s failure contract: exit 4, nothing on stdout, the error (message, then action) on stderr. */
export function expectTokenMissing(run: CliRun): void {
  expect(run.exitCode, run.stderr).toBe(4);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(errorLines);
}

/** A run ended by itself with this code; the message shows stderr when it did not. */
export function expectExit(run: CliRun, code: number): void {
  expect(run.signal, `ended by signal; stderr:\n${run.stderr}`).toBeNull();
  expect(run.exitCode, `exit code of \`latchkey ${run.args.join(' ')}\`; stderr:\n${run.stderr}`).toBe(code);
}

/** The requests the emulator saw on one route. */
export function requestsTo(emulator: NanoGptEmulator, route: string) {
  return emulator.requests.filter((r) => r.route === route);
}

/** Emulators and sessions opened together and closed together (one test's worth). */
export class E2eScope {
  #open: Array<() => Promise<void>> = [];

  constructor(private readonly owner: E2eFile) {}

  async emulator(options: NanoGptEmulatorOptions = {}): Promise<NanoGptEmulator> {
    const emulator = await startNanoGptEmulator({ interval: 1, ...options });
    this.owner.emulators.push(emulator);
    this.owner.extraSecrets.push(...(options.keys ?? []));
    this.#open.push(() => emulator.close());
    return emulator;
  }

  async session(): Promise<CliSession> {
    // LATCHKEY_BIN may point at another build; by default packages/cli/bin/run.cjs.
    const session = await createCliSession();
    this.owner.sessions.push(session);
    this.#open.push(() => session.dispose());
    return session;
  }

  async close(): Promise<void> {
    const open = this.#open;
    this.#open = [];
    // Sessions (opened after their emulator) first: kills stray CLI processes, then the emulators.
    for (const close of open.reverse()) await close();
  }
}

/**
 * One test file's world: emulators and sessions created through it are closed by `cleanup()` (after each
 * test), but their runs and secrets are kept for the file's final leak check. Concurrent tests use their
 * own `scope()` and close it themselves.
 */
export class E2eFile {
  readonly sessions: CliSession[] = [];
  readonly emulators: NanoGptEmulator[] = [];
  /** Secrets the emulators do not know they hand out (pre-provisioned keys, keys given to the CLI). */
  readonly extraSecrets: string[] = [];
  readonly #default = new E2eScope(this);

  emulator(options: NanoGptEmulatorOptions = {}): Promise<NanoGptEmulator> {
    return this.#default.emulator(options);
  }

  session(): Promise<CliSession> {
    return this.#default.session();
  }

  scope(): E2eScope {
    return new E2eScope(this);
  }

  /** Remember a secret the emulators don't know about (e.g. a key that was never provisioned). */
  secret(value: string): string {
    this.extraSecrets.push(value);
    return value;
  }

  cleanup(): Promise<void> {
    return this.#default.close();
  }

  runs(): CliRun[] {
    return this.sessions.flatMap((s) => s.runs);
  }

  secrets(): string[] {
    return [...this.emulators.flatMap((e) => [...e.issuedKeys(), ...e.deviceCodes()]), ...this.extraSecrets];
  }
}

/** Resolves when `predicate` holds for the text seen so far; rejects after `timeoutMs`. */
export function textWatcher(timeoutMs = RUN_TIMEOUT_MS) {
  let seen = '';
  const waiters: Array<{ test: (text: string) => boolean; resolve: (text: string) => void }> = [];
  return {
    feed(chunk: string): void {
      seen += chunk;
      for (const waiter of [...waiters]) {
        if (waiter.test(seen)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(seen);
        }
      }
    },
    until(test: (text: string) => boolean, what: string): Promise<string> {
      if (test(seen)) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${what}; saw:\n${seen}`)),
          timeoutMs,
        );
        waiters.push({
          test,
          resolve: (text) => {
            clearTimeout(timer);
            resolve(text);
          },
        });
      });
    },
  };
}

export type { CliRun, CliSession, NanoGptEmulator, RunOptions };

/**
 * Records every module a latchkey process resolves (Node's module hooks, through a preload): put
 * `importArgs` before the script on the node command line, then read `modules()` once the run is over.
 * Each read removes the log, so the next run's list can't be mistaken for this one's.
 */
export async function moduleRecorder(dir: string): Promise<{
  importArgs: string[];
  modules: () => Promise<string[]>;
}> {
  const log = join(dir, `modules-${randomUUID()}.txt`);
  const preload = join(dir, `record-modules-${randomUUID()}.mjs`);
  await writeFile(
    preload,
    `import { writeFileSync } from 'node:fs';
import * as module from 'node:module';
const seen = new Set();
module.registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
// Built-ins handed over by process.getBuiltinModule (no resolve step): recorded under the same name.
const getBuiltin = process.getBuiltinModule;
if (typeof getBuiltin === 'function') {
  process.getBuiltinModule = (id) => {
    const found = getBuiltin.call(process, id);
    if (found !== undefined) seen.add(id.startsWith('node:') ? id : 'node:' + id);
    return found;
  };
}
process.on('exit', () => writeFileSync(${JSON.stringify(log)}, [...seen].join('\\n')));
`,
  );
  return {
    importArgs: ['--import', pathToFileURL(preload).href],
    async modules() {
      const text = await readFile(log, 'utf8');
      await rm(log, { force: true });
      return text.split('\n').filter((url) => url !== '');
    },
  };
}

/** What a fast path (`auth token`, `exec`) never loads or bundles: oclif, the plugin kit's index, the HTTP
 * client, the poller, OAuth (a due token is refreshed by the full CLI), prompts or a provider's code. */
const notOnFastPath = [
  /@oclif[/+]core/,
  /plugin-kit\/(dist|src)\/index\./,
  /http\/(dist|src)\/client\./,
  /undici/,
  /@inquirer/,
  /\/io\/prompter\./,
  /polling\/(dist|src)/,
  /oauth\/(dist|src)/,
  /\/token\/refresh(er)?\./,
  /plugins?\/(nanogpt|kaneo|nanoterm|nanoctl|acme)\/(dist|src)/,
  /plugin-(nanogpt|kaneo|nanoterm|nanoctl|acme)/,
];

const cliRoot = join(import.meta.dirname, '../..');

/**
 * The run took the fast path whose bundle is `entry` (`fast-token.cjs`, `fast-exec.cjs`): it resolved
 * bin/run.cjs, the small compile-cache.cjs it loads first, that ONE bundle file (dist/bundle/, built by
 * scripts/bundle.mjs) and node: built-ins, and nothing else (no package, no file of dist/ outside the bundle). What went into the bundle
 * is read from its source map's `sources`: none may be oclif, plugin code, the HTTP client or the rest of
 * `notOnFastPath`, so bundling any of them in fails this too. `keychain: true` also allows the native
 * keychain package, which a keychain account loads lazily.
 */
export function expectFastPath(modules: string[], entry: string, options: { keychain?: boolean } = {}): void {
  const bundle = join(cliRoot, 'dist/bundle', entry);
  const allowed = [
    pathToFileURL(join(cliRoot, 'bin/run.cjs')).href,
    pathToFileURL(join(cliRoot, 'dist/bundle/compile-cache.cjs')).href,
    pathToFileURL(bundle).href,
  ];
  const files = modules.filter(
    (url) => !url.startsWith('node:') && !(options.keychain && /@napi-rs[/+]keyring/.test(url)),
  );
  expect(files, `took the fast path (dist/bundle/${entry}) and loaded nothing else`).toEqual(allowed);
  const { sources } = JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] };
  expect(
    sources.some((source) => source.endsWith(`src/fast/${entry.replace(/\.cjs$/, '.ts')}`)),
    `the bundle's map names src/${entry}`,
  ).toBe(true);
  for (const pattern of notOnFastPath) {
    expect(
      sources.filter((source) => pattern.test(source)),
      `bundled ${pattern}`,
    ).toEqual([]);
  }
}

/**
 * A port on 127.0.0.1 that refuses connections and stays that way: a privileged one (below 1024) that
 * refuses now. A port taken from `listen(0)` and closed again is back in the ephemeral range, where another
 * test's server running at the same time may be given it (and answer in its place).
 */
export async function refusedPort(): Promise<number> {
  for (const port of [9, 7, 13, 19, 37, 79, 101, 113, 119, 209, 411, 555, 666, 777, 888, 999]) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.setTimeout(2_000, () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    });
    if (refused) return port;
  }
  throw new Error('every candidate port below 1024 on 127.0.0.1 accepted a connection');
}

/** Whether tmux is installed here (CI installs it: the terminal tests must not skip there). */
export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

/** A process's state letter and parent, from /proc; undefined once it is gone. */
function procStat(pid: number): { state: string; parent: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The fields after the command's name (in parentheses, which may hold anything): state, then parent.
  const [state = '', parent = '0'] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state, parent: Number(parent) };
}

/** Whether `pid` still runs: a zombie (exited, not yet reaped) counts as gone. */
function running(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** `roots` and every process descended from them, now. */
function withDescendants(roots: number[]): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat) parents.set(Number(entry), stat.parent);
  }
  const found = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, parent] of parents)
      if (found.has(parent) && !found.has(pid)) {
        found.add(pid);
        grew = true;
      }
  }
  return [...found];
}

/**
 * Ends a tmux server (`server` is `['-L', name]` or `['-S', socket]`) and waits, bounded, until the
 * programs in its panes and everything they started have exited. kill-server returns before they have: an
 * interactive bash hung up on still writes ~/.bash_history, so removing its home straight after can fail
 * with ENOTEMPTY.
 */
export async function endTmuxServer(server: string[]): Promise<void> {
  const listed = spawnSync('tmux', [...server, 'list-panes', '-a', '-F', '#{pane_pid}'], {
    encoding: 'utf8',
  });
  const panes = (listed.status === 0 ? listed.stdout : '')
    .split('\n')
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
  const pids = withDescendants(panes);
  spawnSync('tmux', [...server, 'kill-server']);
  const bound = timeBound(10_000, { atMost: RUN_TIMEOUT_MS });
  for (const started = Date.now(); pids.some(running);) {
    if (Date.now() - started > bound)
      throw new Error(
        `tmux's panes (pids ${pids.filter(running).join(', ')}) did not exit after kill-server`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * tmux for a file's terminal tests, a server per test: `tmux(...)` talks to this test's server, `next()`
 * (in `afterEach`) ends it, waits for its panes' programs to exit, and moves on to a new one, because a
 * new session right after `kill-server` can hit the dying server ("server exited unexpectedly").
 */
export function tmuxPerTest(name: string): {
  tmux: (...args: string[]) => string;
  next: () => Promise<void>;
} {
  let testNumber = 0;
  const socket = () => `latchkey-${name}-${process.pid}-${testNumber}`;
  return {
    tmux: (...args) => execFileSync('tmux', ['-L', socket(), ...args], { encoding: 'utf8' }),
    next: async () => {
      await endTmuxServer(['-L', socket()]);
      testNumber += 1;
    },
  };
}

/**
 * For a file's `afterAll`: checks that no secret leaked in any run of `sessions`, and disposes them even
 * when the check fails (so a leak does not also leave their directories behind).
 */
export async function disposeAfterLeakCheck(sessions: CliSession[], secrets: string[]): Promise<void> {
  try {
    assertNoSecretLeaks(
      sessions.flatMap((s) => s.runs),
      secrets,
    );
  } finally {
    await Promise.all(sessions.map((s) => s.dispose()));
  }
}
