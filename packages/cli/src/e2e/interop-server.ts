/**
 * A small, real OpenID Connect server on 127.0.0.1 that behaves as an independent server did (issue 25),
 * for the answers oidc-provider does not give: `token_type: "bearer"` in lower case, JWT access tokens
 * whose `aud` is the scope string, `slow_down` for a poll that comes sooner than it wants (it may want polls
 * further apart than the `interval` it announces), `403 unauthorized_client` for a client id it does not
 * know, one-use rotating refresh tokens, and a userinfo endpoint that checks the JWT it issued. Discovery at
 * `/.well-known/openid-configuration`. Every request is recorded.
 */
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, requestTarget, startEmulatorServer } from '@latchkey/conformance/tools';

export const INTEROP_DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface InteropServerOptions {
  /** Client ids it knows; any other is answered 403 `unauthorized_client`. Default `latchkey-cli`. */
  clients?: string[];
  /** The `interval` it announces (seconds); default 1. */
  interval?: number;
  /**
   * The shortest gap (seconds) it accepts between two polls of a code, whatever it announced; a sooner poll
   * is answered `slow_down`, and then, as RFC 8628 section 3.5 says, 5 s more for every later poll. Default
   * the announced interval.
   */
  minPollGap?: number;
  /** Seconds an access token lives; default 600. */
  accessTokenTtl?: number;
  /** Publish and serve a userinfo endpoint; default true. */
  userinfo?: boolean;
  /**
   * How error answers are encoded: `json` (RFC 6749 section 5.2, the default) or `form`
   * (`error=...&error_description=...`, as some servers answer, GitHub's among them).
   */
  errorEncoding?: 'json' | 'form';
}

export interface InteropRequest {
  at: number;
  method: string;
  path: string;
  fields: Record<string, string>;
  /** The Authorization header's scheme as sent (`Bearer`), when one came. */
  authScheme?: string;
  status: number;
  error?: string;
  /** The JSON answered (tokens included: a test server). */
  answer?: Record<string, unknown>;
}

export interface InteropServer {
  /** `http://127.0.0.1:PORT`: also the issuer. */
  readonly url: string;
  readonly requests: InteropRequest[];
  requestsTo(path: string, grantType?: string): InteropRequest[];
  /** The user approves the code (as `alice`). */
  approve(userCode: string): void;
  /** The claims of a JWT it issued (undefined for anything else). */
  claimsOf(token: string): Record<string, unknown> | undefined;
  issuedSecrets(): string[];
  close(): Promise<void>;
}

interface Code {
  deviceCode: string;
  userCode: string;
  clientId: string;
  scope: string;
  expiresAt: number;
  /** Seconds it wants between polls: `minPollGap`, and 5 more for every `slow_down`. */
  gap: number;
  slowDowns: number;
  /** The previous poll, or when the code was issued. */
  lastPollAt: number;
  state: 'pending' | 'approved' | 'used';
}

const USER = { sub: 'alice', email: 'alice@interop.example', name: 'Alice Interop' };

