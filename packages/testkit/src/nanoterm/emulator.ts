/**
 * A local NanoTerm API for tests: `nt_` API keys with permission levels, the key-check route
 * (`GET /api/workspaces`), key administration (`GET|POST /api/keys`, `GET|DELETE /api/keys/:id`), the 426
 * minimum-CLI-version gate, per-plan rate limits and NanoTerm's single error envelope, following NanoTerm's
 * own documentation (seed 002, PROVIDERS.md). Faults can be injected per route to test how a client copes
 * with proxies, resets and server trouble. Listens on 127.0.0.1 only.
 *
 * Order in which a request is judged (the docs do not spell out an order; this is the one chosen here):
 *   1. injected faults (before anything else, so they hit even unauthenticated requests);
 *   2. the 426 gate ("every request returns 426", so it comes before auth);
 *   3. authentication (401);
 *   4. the per-key plan rate limit (429; only authenticated requests count, including ones that then get
 *      403 or 404);
 *   5. routing and permission (404 / 403), then the route itself (400 / 404 / 409 / 2xx).
 */
import { randomInt } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  answerFault,
  createFaultQueue,
  flattenHeaders,
  parseJson,
  readBody,
  requestTarget,
  sendJson,
  startEmulatorServer,
  type DelayFault,
  type DropFault,
  type EmptyFault,
  type FaultTarget,
  type HtmlFault,
  type StatusFault,
} from '@latchkey/conformance/tools';

export type NanoTermPermission = 'full' | 'execute' | 'read';
export type NanoTermPlan = 'free' | 'developer' | 'team';

export interface NanoTermKeySpec {
  /** The full key; default a fresh `nt_live_<32 base62>`. Must start with `nt_` and be unique. */
  key?: string;
  /** Default `API key <n>`. */
  name?: string;
  /** Default `full`. */
  permission?: NanoTermPermission;
  /** ISO date; may lie in the past (an already expired key). Default: never expires. */
  expiresAt?: string;
  /** Provision the key already revoked (revokedAt = now). */
  revoked?: boolean;
  /** The plan whose rate limit applies to this key; default `free`. */
  plan?: NanoTermPlan;
}

