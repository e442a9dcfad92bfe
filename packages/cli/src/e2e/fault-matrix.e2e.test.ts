/**
 * The fault matrix (issue 9, item 11): every provider step the built binary takes, against every way a
 * server can misbehave, one test per (step × fault).
 *
 * Each step runs the real CLI against a real emulator; a fault proxy (testkit's `startFaultProxy`) sits
 * in front of the emulator and breaks only the step's own request path, so the steps before it stay real.
 * Each row asserts what a user notices: the exit code (1 for a server failure, 4 only when the server
 * expired, denied or rejected, never 2), one clear `latchkey: …` line naming the provider or the host (at
 * most the action and docs lines after it; no stack, no "This is a bug"), a time bound, no secret in any
 * output, no escape/BEL/bidi control character in stdout or stderr, nothing sent to the port a redirect
 * points at, for a polling step and a transient fault (5xx, an HTML error page, a reset, a hang, 429) a
 * "still trying" line naming the provider before the error, and, for the 50 MB and gzip-bomb rows, the
 * child's own peak RSS (≤ 100 MB), written by a preload that only this suite turns on. A failing row shows
 * what the CLI printed, its exit code, time and peak RSS; FAULT_MATRIX_TIMES=<file> writes every row's.
 *
 * The rows run side by side in two pools sized to the cores: rows that mostly wait (a hang, a trickle, a
 * long Retry-After, a polling step's transient faults) a few per core, the others (start-up, one request,
 * the error) one or two per core, with at most two heavy rows (50 MB, bomb) at once. A row's time bound
 * runs from the CLI's first request (the proxy notes when it arrived) to its exit, so a slow start-up on a
 * busy machine is not counted as waiting: the waits it must make (timeouts, Retry-After, back-off: never
 * stretched) plus a CPU allowance that stretches with the machine (testkit's `timeBound`, read when the
 * row is checked), capped below the time the bug it catches would take (a second 15 s timeout, a
 * Retry-After of 30 s waited out). Build first: `pnpm exec turbo run build`.
 */
import { randomUUID } from 'node:crypto';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertNoSecretLeaks,
  createCliSession,
  gzipBomb,
  startAcmeEmulator,
  startEmulatorServer,
  startFaultProxy,
  tasksAtOnce,
  timeBound,
  type CliRun,
  type CliSession,
  type FaultProxy,
  type ProxyFault,
} from '@latchkey/conformance/tools';
import { startNanoctlEmulator, startNanoGptEmulator, startNanoTermEmulator } from '@latchkey/testkit';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const acmeRoot = join(repoRoot, 'examples', 'acme');

const SECOND = 1000;

/** A time bound: `waitsMs` the row must wait (never stretched) plus `cpuMs` stretched, at most `atMostMs`. */
interface Bound {
  waitsMs: number;
  cpuMs: number;
  atMostMs: number;
}
/**
 * Rows whose step makes one request (with the product's own retries, a few seconds of back-off) and whose
 * fault answers at once. Never 30 s: that is a Retry-After waited out.
 */
const FAST_BOUND: Bound = { waitsMs: 5 * SECOND, cpuMs: 8 * SECOND, atMostMs: 28 * SECOND };
/** A hang or a trickle on such a step: the 15 s request timeout once (a second try would be 30 s). */
const TIMEOUT_BOUND: Bound = { waitsMs: 15 * SECOND, cpuMs: 5 * SECOND, atMostMs: 29 * SECOND };
/**
 * Polling steps keep going through transient failures until 5 in a row (about 9 s of back-off at a 1 s
 * interval, 10 s for Retry-After 2) or 60 s of them; never until the code's 10 minutes are up.
 */
const POLL_FAST_BOUND: Bound = { waitsMs: 15 * SECOND, cpuMs: 15 * SECOND, atMostMs: 75 * SECOND };
/**
 * A polling step whose every answer hangs or says "wait 30 s": 60 s of failures after the first one (itself
 * up to 15 s). Today's code ends such a run after ~64 s (Retry-After 30) and ~86 s (hang: five 15 s
 * timeouts with back-off).
 */
