/**
 * A local Nanoservices API for tests of the `nanoctl` login (seed 003, PROVIDERS.md): API tokens with a user
 * name and an expiry date, checked by the token-validation route. Faults can be injected to test how a client
 * copes with proxies, resets and server trouble. Listens on 127.0.0.1 only.
 *
 * nanoctl's docs do not name the validation endpoint. The project chose, and this emulator implements:
 *
 *   GET {base}/v1/whoami   with `Authorization: Bearer <token>`
 *     200 {"username": "...", "expiresAt": "<ISO>"}                          valid token
 *     401 {"error": "invalid_token", "message": "..."}                       unknown, revoked or missing token
 *     401 {"error": "token_expired", "message": "token expired on <ISO>"}    expired token (see below)
 *   anything else (another path, or another method on /v1/whoami)
 *     404 {"error": "not_found", "message": "..."}
 *
 * Order in which a request is judged: injected faults first (so they hit even unauthenticated requests), then
 * routing (404), then authentication.
 *
 * An expired token answers 401 with its own error code, `token_expired`, rather than 200 with a past
 * `expiresAt` or a generic `invalid_token`: that is what a real token-checking server does (an expired
 * credential no longer authenticates anything, so it cannot be 200), and the distinct code lets the CLI say
 * "your token expired on <date>, create a new one" instead of "invalid token". A token is expired from its
 * `expiresAt` instant on (`now >= expiresAt`, by the emulator's clock). A token that is both revoked and
 * expired answers `invalid_token`: revocation is the stronger, permanent state.
 *
 * Every 401 also carries `WWW-Authenticate: Bearer realm="nanoservices"` (with `error="invalid_token"` when a
 * token was sent), as RFC 6750 asks of a bearer-token server.
 */
import { randomInt } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  answerFault,
  createFaultQueue,
  flattenHeaders,
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

export interface NanoctlTokenSpec {
  /** The full token; default a fresh `nsv_<32 base62>`. Any non-empty string without whitespace; unique. */
  token?: string;
  /** Default `dev-user`. */
  username?: string;
  /** ISO date; may lie in the past (an already expired token). Default: 90 days from now, by the clock. */
  expiresAt?: string;
  /** Provision the token already revoked. */
  revoked?: boolean;
}

export interface NanoctlEmulatorOptions {
  /** TCP port on 127.0.0.1; default 0 (a free port chosen by the OS). */
  port?: number;
  /** Default `Date.now`; drives token expiry, default expiry dates and the request log. */
  clock?: { now(): number };
  /** Pre-provisioned tokens. */
  tokens?: NanoctlTokenSpec[];
  /**
   * Called once each request has been answered (or dropped), with its log entry. Not in the original
   * brief: the standalone command uses it to log on stderr.
   */
  onRequest?: (request: NanoctlRequest) => void;
}

export type NanoctlRoute = 'whoami' | 'other';

export type NanoctlFault = FaultTarget<'whoami'> &
  (StatusFault | HtmlFault | EmptyFault | DelayFault | DropFault);

export interface NanoctlRequest {
  /** When it arrived, by the emulator's clock. */
  at: number;
  method: string;
  /** The request target: path and query string, as received. */
  path: string;
  route: NanoctlRoute;
  /** Lower-cased names; repeated headers joined with ", ". Authorization is kept as-is (in memory only). */
  headers: Record<string, string>;
  /** The status answered; 0 while unanswered or when the connection was dropped. */
  status: number;
}

export interface NanoctlEmulator {
  /** `http://127.0.0.1:PORT`, no trailing slash: the API base, so the check is `${url}/v1/whoami`. */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: NanoctlRequest[];
  /**
   * Faults are consumed in the order added: a request takes the first one whose route matches (`'*'` matches
   * every request, 404s included), `times` (default 1) times. A `delay` then lets the request go on, so a
   * further matching fault still applies to it.
   */
  readonly faults: { add(fault: NanoctlFault): void; clear(): void };
  /**
   * Provisions a token. Default: a random `nsv_<32 base62>`, username `dev-user`, expiring 90 days from now
   * by the clock. `expiresAt` comes back normalised to `Date.prototype.toISOString` form. Throws for a
   * duplicate or malformed token, an empty username or an unparseable date.
   */
  addToken(spec?: NanoctlTokenSpec): { token: string; username: string; expiresAt: string };
  /** Whoami answers 401 invalid_token for it from now on. Revoking twice is harmless; throws for an unknown token. */
  revokeToken(token: string): void;
  close(): Promise<void>;
}