export async function startInteropServer(options: InteropServerOptions = {}): Promise<InteropServer> {
  const clients = options.clients ?? ['latchkey-cli'];
  const interval = options.interval ?? 1;
  const minPollGap = options.minPollGap ?? interval;
  const ttl = options.accessTokenTtl ?? 600;
  const withUserinfo = options.userinfo ?? true;
  const key = randomBytes(32);
  const requests: InteropRequest[] = [];
  const codes = new Map<string, Code>();
  const refreshTokens = new Map<string, { scope: string; used: boolean }>();
  const secrets: string[] = [];
  let url = '';

  const sign = (payload: object): string => {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const body = `${part({ alg: 'HS256', typ: 'at+jwt' })}.${part(payload)}`;
    return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
  };
  const claimsOf = (token: string): Record<string, unknown> | undefined => {
    const [header, payload, signature] = token.split('.');
    if (header === undefined || payload === undefined || signature === undefined) return undefined;
    const expected = createHmac('sha256', key).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  };

  function issue(scope: string): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    // The `aud` is the scope string: what the independent server put there.
    const accessToken = sign({ iss: url, ...USER, aud: scope, scope, iat: now, exp: now + ttl });
    const refreshToken = randomBytes(24).toString('base64url');
    refreshTokens.set(refreshToken, { scope, used: false });
    secrets.push(accessToken, refreshToken);
    return {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: ttl,
      refresh_token: refreshToken,
      scope,
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const { method, pathname: path } = requestTarget(req);
    const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const fields = isForm ? Object.fromEntries(new URLSearchParams(raw)) : {};
    const record: InteropRequest = { at: Date.now(), method, path, fields, status: 0 };
    const authorization = req.headers.authorization;
    if (authorization !== undefined) record.authScheme = authorization.split(' ')[0] ?? '';
    requests.push(record);
    const json = (status: number, body: Record<string, unknown>) => {
      record.status = status;
      record.answer = body;
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, error: string, description: string) => {
      record.status = status;
      record.error = error;
      const form = options.errorEncoding === 'form';
      res.writeHead(status, {
        'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
        'cache-control': 'no-store',
      });
      const body = { error, error_description: description };
      res.end(form ? new URLSearchParams(body).toString() : JSON.stringify(body));
    };

    if (method === 'GET' && path === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: url,
        device_authorization_endpoint: `${url}/device`,
        token_endpoint: `${url}/token`,
        ...(withUserinfo && { userinfo_endpoint: `${url}/userinfo` }),
        scopes_supported: ['openid', 'offline_access'],
        grant_types_supported: [INTEROP_DEVICE_GRANT, 'refresh_token'],
      });
    }
    if (method === 'GET' && path === '/userinfo' && withUserinfo) {
      const token = /^bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
      const claims = token === undefined ? undefined : claimsOf(token);
      if (claims === undefined || Number(claims.exp) * 1000 <= Date.now()) {
        return fail(401, 'invalid_token', 'the access token is not valid');
      }
      return json(200, USER);
    }
    if (method !== 'POST' || !isForm) return fail(404, 'not_found', `no ${method} ${path} here`);

    const clientId = fields.client_id ?? '';
    if (path === '/device') {
      if (!clients.includes(clientId)) return fail(403, 'unauthorized_client', 'unknown client');
      const deviceCode = randomBytes(24).toString('base64url');
      const userCode = String(randomInt(10_000_000, 99_999_999));
      codes.set(deviceCode, {
        deviceCode,
        userCode,
        clientId,
        scope: fields.scope ?? 'openid',
        expiresAt: Date.now() + 600_000,
        gap: minPollGap,
        slowDowns: 0,
        // The first poll, too, must wait the gap after the code was issued.
        lastPollAt: Date.now(),
        state: 'pending',
      });
      secrets.push(deviceCode);
      return json(200, {
        device_code: deviceCode,
        user_code: userCode,
        verification_uri: `${url}/activate`,
        verification_uri_complete: `${url}/activate?user_code=${userCode}`,
        expires_in: 600,
        interval,
      });
    }
    if (path !== '/token') return fail(404, 'not_found', `no POST ${path} here`);
    if (!clients.includes(clientId)) return fail(403, 'unauthorized_client', 'unknown client');
    if (fields.grant_type === 'refresh_token') {
      const held = refreshTokens.get(fields.refresh_token ?? '');
      if (held === undefined || held.used) return fail(400, 'invalid_grant', 'unknown or used refresh token');
      held.used = true;
      return json(200, issue(held.scope));
    }
    if (fields.grant_type !== INTEROP_DEVICE_GRANT) {
      return fail(400, 'unsupported_grant_type', 'device_code or refresh_token');
    }
    const code = codes.get(fields.device_code ?? '');
    if (code === undefined || code.clientId !== clientId) return fail(400, 'invalid_grant', 'unknown code');
    if (Date.now() >= code.expiresAt) return fail(400, 'expired_token', 'the code expired');
    const now = Date.now();
    const previous = code.lastPollAt;
    code.lastPollAt = now;
    if (now - previous < code.gap * 1000) {
      // RFC 8628 section 3.5: the interval grows by 5 s for this and every later request.
      code.slowDowns += 1;
      code.gap = Math.max(minPollGap, interval + 5 * code.slowDowns);
      return fail(400, 'slow_down', `poll at most every ${code.gap} s`);
    }
    if (code.state === 'pending') return fail(400, 'authorization_pending', 'not yet approved');
    if (code.state === 'used') return fail(400, 'invalid_grant', 'the code was used');
    code.state = 'used';
    return json(200, issue(code.scope));
  }

  const server = await startEmulatorServer({
    handle,
    internalError: (res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'server_error' }));
    },
  });
  url = server.url;

  return {
    url,
    requests,
    requestsTo: (path, grantType) =>
      requests.filter(
        (r) => r.path === path && (grantType === undefined || r.fields.grant_type === grantType),
      ),
    approve(userCode) {
      const code = [...codes.values()].find((c) => c.userCode === userCode);
      if (code === undefined || code.state !== 'pending')
        throw new Error(`interop server: no pending code ${userCode}`);
      code.state = 'approved';
    },
    claimsOf,
    issuedSecrets: () => [...secrets],
    close: server.close,
  };
}
