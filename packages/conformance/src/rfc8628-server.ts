/**
 * A local Acme for the example third-party plugin (`examples/acme`): a strict, standard RFC 8628 server,
 * and a browser sign-in (authorization code + PKCE S256 on a loopback redirect, `GET /oauth/authorize`)
 * whose tokens come with a rotating refresh token (`grant_type=refresh_token`; a used one is refused).
 * `POST /oauth/device/code` and `POST /oauth/token` take form bodies only (415 for anything else) and answer
 * JSON as RFC 8628 sections 3.2 and 3.5 say, including `slow_down` for a poll that comes sooner than the
 * interval after the previous one (by the injected clock); `GET /api/me` answers who a Bearer token belongs
 * to. Every answer is JSON. Listens on 127.0.0.1 only.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, requestTarget, sendJson, startEmulatorServer } from './http-emulator.js';

export interface AcmeUser {
  email: string;
  name: string;
}

/** A pre-provisioned token: just the token (it belongs to the default user), or the token and its user. */
export type AcmeTokenSpec = string | ({ token: string } & Partial<AcmeUser>);

export interface AcmeEmulatorOptions {
  /** TCP port on 127.0.0.1; default 0 (a free port chosen by the OS). */
  port?: number;
  /** Default `Date.now`; a fake clock makes the request log, `slow_down`, and expiry follow it. */
  clock?: { now(): number };
  /** Seconds between polls, sent as `interval`; default 5 (RFC 8628's default). */
  interval?: number;
  /** Seconds a device code lives, sent as `expires_in`; default 600. */
  expiresIn?: number;
  /** Seconds an issued access token lives, sent as `expires_in` of the token answer; default 3600. */
  tokenExpiresIn?: number;
  /**
   * Approve a pending code by itself once it has been polled N times (headless runs): the first N polls
   * answer `authorization_pending`, poll N+1 gets the token. 0 approves on the first poll.
   */
  autoApproveAfterPolls?: number;
  /** Pre-provisioned valid tokens (`acme_...`), for token-login tests; they never expire. */
  tokens?: AcmeTokenSpec[];
  /** Client ids the server knows; default any non-empty `client_id`. */
  clientIds?: string[];
  /** Who approves codes and owns pre-provisioned tokens by default. */
  user?: AcmeUser;
}

export type AcmeRoute = 'device-code' | 'token' | 'authorize' | 'me' | 'other';

export interface AcmeRequest {
  /** When it arrived, by the emulator's clock. */
  at: number;
  method: string;
  /** The path only: the query string is dropped. */
  path: string;
  route: AcmeRoute;
  /** The status answered; 0 while unanswered. */
  status: number;
  /** The request's `content-type`, when it sent one. */
  contentType?: string;
  /** The fields of a form body (values included: this is a test server). */
  fields?: Record<string, string>;
  /** Whether an `Authorization: Bearer` header came with it. */
  bearer: boolean;
  /** The `error` field of an error answer (`authorization_pending`, `slow_down`, `invalid_token`...). */
  error?: string;
}

export interface AcmeIssuedToken {
  token: string;
  user: AcmeUser;
  /** Clock time (ms) after which `/api/me` rejects it; undefined for pre-provisioned tokens. */
  expiresAt?: number;
  revoked: boolean;
}

export interface AcmeEmulator {
  /** `http://127.0.0.1:PORT`, no trailing slash: the plugin's base URL. */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: AcmeRequest[];
  /** What the user does on the verification page with Approve. Throws for an unknown, expired, denied or used code. */
  approve(userCode: string, user?: AcmeUser): void;
  /** The same with Deny: the next poll answers `access_denied`. */
  deny(userCode: string): void;
  /** Every access token issued by an approved device login, in order. */
  issuedTokens(): string[];
  /** The same with their users and state. */
  issuedTokenDetails(): AcmeIssuedToken[];
  /** Every device_code handed out, in order. */
  deviceCodes(): string[];
  /** Every user_code handed out, in order. */
  userCodes(): string[];
  /** Provisions a valid token (default a fresh `acme_<24 alnum>`) and returns it. */
  addToken(spec?: AcmeTokenSpec): string;
  /** `/api/me` answers 401 for it from now on. */
  revokeToken(token: string): void;
  /**
   * What the person's browser does with an authorization URL: Approve (or Deny) on Acme's page. Returns the
   * address the browser is sent to (the loopback redirect with `code` and `state`, or with an `error`).
   * `GET /oauth/authorize` itself approves at once (a person signed in who approved before).
   */
  authorize(url: string | URL, decision?: 'approve' | 'deny'): URL;
  /** Every refresh token issued (browser sign-ins and refreshes), in order. */
  issuedRefreshTokens(): string[];
  close(): Promise<void>;
}

type CodeState = 'pending' | 'approved' | 'denied' | 'consumed';