const POLL_SLOW_BOUND: Bound = { waitsMs: 90 * SECOND, cpuMs: 10 * SECOND, atMostMs: 130 * SECOND };
/** Past this the CLI is killed (the row fails with what it printed until then). */
const RUN_LIMIT_MS = POLL_SLOW_BOUND.atMostMs + 15 * SECOND;
const RSS_LIMIT_KB = 100 * 1024;
/** Rows that mostly wait (timers, a silent server): a few per core. */
const WAITING_ROWS_AT_ONCE = tasksAtOnce(4);
/** Rows that mostly start the CLI and read one answer. */
const BUSY_ROWS_AT_ONCE = tasksAtOnce(1.5);
const HEAVY_ROWS_AT_ONCE = 2;

/** The bound for a row, on this machine now. */
const boundMs = (bound: Bound) =>
  bound.waitsMs + timeBound(bound.cpuMs, { atMost: bound.atMostMs - bound.waitsMs });

/** ESC, BEL, C1 CSI, the other C0 controls except tab and newline, DEL, and the bidi overrides/isolates. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f\x9b\u202a-\u202e\u2066-\u2069]/u;
/** What a hostile server puts in a text field: a screen clear, a title-setting OSC ended by BEL, an RLO. */
const ESCAPES = '\x1b[2J\x1b[31mred\x1b[0m\x1b]0;pwned\x07\u202egnp.exe';

/** Wraps the string values of the named fields (anywhere in the body) in escape sequences. */
function withEscapes(fields: readonly string[]): (body: unknown) => unknown {
  const visit = (value: unknown, key?: string): unknown => {
    if (typeof value === 'string')
      return key !== undefined && fields.includes(key) ? `${value}${ESCAPES}` : value;
    if (Array.isArray(value)) return value.map((item) => visit(item));
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v, k)]));
    return value;
  };
  return (body) => visit(body);
}

// ---------------------------------------------------------------------------------------------------------
// Steps: how to reach one provider request with the built binary.

interface Prepared {
  args: string[];
  input?: string;
  /** Secrets that must not appear in any output (the emulators' issued ones are added after the run). */
  secrets: string[];
  /** The issued secrets, read after the run. */
  issued: () => string[];
}

interface Step {
  id: string;
  /** The provider's title, one of the names the error line may give (the other is the host). */
  title: string;
  /** The request path the fault hits. */
  route: string;
  /** A polling step keeps going through transient failures, so its time bound is longer. */
  polls?: boolean;
  /** Starts the emulator (closed by the returned close) and prepares the run against `proxyFor(url)`. */
  prepare(ctx: StepContext): Promise<Prepared>;
  /** Escapes in every text field of the successful answer(s) the step shows: per route, the field names. */
  shownFields: Record<string, readonly string[]>;
  /**
   * `auth status` reports each credential on stdout, the problem on a `Problem:` line, instead of a
   * `latchkey:` error line on stderr; either is accepted as the one clear line.
   */
  reportsOnStdout?: boolean;
  /** An error answer whose text fields all carry escapes, and the exit code it must give. */
  errorAnswer: { status: number; body: unknown; exit: number };
}

interface StepContext {
  session: CliSession;
  /** Puts a fault proxy in front of `url`; the proxy and the emulator are closed after the row. */
  proxyFor(url: string): Promise<FaultProxy>;
  onClose(close: () => Promise<void>): void;
}

const newNanoGptKey = () => `sk-nano-${randomUUID()}`;
const esc = (text: string) => `${text}${ESCAPES}`;

async function nanoGptDevice(ctx: StepContext): Promise<Prepared> {
  const emulator = await startNanoGptEmulator({ interval: 1, autoApproveAfterPolls: 0, rateLimits: false });
  ctx.onClose(() => emulator.close());
  const proxy = await ctx.proxyFor(emulator.url);
  return {
    args: ['auth', 'login', '--provider', 'nanogpt', '--no-browser', '--base-url', proxy.url],
    secrets: [],
    issued: () => [...emulator.issuedKeys(), ...emulator.deviceCodes()],
  };
}