/** Key metadata as `GET /api/keys` shows it: never the full key. */
export interface NanoTermKeyInfo {
  id: string;
  name: string;
  /** The first 12 characters of the key, e.g. `nt_live_a1b2`. */
  prefix: string;
  permission: NanoTermPermission;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface NanoTermEmulatorOptions {
  /** TCP port on 127.0.0.1; default 0 (a free port chosen by the OS). */
  port?: number;
  /** Default `Date.now`; drives key expiry, rate-limit windows and the request log. */
  clock?: { now(): number };
  /** The 426 gate for `X-Client-Name: nanoterm-cli`; default `2.0.0`. */
  minCliVersion?: string;
  /** Pre-provisioned keys. */
  keys?: NanoTermKeySpec[];
  /**
   * How `GET /api/keys` wraps the list: `{keys: [...]}` (default) or a bare array. The docs show neither,
   * so clients must read both.
   */
  keyListShape?: 'object' | 'array';
  /**
   * What the key routes' `prefix` ends with: nothing (default, `nt_live_a1b2`), or an ellipsis as a
   * dashboard shows a display prefix (`nt_live_a1b2...` or `nt_live_a1b2…`). Clients must match the key
   * with it removed. `keys()` always returns the bare prefix.
   */
  prefixEllipsis?: '' | '...' | '…';
  /** Per-key plan limits per window (Free 60, Developer 600, Team 3000); default on with a 60 s window. */
  rateLimits?: false | { windowMs: number };
  /**
   * Called once each request has been answered (or dropped), with its log entry. Not in the original
   * brief: the standalone command uses it to log on stderr.
   */
  onRequest?: (request: NanoTermRequest) => void;
}

export type NanoTermRoute = 'workspaces' | 'keys' | 'key' | 'other';

export interface NanoTermRequest {
  /** When it arrived, by the emulator's clock. */
  at: number;
  method: string;
  /** The request target: path and query string, as received. */
  path: string;
  route: NanoTermRoute;
  /** Lower-cased names; repeated headers joined with ", ". Authorization is kept as-is (in memory only). */
  headers: Record<string, string>;
  /** The status answered; 0 while unanswered or when the connection was dropped. */
  status: number;
}

/** `envelope` answers NanoTerm's error envelope; the other kinds are the shared ones (`status`: a body without the envelope, as a proxy or an older gateway answers). */
export type NanoTermFault = FaultTarget<NanoTermRoute> &
  (
    | {
        kind: 'envelope';
        status: number;
        code: string;
        message?: string;
        action?: string;
        retryable?: boolean;
        headers?: Record<string, string>;
      }
    | StatusFault
    | HtmlFault
    | EmptyFault
    | DelayFault
    | DropFault
  );

export interface NanoTermEmulator {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: NanoTermRequest[];
  readonly faults: { add(fault: NanoTermFault): void; clear(): void };
  /** Creates a key; the full key is returned here once, like the real service shows it once. */
  createKey(spec?: NanoTermKeySpec): { key: string; info: NanoTermKeyInfo };
  /** Revokes by full key or by id; revoking twice is harmless. Throws for an unknown key. */
  revokeKey(keyOrId: string): void;
  /** Every key's metadata, in creation order (revoked and expired ones included). */
  keys(): NanoTermKeyInfo[];
  close(): Promise<void>;
}

/** The error envelope every NanoTerm error uses. */
export interface NanoTermErrorBody {
  error: { code: string; message: string; action: string; retryable: boolean; docs: string };
}

interface KeyRecord {
  key: string;
  info: NanoTermKeyInfo;
  plan: NanoTermPlan;
  /** Epoch ms, or undefined for never. */
  expiresAtMs: number | undefined;
}

export const NANOTERM_PLAN_LIMITS: Readonly<Record<NanoTermPlan, number>> = {
  free: 60,
  developer: 600,
  team: 3000,
};

const PLAN_UPGRADE_HINT: Readonly<Record<NanoTermPlan, string>> = {
  free: 'upgrade to Developer for 600/min',
  developer: 'upgrade to Team for 3,000/min',
  team: 'upgrade to Enterprise for a custom limit',
};

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PERMISSIONS: readonly NanoTermPermission[] = ['full', 'execute', 'read'];
const DOCS_BASE = 'https://docs.nanoterm.dev/errors/';
const PRICING_URL = 'https://nanoterm.dev/pricing';
const UPGRADE_CLI = 'Run: npm install -g @nanoterm/cli@latest';
const NEW_KEY_ACTION =
  "Create a new key in the dashboard's API Keys page, or run `nanoterm auth login`, and send it as Authorization: Bearer nt_...";
const MAX_KEY_NAME = 100;

/** A small fixed list, the same for every key. */
const WORKSPACES = [
  {
    id: 'ws_8f3k2m9x',
    name: 'Playground',
    slug: 'playground',
    status: 'running',
    createdAt: '2024-01-15T09:30:00.000Z',
  },
  {
    id: 'ws_q7w4e1r6',
    name: 'API Backend',
    slug: 'api-backend',
    status: 'stopped',
    createdAt: '2024-02-02T14:05:00.000Z',
  },
];

/** Defaults for envelopes, by code: the documented common codes. */
const CODE_DEFAULTS: Readonly<Record<string, { message: string; action: string; retryable: boolean }>> = {
  VALIDATION_FAILED: {
    message: 'Request body failed validation.',
    action: 'Fix the request body and try again.',
    retryable: false,
  },
  UNAUTHORIZED: {
    message: 'Missing or invalid Authorization header.',
    action: NEW_KEY_ACTION,
    retryable: false,
  },
  FORBIDDEN: {
    message: 'Your API key lacks the required permission.',
    action: "Use a key with 'full' permission.",
    retryable: false,
  },
  NOT_FOUND: {
    message: "Resource doesn't exist or belongs to another org.",
    action: 'Check the ID and your organization.',
    retryable: false,
  },
  CONFLICT: {
    message: 'Unique constraint hit.',
    action: 'Choose a different name and try again.',
    retryable: false,
  },
  CLI_VERSION_TOO_OLD: {
    message: 'CLI is below the minimum required version.',
    action: UPGRADE_CLI,
    retryable: false,
  },
  RATE_LIMITED: {
    message: 'Rate limit exceeded. Slow down requests or upgrade your plan.',
    action: `Retry later, or upgrade at ${PRICING_URL}`,
    retryable: true,
  },
  QUOTA_EXCEEDED: {
    message: 'Workspace-count quota hit.',
    action: `Delete a workspace, or upgrade at ${PRICING_URL}`,
    retryable: false,
  },
  COMPUTE_QUOTA_EXCEEDED: {
    message: 'Monthly compute-hours budget exhausted.',
    action: `Wait for next month's budget, or upgrade at ${PRICING_URL}`,
    retryable: false,
  },
  MEMBER_QUOTA_EXCEEDED: {
    message: "Plan's member cap reached.",
    action: `Remove a member, or upgrade at ${PRICING_URL}`,
    retryable: false,
  },
  STORAGE_QUOTA_EXCEEDED: {
    message: 'Snapshot/storage budget exhausted.',
    action: `Delete snapshots, or upgrade at ${PRICING_URL}`,
    retryable: false,
  },
  INTERNAL_ERROR: {
    message: 'Unhandled server error.',
    action: 'Retry after a short backoff.',
    retryable: true,
  },
  NOT_SUPPORTED: {
    message: "Feature isn't available on the current runtime.",
    action: 'Use a runtime that supports this feature.',
    retryable: false,
  },
  RUNTIME_UNAVAILABLE: {
    message: 'Container runtime temporarily unreachable.',
    action: 'Retry in a few seconds.',
    retryable: true,
  },
};

/** Builds the documented envelope; `docs` is always `https://docs.nanoterm.dev/errors/<CODE>`. */
export function nanoTermErrorBody(
  code: string,
  overrides: { message?: string; action?: string; retryable?: boolean } = {},
): NanoTermErrorBody {
  const defaults = CODE_DEFAULTS[code] ?? {
    message: 'Request failed.',
    action: 'Try again later.',
    retryable: false,
  };
  return {
    error: {
      code,
      message: overrides.message ?? defaults.message,
      action: overrides.action ?? defaults.action,
      retryable: overrides.retryable ?? defaults.retryable,
      docs: `${DOCS_BASE}${code}`,
    },
  };
}

/** Starts a NanoTerm emulator on 127.0.0.1 and a random port. */
export async function startNanoTermEmulator(
  options: NanoTermEmulatorOptions = {},
): Promise<NanoTermEmulator> {
  const clock = options.clock ?? { now: () => Date.now() };
  const minCliVersion = options.minCliVersion ?? '2.0.0';
  const parsedMin = parseSemver(minCliVersion);
  if (!parsedMin) throw new Error(`NanoTerm emulator: minCliVersion "${minCliVersion}" is not a semver`);
  const minParsed: Semver = parsedMin;
  const windowMs = options.rateLimits === false ? undefined : (options.rateLimits?.windowMs ?? 60_000);

  const requests: NanoTermRequest[] = [];
  const faults = createFaultQueue<NanoTermFault>();
  const records: KeyRecord[] = [];
  const byKey = new Map<string, KeyRecord>();
  const byId = new Map<string, KeyRecord>();
  const hits = new Map<string, number[]>();
  let keyCounter = 0;

  function createKey(spec: NanoTermKeySpec = {}): { key: string; info: NanoTermKeyInfo } {
    const key = spec.key ?? `nt_live_${randomBase62(32)}`;
    if (!key.startsWith('nt_') || /\s/.test(key))
      throw new Error(`NanoTerm emulator: a key must look like nt_<random>, got "${key.slice(0, 12)}..."`);
    if (byKey.has(key)) throw new Error('NanoTerm emulator: that key already exists');
    const permission = spec.permission ?? 'full';
    if (!PERMISSIONS.includes(permission))
      throw new Error(`NanoTerm emulator: unknown permission "${String(permission)}"`);
    const plan = spec.plan ?? 'free';
    if (!(plan in NANOTERM_PLAN_LIMITS)) throw new Error(`NanoTerm emulator: unknown plan "${String(plan)}"`);
    let expiresAtMs: number | undefined;
    if (spec.expiresAt !== undefined) {
      expiresAtMs = Date.parse(spec.expiresAt);
      if (Number.isNaN(expiresAtMs))
        throw new Error(`NanoTerm emulator: expiresAt "${spec.expiresAt}" is not a date`);
    }
    keyCounter += 1;
    const nowIso = new Date(clock.now()).toISOString();
    let id: string;
    do id = `key_${randomBase62(16)}`;
    while (byId.has(id));
    const info: NanoTermKeyInfo = {
      id,
      name: spec.name ?? `API key ${keyCounter}`,
      prefix: key.slice(0, 12),
      permission,
      createdAt: nowIso,
      expiresAt: expiresAtMs === undefined ? null : new Date(expiresAtMs).toISOString(),
      revokedAt: spec.revoked ? nowIso : null,
    };
    const record: KeyRecord = { key, info, plan, expiresAtMs };
    records.push(record);
    byKey.set(key, record);
    byId.set(id, record);
    return { key, info: { ...info } };
  }

  /** A key's metadata as the routes show it: the prefix with the chosen ellipsis. */
  function shown(info: NanoTermKeyInfo): NanoTermKeyInfo {
    return { ...info, prefix: `${info.prefix}${options.prefixEllipsis ?? ''}` };
  }

  function revoke(record: KeyRecord): void {
    record.info.revokedAt ??= new Date(clock.now()).toISOString();
  }

  for (const spec of options.keys ?? []) createKey(spec);

  /** Seconds until the key may try again, or undefined when the request is within its plan's limit. */
  function rateLimited(record: KeyRecord): number | undefined {
    if (windowMs === undefined) return undefined;
    const limit = NANOTERM_PLAN_LIMITS[record.plan];
    const now = clock.now();
    const recent = (hits.get(record.info.id) ?? []).filter((t) => t > now - windowMs);
    hits.set(record.info.id, recent);
    if (recent.length >= limit) {
      const freeAt = recent[recent.length - limit]! + windowMs;
      return Math.max(1, Math.ceil((freeAt - now) / 1000));
    }
    recent.push(now);
    return undefined;
  }

  function finish(record: NanoTermRequest): void {
    options.onRequest?.(record);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = clock.now();
    const raw = await readBody(req);
    const { method, target, pathname, searchParams } = requestTarget(req);
    const route = routeOf(pathname);
    const record: NanoTermRequest = {
      at,
      method,
      path: target,
      route,
      headers: flattenHeaders(req),
      status: 0,
    };
    requests.push(record);
    res.once('close', () => finish(record));

    // 1. Faults.
    const fault = await faults.take(route);
    if (fault) {
      switch (fault.kind) {
        case 'envelope': {
          const headers = { ...fault.headers };
          let action = fault.action;
          if (fault.code === 'RATE_LIMITED') {
            // The real service always sends Retry-After with RATE_LIMITED; default it to 1 s if not given.
            const given = Object.entries(headers).find(([name]) => name.toLowerCase() === 'retry-after');
            const retryAfter = given?.[1] ?? '1';
            if (!given) headers['retry-after'] = retryAfter;
            action ??= `Retry after ${retryAfter}s, or upgrade at ${PRICING_URL}`;
          }
          sendError(
            res,
            record,
            fault.status,
            fault.code,
            { message: fault.message, action, retryable: fault.retryable },
            headers,
          );
          return;
        }
        default:
          answerFault(fault, req, res, record, 'cloudflare');
          return;
      }
    }

    // 2. The 426 gate: only the official CLI is gated, by exact name (the docs: X-Client-Name === "nanoterm-cli").
    if (req.headers['x-client-name'] === 'nanoterm-cli') {
      const versionHeader = req.headers['x-client-version'];
      const version = typeof versionHeader === 'string' ? versionHeader.trim() : '';
      const parsed = parseSemver(version);
      // Not documented: a missing or unparseable version from the official CLI is treated as too old.
      if (!parsed || compareSemver(parsed, minParsed) < 0) {
        sendError(res, record, 426, 'CLI_VERSION_TOO_OLD', {
          message: `CLI ${version === '' ? '(no version sent)' : version} is below the minimum required version (${minCliVersion}).`,
          action: UPGRADE_CLI,
          retryable: false,
        });
        return;
      }
    }

    // 3. Authentication: `Authorization: Bearer nt_...` only. `?token=` is accepted by the real service on
    // WebSocket upgrade handshakes only (not emulated here); on plain HTTP it is ignored, never authenticates.
    const tokenInQuery = searchParams.has('token');
    const authorization = req.headers.authorization;
    if (authorization === undefined || authorization.trim() === '') {
      sendError(res, record, 401, 'UNAUTHORIZED', {
        message: tokenInQuery
          ? 'Missing Authorization header. The ?token= query parameter is ignored on regular HTTP requests (accepted only on WebSocket upgrade handshakes).'
          : 'Missing Authorization header.',
        action: tokenInQuery
          ? 'Send the key in the Authorization header instead: Authorization: Bearer nt_... (keep keys out of URLs).'
          : 'Send your API key in the Authorization header: Authorization: Bearer nt_...',
      });
      return;
    }
    // The scheme name is matched case-insensitively (RFC 9110); the key must start with nt_.
    const bearer = /^Bearer +(\S+) *$/i.exec(authorization)?.[1];
    if (bearer === undefined || !bearer.startsWith('nt_')) {
      sendError(res, record, 401, 'UNAUTHORIZED', {
        message: 'Malformed Authorization header: expected "Bearer nt_...".',
        action: 'Send your API key in the Authorization header: Authorization: Bearer nt_...',
      });
      return;
    }
    const key = byKey.get(bearer);
    if (!key) {
      sendError(res, record, 401, 'UNAUTHORIZED', { message: 'Invalid API key.', action: NEW_KEY_ACTION });
      return;
    }
    if (key.info.revokedAt !== null) {
      sendError(res, record, 401, 'UNAUTHORIZED', {
        message: 'This API key has been revoked.',
        action: NEW_KEY_ACTION,
      });
      return;
    }
    if (key.expiresAtMs !== undefined && clock.now() >= key.expiresAtMs) {
      sendError(res, record, 401, 'UNAUTHORIZED', {
        message: `This API key expired at ${key.info.expiresAt}.`,
        action: NEW_KEY_ACTION,
      });
      return;
    }

    // 4. The per-key plan rate limit.
    const retryAfter = rateLimited(key);
    if (retryAfter !== undefined) {
      sendError(
        res,
        record,
        429,
        'RATE_LIMITED',
        {
          message: 'Rate limit exceeded. Slow down requests or upgrade your plan.',
          action: `Retry after ${retryAfter}s, or ${PLAN_UPGRADE_HINT[key.plan]} at ${PRICING_URL}`,
          retryable: true,
        },
        { 'retry-after': String(retryAfter) },
      );
      return;
    }

    // 5. Routes.
    const notFound = () =>
      sendError(res, record, 404, 'NOT_FOUND', {
        message: `No route ${method} ${pathname}.`,
        action: 'Check the method and path against https://docs.nanoterm.dev/api.',
      });
    switch (route) {
      case 'workspaces':
        if (method !== 'GET') return notFound();
        sendJson(res, record, 200, { workspaces: WORKSPACES });
        return;
      case 'keys':
        if (method !== 'GET' && method !== 'POST') return notFound();
        if (!requireFull(res, record, key, method === 'GET' ? 'list API keys' : 'create API keys')) return;
        if (method === 'GET') {
          const list = records.map((r) => shown(r.info));
          sendJson(res, record, 200, options.keyListShape === 'array' ? list : { keys: list });
          return;
        }
        return handleCreate(res, record, key, raw);
      case 'key': {
        if (method !== 'GET' && method !== 'DELETE') return notFound();
        const verb = method === 'GET' ? 'read API keys' : 'revoke API keys';
        if (!requireFull(res, record, key, verb)) return;
        const id = safeDecode(pathname.slice('/api/keys/'.length));
        const target = byId.get(id);
        if (!target) {
          sendError(res, record, 404, 'NOT_FOUND', {
            message: `API key '${id}' not found.`,
            action: 'Check the ID or list keys with GET /api/keys.',
          });
          return;
        }
        // Revoking an already revoked key is harmless: 200 with its unchanged metadata.
        if (method === 'DELETE') revoke(target);
        sendJson(res, record, 200, shown(target.info));
        return;
      }
      case 'other':
        return notFound();
    }
  }

  function requireFull(res: ServerResponse, record: NanoTermRequest, key: KeyRecord, what: string): boolean {
    if (key.info.permission === 'full') return true;
    sendError(res, record, 403, 'FORBIDDEN', {
      message: `This API key has '${key.info.permission}' permission; it cannot ${what}.`,
      action: "Use a key with 'full' permission (admin); create one in the dashboard's API Keys page.",
    });
    return false;
  }

  function handleCreate(res: ServerResponse, record: NanoTermRequest, creator: KeyRecord, raw: string): void {
    const invalid = (message: string) =>
      sendError(res, record, 400, 'VALIDATION_FAILED', {
        message,
        action:
          'Send a JSON body {"name": string, "permission": "full" | "execute" | "read", "expiresAt"?: ISO date in the future}.',
      });
    const body = parseJson(raw);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return invalid('Request body must be a JSON object.');
    const { name, permission, expiresAt } = body as Record<string, unknown>;
    if (typeof name !== 'string' || name.trim() === '') return invalid('name is required.');
    if (name.trim().length > MAX_KEY_NAME) return invalid(`name must be at most ${MAX_KEY_NAME} characters.`);
    if (typeof permission !== 'string' || !PERMISSIONS.includes(permission as NanoTermPermission))
      return invalid('permission must be one of full, execute, read.');
    let expires: string | undefined;
    if (expiresAt !== undefined && expiresAt !== null) {
      const ms = typeof expiresAt === 'string' ? Date.parse(expiresAt) : Number.NaN;
      if (Number.isNaN(ms)) return invalid('expiresAt must be an ISO 8601 date.');
      if (ms <= clock.now()) return invalid('expiresAt must be in the future.');
      expires = new Date(ms).toISOString();
    }
    // Not documented for keys: a second active key with the same name is the "unique constraint" 409 here.
    const trimmed = name.trim();
    if (records.some((r) => r.info.name === trimmed && r.info.revokedAt === null)) {
      sendError(res, record, 409, 'CONFLICT', {
        message: `An active API key named '${trimmed}' already exists.`,
        action: 'Choose a different name, or revoke the existing key first.',
      });
      return;
    }
    // Plans belong to the account: a new key gets its creator's plan.
    const created = createKey({
      name: trimmed,
      permission: permission as NanoTermPermission,
      expiresAt: expires,
      plan: creator.plan,
    });
    sendJson(res, record, 201, { key: created.key, ...shown(created.info) });
  }

  const server = await startEmulatorServer({
    port: options.port,
    handle,
    internalError: (res, error) =>
      sendError(res, undefined, 500, 'INTERNAL_ERROR', {
        message: `Unhandled server error: ${String(error)}`,
      }),
    onClose: faults.cancelDelays,
  });

  return {
    url: server.url,
    requests,
    faults: { add: faults.add, clear: faults.clear },
    createKey,
    revokeKey(keyOrId: string) {
      const record = byKey.get(keyOrId) ?? byId.get(keyOrId);
      if (!record) throw new Error('NanoTerm emulator: cannot revoke an unknown key');
      revoke(record);
    },
    keys: () => records.map((r) => ({ ...r.info })),
    close: server.close,
  };
}

function routeOf(pathname: string): NanoTermRoute {
  if (pathname === '/api/workspaces') return 'workspaces';
  if (pathname === '/api/keys') return 'keys';
  if (/^\/api\/keys\/[^/]+$/.test(pathname)) return 'key';
  return 'other';
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function randomBase62(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[randomInt(BASE62.length)];
  return out;
}

interface Semver {
  core: [number, number, number];
  pre: string[];
}

function parseSemver(text: string): Semver | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(text);
  if (!m) return undefined;
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] ? m[4].split('.') : [] };
}

/** Semver precedence: core numbers, then a pre-release sorts below its release. */
function compareSemver(a: Semver, b: Semver): number {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return a.core[i]! - b.core[i]!;
  if (a.pre.length === 0 || b.pre.length === 0) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) return Number(x) - Number(y);
    if (xn) return -1;
    if (yn) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function sendError(
  res: ServerResponse,
  record: NanoTermRequest | undefined,
  status: number,
  code: string,
  overrides: { message?: string | undefined; action?: string | undefined; retryable?: boolean | undefined },
  headers: Record<string, string> = {},
): void {
  const clean: { message?: string; action?: string; retryable?: boolean } = {};
  if (overrides.message !== undefined) clean.message = overrides.message;
  if (overrides.action !== undefined) clean.action = overrides.action;
  if (overrides.retryable !== undefined) clean.retryable = overrides.retryable;
  sendJson(res, record, status, nanoTermErrorBody(code, clean), headers);
}