interface DeviceCode {
  deviceCode: string;
  userCode: string;
  clientId: string;
  expiresAt: number;
  /** Seconds this code must be polled at: the announced interval, +5 for each `slow_down`. */
  interval: number;
  state: CodeState;
  polls: number;
  lastPollAt?: number;
  user?: AcmeUser;
  token?: string;
}

export const ACME_DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const DEFAULT_USER: AcmeUser = { email: 'dev@acme.example', name: 'Acme Developer' };
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const FORM = 'application/x-www-form-urlencoded';

function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** Starts an Acme emulator on 127.0.0.1 and a random port. */
export async function startAcmeEmulator(options: AcmeEmulatorOptions = {}): Promise<AcmeEmulator> {
  const clock = options.clock ?? { now: () => Date.now() };
  const interval = options.interval ?? 5;
  const expiresIn = options.expiresIn ?? 600;
  const tokenExpiresIn = options.tokenExpiresIn ?? 3600;
  const defaultUser = options.user ?? DEFAULT_USER;
  const requests: AcmeRequest[] = [];
  const codesByDevice = new Map<string, DeviceCode>();
  const codesByUser = new Map<string, DeviceCode>();
  const deviceCodes: string[] = [];
  const userCodes: string[] = [];
  const tokens = new Map<string, AcmeIssuedToken>();
  const issued: string[] = [];
  const refreshTokens = new Map<string, { user: AcmeUser; clientId: string; used: boolean }>();
  const issuedRefresh: string[] = [];
  const codes = new Map<
    string,
    { clientId: string; redirectUri: string; challenge: string; used: boolean; expiresAt: number }
  >();
  let url = '';

  /** An authorization request as the browser brings it: the redirect to send the answer to, or why not. */
  function authorize(target: string | URL, decision: 'approve' | 'deny' = 'approve'): URL {
    const params = new URL(target, url).searchParams;
    const redirect = params.get('redirect_uri') ?? '';
    let back: URL;
    try {
      back = new URL(redirect);
    } catch {
      throw new Error(`Acme emulator: no usable redirect_uri in ${String(target)}`);
    }
    if (back.protocol !== 'http:' || back.hostname !== '127.0.0.1') {
      throw new Error(`Acme emulator: redirect_uri must be a loopback address, got ${redirect}`);
    }
    const state = params.get('state');
    if (state !== null) back.searchParams.set('state', state);
    const challenge = params.get('code_challenge') ?? '';
    const refused =
      params.get('response_type') !== 'code'
        ? 'unsupported_response_type'
        : params.get('code_challenge_method') !== 'S256' || challenge === ''
          ? 'invalid_request'
          : (params.get('client_id') ?? '') === ''
            ? 'invalid_request'
            : decision === 'deny'
              ? 'access_denied'
              : undefined;
    if (refused !== undefined) {
      back.searchParams.set('error', refused);
      back.searchParams.set(
        'error_description',
        refused === 'access_denied'
          ? 'The user denied the request.'
          : 'PKCE S256 and response_type=code are required.',
      );
      return back;
    }
    const code = randomBytes(24).toString('base64url');
    codes.set(code, {
      clientId: params.get('client_id')!,
      redirectUri: redirect,
      challenge,
      used: false,
      expiresAt: clock.now() + 60_000,
    });
    back.searchParams.set('code', code);
    return back;
  }

  /** An access token and a fresh refresh token for `user`, as a token answer. */
  function grant(user: AcmeUser, clientId: string): Record<string, unknown> {
    const token = issueToken({ user } as DeviceCode);
    const refreshToken = `acmer_${randomString(ALNUM, 32)}`;
    refreshTokens.set(refreshToken, { user, clientId, used: false });
    issuedRefresh.push(refreshToken);
    return {
      access_token: token,
      token_type: 'Bearer',
      expires_in: tokenExpiresIn,
      refresh_token: refreshToken,
    };
  }

  function addToken(spec: AcmeTokenSpec = `acme_${randomString(ALNUM, 24)}`): string {
    const entry = typeof spec === 'string' ? { token: spec } : spec;
    if (!/^acme_[A-Za-z0-9]{16,}$/.test(entry.token)) {
      throw new Error(
        `Acme emulator: a token must look like acme_<16+ letters and digits>, got "${entry.token.slice(0, 8)}..."`,
      );
    }
    if (tokens.has(entry.token)) throw new Error('Acme emulator: that token already exists');
    tokens.set(entry.token, {
      token: entry.token,
      user: { email: entry.email ?? defaultUser.email, name: entry.name ?? defaultUser.name },
      revoked: false,
    });
    return entry.token;
  }
  for (const spec of options.tokens ?? []) addToken(spec);

  function newUserCode(): string {
    for (;;) {
      const raw = randomString(USER_CODE_ALPHABET, 8);
      const code = `${raw.slice(0, 4)}-${raw.slice(4)}`;
      if (!codesByUser.has(code)) return code;
    }
  }

  function findUserCode(userCode: string): DeviceCode | undefined {
    const compact = userCode.trim().toUpperCase().replace(/[\s-]/g, '');
    return codesByUser.get(`${compact.slice(0, 4)}-${compact.slice(4)}`);
  }

  function expired(code: DeviceCode): boolean {
    return clock.now() >= code.expiresAt;
  }

  function issueToken(code: DeviceCode): string {
    const token = `acme_${randomString(ALNUM, 32)}`;
    tokens.set(token, {
      token,
      user: code.user ?? defaultUser,
      expiresAt: clock.now() + tokenExpiresIn * 1000,
      revoked: false,
    });
    issued.push(token);
    return token;
  }

  function decide(userCode: string, decision: 'approve' | 'deny', user?: AcmeUser): void {
    const code = findUserCode(userCode);
    if (!code) throw new Error(`Acme emulator: cannot ${decision} user code ${userCode}: unknown`);
    if (expired(code)) throw new Error(`Acme emulator: cannot ${decision} user code ${userCode}: expired`);
    if (code.state !== 'pending') {
      // Pressing the same button twice is harmless.
      if (
        (code.state === 'approved' && decision === 'approve') ||
        (code.state === 'denied' && decision === 'deny')
      )
        return;
      throw new Error(`Acme emulator: cannot ${decision} user code ${userCode}: ${code.state}`);
    }
    code.state = decision === 'approve' ? 'approved' : 'denied';
    if (decision === 'approve') code.user = user ?? defaultUser;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = clock.now();
    const raw = await readBody(req);
    const { method, pathname: path } = requestTarget(req);
    const route: AcmeRoute =
      path === '/oauth/device/code'
        ? 'device-code'
        : path === '/oauth/token'
          ? 'token'
          : path === '/api/me'
            ? 'me'
            : path === '/oauth/authorize'
              ? 'authorize'
              : 'other';
    const contentType = req.headers['content-type'];
    const isForm = contentType?.split(';')[0]?.trim().toLowerCase() === FORM;
    const record: AcmeRequest = {
      at,
      method,
      path,
      route,
      status: 0,
      bearer: /^Bearer\s+\S/i.test(req.headers.authorization ?? ''),
    };
    if (contentType !== undefined) record.contentType = contentType;
    if (isForm) record.fields = Object.fromEntries(new URLSearchParams(raw));
    requests.push(record);

    const answer = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
      if (typeof body.error === 'string') record.error = body.error;
      sendJson(res, record, status, body, headers);
    };
    const oauthError = (
      status: number,
      error: string,
      description: string,
      headers: Record<string, string> = {},
    ) => answer(status, { error, error_description: description }, headers);

    if (route === 'other') return oauthError(404, 'not_found', `No such endpoint: ${method} ${path}.`);
    if (route === 'authorize') {
      let back: URL;
      try {
        back = authorize(`${path}?${requestTarget(req).searchParams.toString()}`);
      } catch (error) {
        return oauthError(400, 'invalid_request', String(error instanceof Error ? error.message : error));
      }
      record.status = 302;
      res.writeHead(302, { location: back.href, 'cache-control': 'no-store' });
      res.end();
      return;
    }
    if (route === 'me') {
      if (method !== 'GET') return oauthError(405, 'method_not_allowed', 'Use GET.', { allow: 'GET' });
      const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
      const entry = token === undefined ? undefined : tokens.get(token);
      const challenge = { 'www-authenticate': 'Bearer realm="acme", error="invalid_token"' };
      if (!entry || entry.revoked || (entry.expiresAt !== undefined && clock.now() >= entry.expiresAt)) {
        return oauthError(
          401,
          'invalid_token',
          token === undefined ? 'Missing Bearer token.' : 'The access token is invalid, expired or revoked.',
          challenge,
        );
      }
      return answer(200, { email: entry.user.email, name: entry.user.name });
    }

    // The OAuth endpoints: POST with a form body, as RFC 6749 section 3.2 and RFC 8628 section 3.1 require.
    if (method !== 'POST') return oauthError(405, 'invalid_request', 'Use POST.', { allow: 'POST' });
    if (!isForm) return oauthError(415, 'invalid_request', `The body must be ${FORM}.`);
    const fields = record.fields ?? {};
    const clientId = fields.client_id ?? '';
    if (clientId === '') return oauthError(400, 'invalid_request', 'client_id is required.');
    if (options.clientIds && !options.clientIds.includes(clientId)) {
      return oauthError(401, 'invalid_client', `Unknown client "${clientId}".`);
    }

    if (route === 'device-code') {
      const code: DeviceCode = {
        deviceCode: randomBytes(32).toString('base64url'),
        userCode: newUserCode(),
        clientId,
        expiresAt: clock.now() + expiresIn * 1000,
        interval,
        state: 'pending',
        polls: 0,
      };
      codesByDevice.set(code.deviceCode, code);
      codesByUser.set(code.userCode, code);
      deviceCodes.push(code.deviceCode);
      userCodes.push(code.userCode);
      const verificationUri = `${url}/device`;
      return answer(200, {
        device_code: code.deviceCode,
        user_code: code.userCode,
        verification_uri: verificationUri,
        verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(code.userCode)}`,
        expires_in: expiresIn,
        interval,
      });
    }

    // The browser sign-in's code, with its PKCE verifier (RFC 6749 section 4.1.3, RFC 7636 section 4.6).
    if (fields.grant_type === 'authorization_code') {
      const issuedCode = codes.get(fields.code ?? '');
      if (
        !issuedCode ||
        issuedCode.used ||
        clock.now() >= issuedCode.expiresAt ||
        issuedCode.clientId !== clientId
      ) {
        return oauthError(400, 'invalid_grant', 'The authorization code is not valid.');
      }
      if (fields.redirect_uri !== issuedCode.redirectUri) {
        return oauthError(400, 'invalid_grant', 'redirect_uri does not match the authorization request.');
      }
      const verifier = fields.code_verifier ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== issuedCode.challenge) {
        return oauthError(400, 'invalid_grant', 'code_verifier does not match the code_challenge.');
      }
      issuedCode.used = true;
      return answer(200, grant(defaultUser, clientId));
    }
    // Refresh (RFC 6749 section 6), rotating: a refresh token works once.
    if (fields.grant_type === 'refresh_token') {
      const entry = refreshTokens.get(fields.refresh_token ?? '');
      if (!entry || entry.used || entry.clientId !== clientId) {
        return oauthError(400, 'invalid_grant', 'The refresh token is not valid.');
      }
      entry.used = true;
      return answer(200, grant(entry.user, clientId));
    }
    // route === 'token': RFC 8628 section 3.4 request, section 3.5 answers.
    if (fields.grant_type !== ACME_DEVICE_GRANT) {
      return oauthError(400, 'unsupported_grant_type', `grant_type must be ${ACME_DEVICE_GRANT}.`);
    }
    const deviceCode = fields.device_code ?? '';
    if (deviceCode === '') return oauthError(400, 'invalid_request', 'device_code is required.');
    const code = codesByDevice.get(deviceCode);
    if (!code || code.clientId !== clientId) {
      return oauthError(400, 'invalid_grant', 'The device code is not valid for this client.');
    }
    if (code.state === 'consumed')
      return oauthError(400, 'invalid_grant', 'The device code was already used.');
    if (expired(code)) return oauthError(400, 'expired_token', 'The device code has expired.');
    const now = clock.now();
    const previous = code.lastPollAt;
    code.lastPollAt = now;
    if (previous !== undefined && now - previous < code.interval * 1000) {
      // Section 3.5: the client must add 5 seconds to its interval for this and every later request.
      code.interval += 5;
      return oauthError(
        400,
        'slow_down',
        `Poll at most every ${code.interval} ${code.interval === 1 ? 'second' : 'seconds'}.`,
      );
    }
    if (
      code.state === 'pending' &&
      options.autoApproveAfterPolls !== undefined &&
      code.polls >= options.autoApproveAfterPolls
    ) {
      code.state = 'approved';
      code.user = defaultUser;
    }
    code.polls += 1;
    switch (code.state) {
      case 'pending':
        return oauthError(400, 'authorization_pending', 'The user has not approved the request yet.');
      case 'denied':
        return oauthError(400, 'access_denied', 'The user denied the request.');
      case 'approved': {
        code.state = 'consumed';
        const token = issueToken(code);
        code.token = token;
        return answer(200, { access_token: token, token_type: 'Bearer', expires_in: tokenExpiresIn });
      }
    }
  }

  const server = await startEmulatorServer({
    port: options.port,
    handle,
    internalError: (res, error) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'server_error', error_description: String(error) }));
    },
  });
  url = server.url;

  return {
    url,
    requests,
    approve: (userCode, user) => decide(userCode, 'approve', user),
    deny: (userCode) => decide(userCode, 'deny'),
    issuedTokens: () => [...issued],
    issuedTokenDetails: () => issued.map((token) => ({ ...tokens.get(token)! })),
    deviceCodes: () => [...deviceCodes],
    userCodes: () => [...userCodes],
    addToken,
    authorize,
    issuedRefreshTokens: () => [...issuedRefresh],
    revokeToken(token: string) {
      const entry = tokens.get(token);
      if (!entry) throw new Error('Acme emulator: cannot revoke an unknown token');
      entry.revoked = true;
    },
    close: server.close,
  };
}