async function nanoGptKey(ctx: StepContext, storeFirst: boolean): Promise<Prepared> {
  const key = newNanoGptKey();
  const emulator = await startNanoGptEmulator({ keys: [key], rateLimits: false });
  ctx.onClose(() => emulator.close());
  const proxy = await ctx.proxyFor(emulator.url);
  const login = ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', proxy.url];
  if (!storeFirst) return { args: login, input: `${key}\n`, secrets: [key], issued: () => [] };
  // `auth status` checks a stored account: store it through the proxy before any fault is queued.
  const stored = await ctx.session.run(login, { input: `${key}\n`, timeoutMs: 60 * SECOND });
  if (stored.exitCode !== 0) throw new Error(`could not store the account for the row:\n${stored.stderr}`);
  return { args: ['auth', 'status', '--provider', 'nanogpt'], secrets: [key], issued: () => [] };
}

async function acmeDevice(ctx: StepContext): Promise<Prepared> {
  const emulator = await startAcmeEmulator({ interval: 1, autoApproveAfterPolls: 0 });
  ctx.onClose(() => emulator.close());
  const proxy = await ctx.proxyFor(emulator.url);
  return {
    args: ['auth', 'login', '--provider', 'acme', '--no-browser', '--base-url', proxy.url],
    secrets: [],
    issued: () => [...emulator.issuedTokens(), ...emulator.deviceCodes()],
  };
}

const STEPS: Step[] = [
  {
    id: 'NanoGPT device start',
    title: 'NanoGPT',
    route: '/api/cli-login/start',
    prepare: nanoGptDevice,
    shownFields: { '/api/cli-login/start': ['user_code'] },
    errorAnswer: { status: 400, body: { error: esc('bad_request'), message: esc('Bad request') }, exit: 1 },
  },
  {
    id: 'NanoGPT poll',
    title: 'NanoGPT',
    route: '/api/cli-login/poll',
    polls: true,
    prepare: nanoGptDevice,
    // Nothing of a poll answer is shown but its message (`status` and `key` are protocol, left alone).
    shownFields: { '/api/cli-login/poll': ['message'] },
    errorAnswer: { status: 400, body: { error: esc('bad_request'), message: esc('Bad request') }, exit: 1 },
  },
  {
    id: 'NanoGPT key verify (--with-token)',
    title: 'NanoGPT',
    route: '/api/v1/models',
    prepare: (ctx) => nanoGptKey(ctx, false),
    shownFields: { '/api/v1/models': ['id', 'name', 'owned_by', 'object'] },
    errorAnswer: {
      status: 403,
      body: { error: esc('forbidden'), message: esc('Origin not allowed') },
      exit: 4,
    },
  },
  {
    id: 'NanoTerm verify (--with-token)',
    title: 'NanoTerm',
    route: '/api/workspaces',
    async prepare(ctx) {
      const emulator = await startNanoTermEmulator();
      ctx.onClose(() => emulator.close());
      const { key } = emulator.createKey({ name: 'ci key' });
      const proxy = await ctx.proxyFor(emulator.url);
      return {
        args: ['auth', 'login', '--provider', 'nanoterm', '--with-token', '--base-url', proxy.url],
        input: `${key}\n`,
        secrets: [key],
        issued: () => [],
      };
    },
    shownFields: { '/api/workspaces': ['name', 'slug'], '/api/keys': ['name'] },
    errorAnswer: {
      status: 401,
      body: {
        error: {
          code: 'UNAUTHORIZED',
          message: esc('Invalid API key'),
          action: esc('Create a new key'),
          retryable: false,
          docs: esc('https://docs.nanoterm.dev/errors'),
        },
      },
      exit: 4,
    },
  },
  {
    id: 'nanoctl whoami (--with-token)',
    title: 'Nanoservices',
    route: '/v1/whoami',
    async prepare(ctx) {
      const token = `nsv_${randomUUID().replace(/-/g, '')}`;
      const emulator = await startNanoctlEmulator({ tokens: [{ token }] });
      ctx.onClose(() => emulator.close());
      const proxy = await ctx.proxyFor(emulator.url);
      return {
        args: ['auth', 'login', '--provider', 'nanoctl', '--with-token', '--base-url', proxy.url],
        input: `${token}\n`,
        secrets: [token],
        issued: () => [],
      };
    },
    shownFields: { '/v1/whoami': ['username'] },
    errorAnswer: {
      status: 401,
      body: { error: 'token_expired', message: esc('token expired on 2020-01-01T00:00:00.000Z') },
      exit: 4,
    },
  },
  {
    id: 'RFC 8628 device code (Acme)',
    title: 'Acme',
    route: '/oauth/device/code',
    prepare: acmeDevice,
    shownFields: { '/oauth/device/code': ['user_code'], '/api/me': ['name', 'email'] },
    errorAnswer: {
      status: 400,
      body: { error: 'invalid_request', error_description: esc('The request is missing a parameter') },
      exit: 1,
    },
  },
  {
    id: 'RFC 8628 token (Acme)',
    title: 'Acme',
    route: '/oauth/token',
    polls: true,
    prepare: acmeDevice,
    shownFields: { '/oauth/token': ['scope'], '/api/me': ['name', 'email'] },
    errorAnswer: {
      status: 400,
      body: { error: 'access_denied', error_description: esc('The user said no') },
      exit: 4,
    },
  },
  {
    id: 'auth status of a stored NanoGPT account',
    title: 'NanoGPT',
    reportsOnStdout: true,
    route: '/api/v1/models',
    prepare: (ctx) => nanoGptKey(ctx, true),
    shownFields: { '/api/v1/models': ['id', 'name', 'owned_by', 'object'] },
    errorAnswer: {
      status: 403,
      body: { error: esc('forbidden'), message: esc('Origin not allowed') },
      exit: 4,
    },
  },
];

