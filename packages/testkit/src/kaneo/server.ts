/**
 * A REAL better-auth server (the library Kaneo runs its auth on, at the version Kaneo pins) configured the
 * way Kaneo configures it: base path `/api/auth`, email and password, `bearer()`, `apiKey()` with sessions
 * from the `x-api-key` header, and `deviceAuthorization()` limited to the allowed device client ids. It
 * keeps everything in memory (better-auth's memory adapter, no database) and listens on 127.0.0.1.
 *
 * Nothing here imitates the protocol: every answer comes from better-auth itself. The helpers (`signUp`,
 * `approve`, `deny`, `createApiKey`, `getSession`) talk to the server over HTTP exactly as Kaneo's web app
 * would, so the request log shows them too.
 *
 * This module is a separate entry point (`@latchkey/testkit/kaneo`) so that users of the main entry do not
 * load better-auth.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiKey } from '@better-auth/api-key';
import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { toNodeHandler } from 'better-auth/node';
import { bearer, deviceAuthorization } from 'better-auth/plugins';
import { readBody, startEmulatorServer } from '@latchkey/conformance/tools';

export interface KaneoServerOptions {
  /** TCP port on 127.0.0.1; default 0 (a free port chosen by the OS). */
  port?: number;
  /** Seconds a device code lives (better-auth's `expiresIn`); default better-auth's 1800, as in Kaneo. */
  deviceExpiresIn?: number;
  /** Seconds between polls (better-auth's `interval`); default better-auth's 5, as in Kaneo. */
  interval?: number;
  /** Allowed device client ids (Kaneo's `DEVICE_AUTH_CLIENT_IDS`); default `kaneo-cli` and `kaneo-mcp`. */
  clientIds?: string[];
  /** better-auth's own warnings and errors (silent by default: a library does not print). */
  onLog?: (level: string, message: string, args: unknown[]) => void;
}

export interface KaneoRequestRecord {
  /** `Date.now()` when the request arrived. */
  at: number;
  method: string;
  /** The path only: the query string is dropped. */
  path: string;
  /** The status answered; 0 while unanswered or when the connection was dropped. */
  status: number;
  /** Names (never values) of the fields of a JSON or form body. */
  bodyKeys?: string[];
  /** Names (never values) of the credential headers sent: `authorization`, `x-api-key`, `cookie`. */
  credentialHeaders?: string[];
  /** The `error` field of a 400 answer from `/api/auth/device/token` (`authorization_pending`, `slow_down`...). */
  grantError?: string;
}

export interface KaneoUser {
  email: string;
  password: string;
  name: string;
  /** The user's browser session token (unsigned, as better-auth returns it); usable as `Authorization: Bearer`. */
  sessionToken: string;
}

export interface KaneoServer {
  /** `http://127.0.0.1:PORT`, no trailing slash: the API base; auth lives under `/api/auth`. */
  readonly url: string;
  /** Every request to `/api/auth/*`, in arrival order (the helpers' own requests included). */
  readonly requests: KaneoRequestRecord[];
  /** Signs a user up with `POST /api/auth/sign-up/email` and returns it signed in. */
  signUp(user?: Partial<{ email: string; password: string; name: string }>): Promise<KaneoUser>;
  /**
   * What the user's browser does on Kaneo's `/device` page: `GET /api/auth/device?user_code=CODE` with the
   * session (claims the code), then `POST /api/auth/device/approve {"userCode":CODE}`. Throws with the
   * server's answer when either step fails.
   */
  approve(userCode: string, user: KaneoUser): Promise<void>;
  /** The same, ending with `POST /api/auth/device/deny`. */
  deny(userCode: string, user: KaneoUser): Promise<void>;
  /** Creates an API key with `POST /api/auth/api-key/create` in the user's session; returns the key. */
  createApiKey(user: KaneoUser, name?: string): Promise<string>;
  /**
   * `GET /api/auth/get-session` with `Authorization: Bearer` or `x-api-key`. Returns the parsed body of a
   * 2xx answer (better-auth answers 200 `null` for an unknown session token); null for any other status.
   */
  getSession(credential: { bearer?: string; apiKey?: string }): Promise<unknown>;
  /**
   * Ends the life of a device code now, as the clock passing its `expires_in` would: the stored code's
   * expiry is set in the past, and better-auth answers what it answers for an expired code. Lets a test
   * reach expiry without waiting on, or racing, a short `deviceExpiresIn`. False when no code has that
   * user code.
   */
  expire(userCode: string): boolean;
  close(): Promise<void>;
}