interface TokenRecord {
  token: string;
  username: string;
  expiresAtMs: number;
  revoked: boolean;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DEFAULT_USERNAME = 'dev-user';
const DEFAULT_LIFETIME_MS = 90 * 24 * 60 * 60 * 1000;
const WHOAMI_PATH = '/v1/whoami';
const REALM = 'Bearer realm="nanoservices"';

/** Starts a Nanoservices API emulator on 127.0.0.1 and a random port. */
export async function startNanoctlEmulator(options: NanoctlEmulatorOptions = {}): Promise<NanoctlEmulator> {
  const clock = options.clock ?? { now: () => Date.now() };
  const requests: NanoctlRequest[] = [];
  const faults = createFaultQueue<NanoctlFault>();
  const tokens = new Map<string, TokenRecord>();

  function addToken(spec: NanoctlTokenSpec = {}): { token: string; username: string; expiresAt: string } {
    let token = spec.token;
    if (token === undefined) {
      do token = `nsv_${randomBase62(32)}`;
      while (tokens.has(token));
    } else {
      if (token === '' || /\s/.test(token))
        throw new Error('Nanoctl emulator: a token must be a non-empty string without whitespace');
      if (tokens.has(token)) throw new Error('Nanoctl emulator: that token already exists');
    }
    const username = spec.username ?? DEFAULT_USERNAME;
    if (username === '') throw new Error('Nanoctl emulator: username must not be empty');
    let expiresAtMs = clock.now() + DEFAULT_LIFETIME_MS;
    if (spec.expiresAt !== undefined) {
      expiresAtMs = Date.parse(spec.expiresAt);
      if (Number.isNaN(expiresAtMs))
        throw new Error(`Nanoctl emulator: expiresAt "${spec.expiresAt}" is not a date`);
    }
    tokens.set(token, { token, username, expiresAtMs, revoked: spec.revoked ?? false });
    return { token, username, expiresAt: new Date(expiresAtMs).toISOString() };
  }

  for (const spec of options.tokens ?? []) addToken(spec);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = clock.now();
    await readBody(req); // Unused, but read to the end before answering.
    const { method, target, pathname } = requestTarget(req);
    const route: NanoctlRoute = method === 'GET' && pathname === WHOAMI_PATH ? 'whoami' : 'other';
    const record: NanoctlRequest = {
      at,
      method,
      path: target,
      route,
      headers: flattenHeaders(req),
      status: 0,
    };
    requests.push(record);
    res.once('close', () => options.onRequest?.(record));

    // 1. Faults.
    const fault = await faults.take(route);
    if (fault) {
      answerFault(fault, req, res, record, 'nginx');
      return;
    }

    // 2. Routing.
    if (route === 'other') {
      sendJson(res, record, 404, { error: 'not_found', message: `No route for ${method} ${pathname}.` });
      return;
    }

    // 3. Authentication, then the answer.
    const authorization = req.headers.authorization?.trim() ?? '';
    const bearer = /^Bearer +(\S+)$/i.exec(authorization)?.[1];
    if (bearer === undefined) {
      // No token at all (or not a bearer one): the same 401 code, so a client needs to know only two codes.
      const message =
        authorization === ''
          ? 'Missing token: send Authorization: Bearer <token>.'
          : 'Malformed Authorization header: expected Bearer <token>.';
      sendJson(res, record, 401, { error: 'invalid_token', message }, { 'www-authenticate': REALM });
      return;
    }
    const token = tokens.get(bearer);
    const invalidHeader = { 'www-authenticate': `${REALM}, error="invalid_token"` };
    if (!token || token.revoked) {
      sendJson(
        res,
        record,
        401,
        { error: 'invalid_token', message: 'The token is invalid or has been revoked.' },
        invalidHeader,
      );
      return;
    }
    const expiresAt = new Date(token.expiresAtMs).toISOString();
    if (clock.now() >= token.expiresAtMs) {
      sendJson(
        res,
        record,
        401,
        { error: 'token_expired', message: `token expired on ${expiresAt}` },
        { 'www-authenticate': `${REALM}, error="invalid_token", error_description="token expired"` },
      );
      return;
    }
    sendJson(res, record, 200, { username: token.username, expiresAt });
  }

  const server = await startEmulatorServer({
    port: options.port,
    handle,
    internalError: (res, error) =>
      sendJson(res, undefined, 500, { error: 'internal_error', message: String(error) }),
    onClose: faults.cancelDelays,
  });

  return {
    url: server.url,
    requests,
    faults: { add: faults.add, clear: faults.clear },
    addToken,
    revokeToken(token: string) {
      const record = tokens.get(token);
      if (!record) throw new Error('Nanoctl emulator: cannot revoke an unknown token');
      record.revoked = true;
    },
    close: server.close,
  };
}

function randomBase62(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[randomInt(BASE62.length)];
  return out;
}