// ---------------------------------------------------------------------------------------------------------
// Faults.

interface FaultContext {
  step: Step;
  proxy: FaultProxy;
  /** The URL of a server on another port that records whatever reaches it. */
  witnessUrl: string;
  bomb: Buffer;
}

interface FaultCase {
  id: string;
  /** Waits on the request timeout or a long Retry-After (a longer bound for polling steps). */
  slow?: boolean;
  /** Ends only by the client's request timeout. */
  waitsForTimeout?: boolean;
  /**
   * A transient failure (5xx, HTML, empty, reset, hang, 429...): a polling step keeps the flow alive and
   * says so once ("… is not answering …; still trying"), before it gives up.
   */
  transient?: boolean;
  /** Peak RSS of the child is asserted. */
  heavy?: boolean;
  /** Runs with `--json`: the result or the error envelope on stdout, its strings free of controls too. */
  json?: boolean;
  /** Exit code; default 1 (a server failure). */
  exit?: (step: Step) => number;
  faults(ctx: FaultContext): ProxyFault[];
}

const EVERY = 10_000;
/** A fault without its target: `on()` aims it at the step's route, for every request. */
type Untargeted = { kind: string } & Record<string, unknown>;
const on = (ctx: FaultContext, fault: Untargeted): ProxyFault[] => [
  { ...fault, route: ctx.step.route, times: EVERY } as unknown as ProxyFault,
];
const status = (code: number, headers?: Record<string, string>, body?: string | object) =>
  ({ kind: 'status', status: code, headers, body }) as Untargeted;