/** Kaneo's built-in device clients (its `DEVICE_AUTH_CLIENT_IDS` default). */
export const KANEO_DEFAULT_CLIENT_IDS: readonly string[] = ['kaneo-cli', 'kaneo-mcp'];

const AUTH_PREFIX = '/api/auth';

/** Starts a better-auth server configured like Kaneo's, on 127.0.0.1 and a random port. */
export async function startKaneoServer(options: KaneoServerOptions = {}): Promise<KaneoServer> {
  const allowedClientIds = new Set(options.clientIds ?? KANEO_DEFAULT_CLIENT_IDS);
  const requests: KaneoRequestRecord[] = [];
  // better-auth needs the server's URL (its baseURL), known only once listening: the handler comes later.
  const auth: { handle?: (req: IncomingMessage, res: ServerResponse) => Promise<void> } = {};

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const handle = auth.handle;
    if (!handle || !(path === AUTH_PREFIX || path.startsWith(`${AUTH_PREFIX}/`))) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Not Found' }));
      return;
    }
    const record: KaneoRequestRecord = { at: Date.now(), method, path, status: 0 };
    const credentialHeaders = ['authorization', 'x-api-key', 'cookie'].filter(
      (h) => req.headers[h] !== undefined,
    );
    if (credentialHeaders.length > 0) record.credentialHeaders = credentialHeaders;
    requests.push(record);

    if (method !== 'GET' && method !== 'HEAD') {
      // Read the body here to note its field names, then hand it on: better-call's Node adapter takes a
      // consumed request's `body` (as Express leaves it) when the stream has already ended.
      const raw = await readBody(req);
      const keys = bodyKeysOf(raw, String(req.headers['content-type'] ?? ''));
      if (keys) record.bodyKeys = keys;
      if (raw.length > 0) (req as IncomingMessage & { body?: string }).body = raw;
    }

    const captureGrantError = path === `${AUTH_PREFIX}/device/token`;
    const chunks: Buffer[] = [];
    if (captureGrantError) {
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      const keep = (chunk: unknown) => {
        if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
        else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
      };
      res.write = ((chunk: unknown, ...rest: unknown[]) => {
        keep(chunk);
        return write(chunk, ...rest);
      }) as typeof res.write;
      res.end = ((chunk?: unknown, ...rest: unknown[]) => {
        if (typeof chunk !== 'function') keep(chunk);
        return end(chunk, ...rest);
      }) as typeof res.end;
    }
    res.on('finish', () => {
      record.status = res.statusCode;
      if (captureGrantError && res.statusCode === 400) {
        const error = errorFieldOf(Buffer.concat(chunks).toString('utf8'));
        if (error) record.grantError = error;
      }
    });
    await handle(req, res);
  }

  const server = await startEmulatorServer({
    port: options.port,
    // Errors are answered here rather than by `internalError`: even after better-auth has begun to answer,
    // the answer is ended with this text instead of the connection being reset.
    handle: (req, res) =>
      serve(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error');
      }),
  });
  const url = server.url;
  // better-auth's memory adapter keeps its rows in these arrays; `expire()` reaches the device codes here.
  const tables = {
    user: [],
    session: [],
    account: [],
    verification: [],
    apikey: [],
    deviceCode: [] as Array<{ userCode?: unknown; expiresAt?: unknown }>,
  };

  // Kaneo: baseURL is the API origin, trustedOrigins are the web and API origins, and the verification page
  // is `<web>/device`. There is no separate web app here, so the web origin is the server's own.
  const betterAuthServer = betterAuth({
    appName: 'Kaneo (latchkey testkit)',
    baseURL: url,
    basePath: AUTH_PREFIX,
    secret: randomBytes(32).toString('base64url'),
    trustedOrigins: [url],
    // The memory adapter wants every table it will be asked about to exist up front.
    database: memoryAdapter(tables),
    emailAndPassword: { enabled: true, autoSignIn: true },
    session: { cookieCache: { enabled: false } },
    // Self-hosted Kaneo leaves better-auth's IP rate limit off (it is on only for Kaneo Cloud).
    rateLimit: { enabled: false },
    // Behave like a deployed server whatever NODE_ENV says: better-auth skips its origin/CSRF checks when
    // NODE_ENV is `test` (vitest's default) unless this is set.
    advanced: { disableOriginCheck: false },
    telemetry: { enabled: false },
    logger: options.onLog
      ? { level: 'warn', log: (level, message, ...args) => options.onLog?.(level, message, args) }
      : { disabled: true },
    plugins: [
      bearer(),
      apiKey({
        enableSessionForAPIKeys: true,
        apiKeyHeaders: 'x-api-key',
        // As Kaneo sets it; better-auth's own default (10 requests a day per key) is far stricter.
        rateLimit: { enabled: true, maxRequests: 100, timeWindow: 60 * 1000 },
      }),
      deviceAuthorization({
        verificationUri: `${url}/device`,
        validateClient: async (clientId: string) => allowedClientIds.has(clientId),
        ...(options.deviceExpiresIn !== undefined ? { expiresIn: `${options.deviceExpiresIn}s` } : {}),
        ...(options.interval !== undefined ? { interval: `${options.interval}s` } : {}),
      }),
    ],
  });
  auth.handle = toNodeHandler(betterAuthServer) as (
    req: IncomingMessage,
    res: ServerResponse,
  ) => Promise<void>;

  /** Browser cookies per session token, from the sign-up answer's Set-Cookie. */
  const cookies = new Map<string, string>();
  let userCount = 0;

  async function call(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<{ status: number; body: unknown; response: Response }> {
    const response = await fetch(`${url}${AUTH_PREFIX}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Keep the text.
    }
    return { status: response.status, body: parsed, response };
  }

  /** The headers a signed-in browser on Kaneo's web origin sends. */
  function browserHeaders(user: KaneoUser): Record<string, string> {
    const cookie = cookies.get(user.sessionToken);
    return cookie ? { cookie, origin: url } : { authorization: `Bearer ${user.sessionToken}`, origin: url };
  }

  function fail(what: string, answer: { status: number; body: unknown }): never {
    throw new Error(`Kaneo server: ${what} failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  }

  async function decide(userCode: string, user: KaneoUser, decision: 'approve' | 'deny'): Promise<void> {
    const headers = browserHeaders(user);
    const claim = await call('GET', `/device?user_code=${encodeURIComponent(userCode)}`, headers);
    if (claim.status !== 200) fail(`GET /device for ${decision}`, claim);
    const answer = await call('POST', `/device/${decision}`, headers, { userCode });
    if (answer.status !== 200) fail(`POST /device/${decision}`, answer);
  }

  return {
    url,
    requests,
    async signUp(input = {}) {
      userCount += 1;
      const user = {
        email: input.email ?? `user${userCount}-${randomBytes(3).toString('hex')}@kaneo.test`,
        password: input.password ?? `pw-${randomBytes(9).toString('base64url')}`,
        name: input.name ?? `Test User ${userCount}`,
      };
      const answer = await call('POST', '/sign-up/email', { origin: url }, user);
      const token = (answer.body as { token?: unknown } | undefined)?.token;
      if (answer.status !== 200 || typeof token !== 'string') fail('POST /sign-up/email', answer);
      const cookie = answer.response.headers
        .getSetCookie()
        .map((line) => line.split(';')[0] ?? '')
        .filter((pair) => pair.includes('session_token='))
        .join('; ');
      if (cookie) cookies.set(token, cookie);
      return { ...user, sessionToken: token };
    },
    approve: (userCode, user) => decide(userCode, user, 'approve'),
    deny: (userCode, user) => decide(userCode, user, 'deny'),
    async createApiKey(user, name = 'latchkey test') {
      const answer = await call('POST', '/api-key/create', browserHeaders(user), { name });
      const key = (answer.body as { key?: unknown } | undefined)?.key;
      if (answer.status !== 200 || typeof key !== 'string') fail('POST /api-key/create', answer);
      return key;
    },
    async getSession(credential) {
      const headers: Record<string, string> = {};
      if (credential.bearer !== undefined) headers.authorization = `Bearer ${credential.bearer}`;
      if (credential.apiKey !== undefined) headers['x-api-key'] = credential.apiKey;
      const answer = await call('GET', '/get-session', headers);
      return answer.status >= 200 && answer.status < 300 ? (answer.body ?? null) : null;
    },
    expire(userCode) {
      const rows = tables.deviceCode.filter((row) => row.userCode === userCode);
      for (const row of rows) row.expiresAt = new Date(Date.now() - 1000);
      return rows.length > 0;
    },
    close: server.close,
  };
}

function bodyKeysOf(raw: string, contentType: string): string[] | undefined {
  if (raw === '') return undefined;
  if (contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    return [...new Set(new URLSearchParams(raw).keys())];
  }
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return Object.keys(parsed);
  } catch {
    // Not JSON: no keys to note.
  }
  return undefined;
}

function errorFieldOf(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && 'error' in parsed) {
      const error = (parsed as { error: unknown }).error;
      if (typeof error === 'string') return error;
    }
  } catch {
    // Not JSON.
  }
  return undefined;
}