const FAULTS: FaultCase[] = [
  {
    // A captive portal or a web page at the base URL: not the API, so not necessarily transient.
    id: 'HTML page (200)',
    faults: (c) => on(c, { kind: 'html', status: 200 }),
  },
  {
    // What a CDN shows when the origin is down: transient.
    id: 'HTML error page (502)',
    transient: true,
    faults: (c) => on(c, { kind: 'html', status: 502 }),
  },
  { id: 'empty 200', faults: (c) => on(c, { kind: 'empty', status: 200 }) },
  {
    id: 'invalid JSON',
    faults: (c) =>
      on(c, {
        kind: 'raw',
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"user_code": "WDJB-MJHT", "interval": ',
      }),
  },
  { id: '500', transient: true, faults: (c) => on(c, status(500)) },
  {
    id: '503',
    transient: true,
    faults: (c) => on(c, status(503, { 'content-type': 'text/plain' }, 'Service Unavailable')),
  },
  {
    id: '503 Retry-After 2',
    transient: true,
    faults: (c) => on(c, status(503, { 'retry-after': '2' }, 'Service Unavailable')),
  },
  { id: '429 Retry-After 1', transient: true, faults: (c) => on(c, status(429, { 'retry-after': '1' })) },
  {
    id: '429 Retry-After 30',
    transient: true,
    slow: true,
    faults: (c) => on(c, status(429, { 'retry-after': '30' })),
  },
  {
    id: '429 Retry-After HTTP-date',
    transient: true,
    slow: true,
    faults: (c) => on(c, status(429, { 'retry-after': new Date(Date.now() + 120 * SECOND).toUTCString() })),
  },
  {
    id: '429 Retry-After garbage',
    transient: true,
    faults: (c) => on(c, status(429, { 'retry-after': 'soon-ish' })),
  },
  { id: 'reset mid-body', transient: true, faults: (c) => on(c, { kind: 'reset-mid-body' }) },
  { id: 'hang', transient: true, slow: true, waitsForTimeout: true, faults: (c) => on(c, { kind: 'hang' }) },
  {
    id: 'trickle 1 byte/s',
    transient: true,
    slow: true,
    waitsForTimeout: true,
    faults: (c) => on(c, { kind: 'trickle', intervalMs: 1000 }),
  },
  {
    id: '50 MB body',
    heavy: true,
    faults: (c) => on(c, { kind: 'large-body', bytes: 50 * 1024 * 1024 }),
  },
  {
    id: 'gzip bomb (1 GiB)',
    heavy: true,
    faults: (c) => on(c, { kind: 'gzip-bomb', gzip: c.bomb }),
  },
  {
    id: 'redirect to another port',
    faults: (c) => on(c, { kind: 'redirect', status: 307, location: `${c.witnessUrl}${c.step.route}` }),
  },
  { id: 'redirect loop', faults: (c) => on(c, { kind: 'redirect', location: c.step.route }) },
  {
    id: 'escape sequences in the answer',
    exit: () => 0,
    faults: (c) =>
      Object.entries(c.step.shownFields).map(
        ([route, fields]) =>
          ({ kind: 'rewrite', transform: withEscapes(fields), route, times: EVERY }) as unknown as ProxyFault,
      ),
  },
  {
    id: 'escape sequences in an error answer',
    exit: (step) => step.errorAnswer.exit,
    faults: (c) => on(c, status(c.step.errorAnswer.status, {}, c.step.errorAnswer.body as object)),
  },
  {
    id: 'escape sequences in the answer (--json)',
    json: true,
    exit: () => 0,
    faults: (c) =>
      Object.entries(c.step.shownFields).map(
        ([route, fields]) =>
          ({ kind: 'rewrite', transform: withEscapes(fields), route, times: EVERY }) as unknown as ProxyFault,
      ),
  },
  {
    id: 'escape sequences in an error answer (--json)',
    json: true,
    exit: (step) => step.errorAnswer.exit,
    faults: (c) => on(c, status(c.step.errorAnswer.status, {}, c.step.errorAnswer.body as object)),
  },
];

// ---------------------------------------------------------------------------------------------------------
// Running the rows.

interface RowResult {
  run?: CliRun;
  /** Why there is no run (the CLI was killed after the row's limit, or the row could not start). */
  failure?: string;
  /** From the CLI's start to its exit. */
  elapsedMs: number;
  /**
   * From the CLI's first request (as the proxy saw it arrive) to its exit: what the row's time bound is
   * about. Start-up before it is the machine's speed, not latchkey's waiting; without a request, elapsedMs.
   */
  waitedMs: number;
  witnessHits: string[];
  maxRssKb?: number;
  secrets: string[];
  proxyPort: string;
}

interface Row {
  name: string;
  step: Step;
  fault: FaultCase;
  bound: Bound;
  /** Mostly waits on timers or a silent server (its own pool). */
  waits: boolean;
  result?: Promise<RowResult>;
}

function boundFor(step: Step, fault: FaultCase): Bound {
  if (step.polls) return fault.slow ? POLL_SLOW_BOUND : POLL_FAST_BOUND;
  return fault.waitsForTimeout ? TIMEOUT_BOUND : FAST_BOUND;
}

const ROWS: Row[] = STEPS.flatMap((step) =>
  FAULTS.map((fault) => ({
    name: `${step.id} × ${fault.id}`,
    step,
    fault,
    bound: boundFor(step, fault),
    waits: Boolean(fault.slow || fault.waitsForTimeout || (step.polls && fault.transient)),
  })),
);

let workDir: string;
let dataDir: string;
let preload: string;
let bomb: Buffer;
const sessions: CliSession[] = [];

/** A pool: at most `limit` at once. */
function limiter(limit: number) {
  let active = 0;
  const queue: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      queue.shift()?.();
    }
  };
}

async function runRow(row: Row): Promise<RowResult> {
  const closers: Array<() => Promise<void>> = [];
  const witnessHits: string[] = [];
  const witness = await startEmulatorServer({
    async handle(req, res) {
      witnessHits.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"approved","key":"x"}');
    },
  });
  closers.push(() => witness.close());
  const session = await createCliSession({ env: { LATCHKEY_DATA_DIR: dataDir } });
  sessions.push(session);
  closers.push(() => session.dispose());
  let proxy: FaultProxy | undefined;
  const rssFile = join(workDir, `rss-${randomUUID()}`);
  const started = Date.now();
  let prepared: Prepared | undefined;
  try {
    prepared = await row.step.prepare({
      session,
      async proxyFor(url) {
        proxy = await startFaultProxy({ target: url });
        closers.push(() => proxy!.close());
        return proxy;
      },
      onClose: (close) => closers.push(close),
    });
    for (const fault of row.fault.faults({ step: row.step, proxy: proxy!, witnessUrl: witness.url, bomb }))
      proxy!.faults.add(fault);
    const firstRequest = proxy!.requests.length;
    const t0 = Date.now();
    let run: CliRun | undefined;
    let failure: string | undefined;
    try {
      run = await session.run(row.fault.json ? [...prepared.args, '--json'] : prepared.args, {
        input: prepared.input,
        // Past its bound the row fails, but the run goes on (as long as the slowest row may take) so the
        // failure shows what the CLI finally did and when; it does not make the file slower.
        timeoutMs: RUN_LIMIT_MS,
        env: { NODE_OPTIONS: `--import ${pathToFileURL(preload).href}`, LATCHKEY_TEST_MAXRSS_FILE: rssFile },
      });
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    const endedAt = Date.now();
    const elapsedMs = endedAt - t0;
    const firstAt = proxy!.requests[firstRequest]?.at;
    const maxRssKb = await readFile(rssFile, 'utf8').then(Number, () => undefined);
    return {
      run,
      failure,
      elapsedMs,
      waitedMs: firstAt === undefined ? elapsedMs : endedAt - firstAt,
      witnessHits,
      maxRssKb,
      secrets: [...prepared.secrets, ...prepared.issued()],
      proxyPort: new URL(proxy!.url).port,
    };
  } catch (error) {
    return {
      failure: `the row could not run: ${error instanceof Error ? error.stack : String(error)}`,
      elapsedMs: Date.now() - started,
      waitedMs: Date.now() - started,
      witnessHits,
      secrets: prepared?.secrets ?? [],
      proxyPort: proxy ? new URL(proxy.url).port : '',
    };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
  }
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'latchkey-fault-matrix-'));
  dataDir = join(workDir, 'data');
  // Only this suite sets LATCHKEY_TEST_MAXRSS_FILE: the child's own peak RSS (KiB on Linux) at exit.
  preload = join(workDir, 'max-rss.mjs');
  await writeFile(
    preload,
    `import { writeFileSync } from 'node:fs';
const file = process.env.LATCHKEY_TEST_MAXRSS_FILE;
if (file) process.on('exit', () => { try { writeFileSync(file, String(process.resourceUsage().maxRSS)); } catch {} });
`,
  );
  bomb = await gzipBomb(1024 * 1024 * 1024);
  // The Acme rows use the example plugin, linked once into a data dir every row's session shares.
  const linker = await createCliSession({ env: { LATCHKEY_DATA_DIR: dataDir } });
  sessions.push(linker);
  const link = await linker.run(['plugins', 'link', acmeRoot, '--no-install'], { timeoutMs: 90 * SECOND });
  if (link.exitCode !== 0) throw new Error(`plugins link failed:\n${link.stderr}`);

  // Longest rows first, so the file takes about as long as its slowest row.
  const waiting = limiter(WAITING_ROWS_AT_ONCE);
  const busy = limiter(BUSY_ROWS_AT_ONCE);
  const heavy = limiter(HEAVY_ROWS_AT_ONCE);
  const order = [...ROWS].sort((a, b) => b.bound.waitsMs - a.bound.waitsMs);
  for (const row of order) {
    const pool = row.waits ? waiting : busy;
    row.result = pool(() => (row.fault.heavy ? heavy(() => runRow(row)) : runRow(row)));
    // Surfaced by the row's own test; never an unhandled rejection here.
    row.result.catch(() => {});
  }
}, 180 * SECOND);

afterAll(
  async () => {
    const settled = await Promise.allSettled(ROWS.map((row) => row.result));
    // FAULT_MATRIX_TIMES=<file>: each row's time, exit code and peak RSS, to tune bounds on a slow machine.
    const timesFile = process.env.FAULT_MATRIX_TIMES;
    if (timesFile) {
      const lines = settled.map((outcome, i) => {
        const result = outcome.status === 'fulfilled' ? outcome.value : undefined;
        return `${ROWS[i]!.name}\t${result?.elapsedMs ?? '?'} ms\texit ${result?.run?.exitCode ?? '?'}\t${result?.maxRssKb ?? '?'} KiB`;
      });
      await writeFile(timesFile, `${lines.join('\n')}\n`);
    }
    for (const session of sessions) await session.dispose();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  },
  RUN_LIMIT_MS + 60 * SECOND,
);

const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function describeRun(row: Row, result: RowResult): string {
  const run = result.run;
  return [
    `row: ${row.name} (${result.elapsedMs} ms, ${result.waitedMs} ms from the first request, bound ${boundMs(row.bound)} ms, max RSS ${result.maxRssKb ?? '?'} KiB)`,
    result.failure ? `failure: ${result.failure}` : '',
    run ? `exit ${run.exitCode} signal ${run.signal}` : '',
    run ? `--- stdout ---\n${JSON.stringify(run.stdout)}` : '',
    run ? `--- stderr ---\n${run.stderr}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/**
 * Exactly one `latchkey:` line on stderr naming the provider or the host, at most two indented lines after
 * it (the action and docs). For `auth status`, which reports on stdout, one `Problem:` line there instead,
 * with at most two lines after it (nothing else on stderr).
 */
function expectOneClearError(row: Row, result: RowResult, run: CliRun, context: string): void {
  const problem = /^\s+Problem:\s+/;
  const onStdout = row.step.reportsOnStdout && !/^latchkey: /m.test(run.stderr);
  const text = onStdout
    ? run.stdout.slice(run.stdout.search(problem) < 0 ? 0 : run.stdout.search(problem))
    : run.stderr;
  const marker = onStdout ? problem : /^latchkey: /;
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const errorAt = lines.findIndex((line) => marker.test(line));
  if (onStdout) expect(run.stderr, `nothing on stderr beside the report\n${context}`).toBe('');
  expect(
    lines.filter((line) => marker.test(line)),
    `one ${onStdout ? '"Problem:" line on stdout' : '"latchkey: …" error line'}\n${context}`,
  ).toHaveLength(1);
  // A server trouble names who is in trouble; a rejection (exit 4) is the server's own answer, shown in its
  // words (cleaned), which the user asked that provider for.
  if (run.exitCode !== 4) {
    const names = new RegExp(`${escapeRe(row.step.title)}|127\\.0\\.0\\.1:${result.proxyPort}`, 'i');
    expect(lines[errorAt], `the error line names ${row.step.title} or the host\n${context}`).toMatch(names);
  }
  const after = lines.slice(errorAt + 1);
  expect(after.length, `at most the action and docs lines after the error\n${context}`).toBeLessThanOrEqual(
    2,
  );
  for (const line of after) expect(line, `an indented action/docs line\n${context}`).toMatch(/^\s+\S/);
}

/** Every string inside a JSON value. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [k, ...stringsOf(v)]);
  return [];
}

/**
 * `--json`: stdout is one JSON document (with an error envelope when the run failed) and none of its strings
 * holds a control character once decoded (JSON escaping alone would still reach a terminal that prints it).
 */
function expectCleanJson(run: CliRun, exit: number, context: string): void {
  let doc: unknown;
  expect(() => (doc = JSON.parse(run.stdout)), `stdout is JSON\n${context}`).not.toThrow();
  for (const text of stringsOf(doc))
    expect(CONTROL.test(text), `a JSON string holds ${JSON.stringify(text)}\n${context}`).toBe(false);
  // One envelope (docs/json.md) whose status is the exit code, for a result and for an error alike.
  expect((doc as { status?: unknown }).status, `the envelope's status is the exit code\n${context}`).toBe(
    exit,
  );
  if (exit !== 0) {
    // A failure carries one error; `auth status --json` succeeds with a result whose entries carry theirs.
    type Envelope = { code?: unknown; message?: unknown };
    const report = doc as { error?: Envelope; result?: { credentials?: Array<{ error?: Envelope }> } };
    const error = report.error ?? report.result?.credentials?.find((entry) => entry.error)?.error;
    expect(typeof error?.code, `an error envelope with a code\n${context}`).toBe('string');
    expect(error?.message, `one line of message\n${context}`).toMatch(/^[^\n]+$/);
  }
}

describe('fault matrix: every provider step against every server fault, through the built binary', () => {
  for (const row of ROWS) {
    it(
      row.name,
      async () => {
        const result = await row.result!;
        const context = describeRun(row, result);
        expect(result.failure, context).toBeUndefined();
        const run = result.run!;
        const expectedExit = row.fault.exit?.(row.step) ?? 1;

        expect(run.signal, context).toBeNull();
        expect(run.exitCode, `exit code\n${context}`).toBe(expectedExit);
        expect(result.waitedMs, `time bound\n${context}`).toBeLessThanOrEqual(boundMs(row.bound));

        const output = run.stdout + run.stderr;
        expect(output, `no stack or bug report\n${context}`).not.toMatch(
          /This is a bug|^\s+at .+:\d+:\d+\)?$|TimeoutOverflowWarning|\(node:\d+\)/m,
        );
        expect(CONTROL.test(output), `no control characters in stdout or stderr\n${context}`).toBe(false);
        if (row.fault.json) expectCleanJson(run, expectedExit, context);
        else if (expectedExit !== 0) expectOneClearError(row, result, run, context);
        else expect(run.stderr, context).not.toMatch(/^latchkey: /m);
        if (row.step.polls && row.fault.transient) {
          // Shown while it went on, before the final error: the provider, and that latchkey kept trying.
          const before = run.stderr.slice(0, Math.max(0, run.stderr.indexOf('latchkey: ')));
          expect(before, `a "still trying" line naming ${row.step.title}\n${context}`).toMatch(
            new RegExp(`^.*${escapeRe(row.step.title)}.*still trying.*$`, 'im'),
          );
        }

        expect(result.witnessHits, `nothing followed the redirect\n${context}`).toEqual([]);
        assertNoSecretLeaks([run], result.secrets);
        if (row.fault.heavy) {
          expect(result.maxRssKb, `the child's peak RSS was written\n${context}`).toBeDefined();
          expect(result.maxRssKb!, `peak RSS ≤ 100 MB\n${context}`).toBeLessThanOrEqual(RSS_LIMIT_KB);
        }
      },
      // The rows run from beforeAll; this waits for this one, which may wait for every row before it in
      // its pool (each CLI run is killed after RUN_LIMIT_MS).
      RUN_LIMIT_MS +
        60 * SECOND +
        (ROWS.length / Math.min(WAITING_ROWS_AT_ONCE, BUSY_ROWS_AT_ONCE)) * 30 * SECOND,
    );
  }
});
