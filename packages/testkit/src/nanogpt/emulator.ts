/**
 * A local NanoGPT for tests: the CLI device login (`/api/cli-login/start`, `/api/cli-login/poll`), the
 * browser approval page (`/cli-login/verify`), the key check (`GET /api/v1/models`), and the browser
 * sign-in with PKCE (metadata, registration, authorize, token, and the key handoff: oauth.ts), following
 * NanoGPT's own documentation (seeds 000 and 001, PROVIDERS.md). Faults can be injected per route to test how a client
 * copes with proxies, resets and rate limits. Listens on 127.0.0.1 only.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  answerFault,
  createFaultQueue,
  flattenHeaders,
  parseJson,
  readBody,
  requestTarget,
  sendHtml,
  sendJson,
  startEmulatorServer,
  type DelayFault,
  type DropFault,
  type EmptyFault,
  type FaultTarget,
  type HtmlFault,
  type StatusFault,
} from '@latchkey/conformance/tools';
import { createNanoGptOAuth, type OAuthClientRecord, type OAuthRoute } from './oauth.js';

export type { OAuthRoute as NanoGptOAuthRoute } from './oauth.js';

export interface NanoGptEmulatorOptions {
  /** TCP port on 127.0.0.1; default 0 (a free port chosen by the OS). */
  port?: number;
  /** Seconds, sent by /start as `interval`; default 2 (the documented example). */
  interval?: number;
  /** Seconds, sent by /start as `expires_in`; default 600. */
  expiresIn?: number;
  /**
   * Sent by /start as `verification_uri` instead of the emulator's own page (`verification_uri_complete`
   * adds `?code=`): a hostile or misconfigured server, for testing that clients refuse unsafe addresses.
   */
  verificationUri?: string;
  /**
   * Approve a pending code by itself once it has been polled N times (headless runs): the first N polls
   * answer 202, poll N+1 gets the key. 0 approves on the first poll.
   */
  autoApproveAfterPolls?: number;
  /** Default `Date.now`; a fake clock makes the request log, expiry and rate-limit windows follow it. */
  clock?: { now(): number };
  /** Default as documented: 10 /start and 60 /poll per minute per IP. `false` turns them off. */
  rateLimits?: { startPerWindow: number; pollPerWindow: number; windowMs: number } | false;
  /** Pre-provisioned valid API keys (for `--token` tests); any string, so legacy bare-UUID keys work too. */
  keys?: string[];
  /** Called on each state change, for logging (the standalone command prints these on stderr). */
  onEvent?: (event: NanoGptEmulatorEvent) => void;
}

export type NanoGptRoute = 'start' | 'poll' | 'verify' | 'models' | OAuthRoute | 'other';

export interface RecordedRequest {
  /** When it arrived, by the emulator's clock. */
  at: number;
  method: string;
  /** The request target: path and query string. */
  path: string;
  route: NanoGptRoute;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Parsed JSON (or form fields) when the body is JSON (or a form); the raw text otherwise; undefined when empty. */
  body: unknown;
  /** The status answered; 0 while unanswered or when the connection was dropped. */
  status: number;
}

/** The shared fault kinds, and `expire`: the device code in the request's body expires before it is judged. */
export type Fault = FaultTarget<NanoGptRoute> &
  (StatusFault | HtmlFault | EmptyFault | DelayFault | DropFault | { kind: 'expire' });

export type NanoGptEmulatorEvent =
  | { type: 'code-issued'; userCode: string; clientName: string; verificationUriComplete: string }
  | { type: 'approved'; userCode: string; clientName: string }
  | { type: 'denied'; userCode: string }
  | { type: 'key-created'; key: string; name: string }
  | { type: 'key-delivered'; key: string; userCode: string };

export interface IssuedKey {
  key: string;
  /** As NanoGPT names it in the user's account: `CLI (<client_name>)`. */
  name: string;
  revoked: boolean;
}

export interface NanoGptEmulator {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  readonly faults: { add(fault: Fault): void; clear(): void };
  /** What the user does by clicking Approve. Throws for an unknown, expired, denied or consumed code. */
  approve(userCode: string): void;
  /** What the user does by clicking Deny. Throws for an unknown, expired, approved or consumed code. */
  deny(userCode: string): void;
  /** Every key created by an approval, in order (a reused key appears once). */
  issuedKeys(): string[];
  /** The same keys with their account name and whether they were revoked. */
  issuedKeyDetails(): IssuedKey[];
  /** Every device_code handed out by /start, in order. */
  deviceCodes(): string[];
  /** Every user_code handed out by /start, in order. */
  userCodes(): string[];
  /** Revokes an issued or pre-provisioned key: /api/v1/models answers 401 for it from now on. */
  revokeKey(key: string): void;
  /** The OAuth clients registered at /oauth/register (RFC 7591), in order. */
  oauthClients(): OAuthClientRecord[];
  close(): Promise<void>;
}

type CodeState = 'pending' | 'approved' | 'denied' | 'consumed' | 'expired';

interface LoginCode {
  deviceCode: string;
  userCode: string;
  clientName: string;
  expiresAt: number;
  state: CodeState;
  polls: number;
  key?: string;
}

type Decision = 'approve' | 'deny';
type DecisionResult = 'ok' | 'unknown' | 'expired' | 'denied' | 'consumed' | 'approved';

const DEFAULT_CLIENT_NAME = 'CLI';
const MAX_CLIENT_NAME = 64;
// Unambiguous: no I, O, 0 or 1, like the documented example `VS8Q-ZY3Q`.
const USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const MODELS = ['chatgpt-4o-latest', 'claude-3-5-sonnet-20241022', 'deepseek-chat', 'gpt-4o-mini'];

/** Starts a NanoGPT emulator on 127.0.0.1 and a random port. */
export async function startNanoGptEmulator(options: NanoGptEmulatorOptions = {}): Promise<NanoGptEmulator> {
  const clock = options.clock ?? { now: () => Date.now() };
  const interval = options.interval ?? 2;
  const expiresIn = options.expiresIn ?? 600;
  const rateLimits =
    options.rateLimits === false
      ? undefined
      : (options.rateLimits ?? { startPerWindow: 10, pollPerWindow: 60, windowMs: 60_000 });
  const emit = (event: NanoGptEmulatorEvent) => options.onEvent?.(event);

  const requests: RecordedRequest[] = [];
  const faults = createFaultQueue<Fault>();
  const codesByDevice = new Map<string, LoginCode>();
  const codesByUser = new Map<string, LoginCode>();
  const deviceCodes: string[] = [];
  const userCodes: string[] = [];
  const validKeys = new Set<string>(options.keys ?? []);
  const keyByClient = new Map<string, string>();
  const issued: Array<{ key: string; name: string }> = [];
  const hits = new Map<string, number[]>();
  let url = '';
  const oauth = createNanoGptOAuth({
    url: () => url,
    now: () => clock.now(),
    keyFor: (clientName) => keyFor(clientName),
    send: (record, res, status, body, headers) => sendJson(res, record, status, body, headers),
    html: (record, res, status, html) => sendHtml(res, record, status, html),
    redirect: (record, res, location) => {
      record.status = 302;
      res.writeHead(302, { location, 'cache-control': 'no-store' });
      res.end();
    },
    page,
  });

  /** Seconds until the client may try again, or undefined when the request is within the limit. */
  function rateLimited(route: 'start' | 'poll', ip: string): number | undefined {
    if (!rateLimits) return undefined;
    const limit = route === 'start' ? rateLimits.startPerWindow : rateLimits.pollPerWindow;
    const now = clock.now();
    const bucket = `${ip}|${route}`;
    const recent = (hits.get(bucket) ?? []).filter((t) => t > now - rateLimits.windowMs);
    hits.set(bucket, recent);
    if (recent.length >= limit) {
      const freeAt = recent[0]! + rateLimits.windowMs;
      return Math.max(1, Math.ceil((freeAt - now) / 1000));
    }
    recent.push(now);
    return undefined;
  }

  function newUserCode(): string {
    for (;;) {
      let raw = '';
      for (let i = 0; i < 8; i++) raw += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
      const code = `${raw.slice(0, 4)}-${raw.slice(4)}`;
      if (!codesByUser.has(code)) return code;
    }
  }

  function normaliseUserCode(input: string): string {
    const compact = input.trim().toUpperCase().replace(/[\s-]/g, '');
    return compact.length === 8 ? `${compact.slice(0, 4)}-${compact.slice(4)}` : input.trim().toUpperCase();
  }

  /** Marks a code expired once the clock has passed its deadline; a delivered key stays consumed. */
  function refresh(code: LoginCode): LoginCode {
    if ((code.state === 'pending' || code.state === 'approved') && clock.now() >= code.expiresAt) {
      code.state = 'expired';
    }
    return code;
  }

  function keyFor(clientName: string): string {
    // The same client_name reuses the existing key (documented); a revoked one is replaced by a new key.
    const existing = keyByClient.get(clientName);
    if (existing !== undefined && validKeys.has(existing)) return existing;
    const key = `sk-nano-${randomUUID()}`;
    const name = `CLI (${clientName})`;
    validKeys.add(key);
    keyByClient.set(clientName, key);
    issued.push({ key, name });
    emit({ type: 'key-created', key, name });
    return key;
  }

  function decide(userCode: string, decision: Decision): DecisionResult {
    const code = codesByUser.get(normaliseUserCode(userCode));
    if (!code) return 'unknown';
    const state = refresh(code).state;
    if (state === 'pending') {
      if (decision === 'approve') {
        code.state = 'approved';
        code.key = keyFor(code.clientName);
        emit({ type: 'approved', userCode: code.userCode, clientName: code.clientName });
      } else {
        code.state = 'denied';
        emit({ type: 'denied', userCode: code.userCode });
      }
      return 'ok';
    }
    // Clicking the same button twice is harmless.
    if (state === 'approved' && decision === 'approve') return 'ok';
    if (state === 'denied' && decision === 'deny') return 'ok';
    return state;
  }

  function decideOrThrow(userCode: string, decision: Decision): void {
    const result = decide(userCode, decision);
    if (result !== 'ok')
      throw new Error(`NanoGPT emulator: cannot ${decision} user code ${userCode}: ${result}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = clock.now();
    const raw = await readBody(req);
    const { method, target, pathname, searchParams } = requestTarget(req);
    const route = oauth.route(method, pathname) ?? routeOf(method, pathname);
    const record: RecordedRequest = {
      at,
      method,
      path: target,
      route,
      headers: flattenHeaders(req),
      body: parseBody(raw, req.headers['content-type']),
      status: 0,
    };
    requests.push(record);

    let fault = await faults.take(route);
    while (fault?.kind === 'expire') {
      const deviceCode = (record.body as { device_code?: unknown } | undefined)?.device_code;
      const code = typeof deviceCode === 'string' ? codesByDevice.get(deviceCode) : undefined;
      if (code && (code.state === 'pending' || code.state === 'approved')) code.state = 'expired';
      // Expire (like delay) then answers normally, so a further fault queued for this route still applies.
      fault = await faults.take(route);
    }
    if (fault) {
      answerFault(fault, req, res, record, 'cloudflare');
      return;
    }

    if (route === 'start' || route === 'poll') {
      const retryAfter = rateLimited(route, req.socket.remoteAddress ?? 'unknown');
      if (retryAfter !== undefined) {
        sendJson(res, record, 429, { error: 'rate_limited' }, { 'retry-after': String(retryAfter) });
        return;
      }
    }

    switch (route) {
      case 'start':
        return handleStart(res, record, raw);
      case 'poll':
        return handlePoll(res, record, raw);
      case 'models':
        return handleModels(req, res, record);
      case 'verify':
        return method === 'GET'
          ? handleVerifyPage(res, record, searchParams.get('code'))
          : handleVerifyDecision(res, record, raw);
      case 'other':
        sendJson(res, record, 404, { error: 'not_found' });
        return;
      default:
        return oauth.handle(route, { method, params: searchParams, raw, body: record.body, record }, res);
    }
  }

  function handleStart(res: ServerResponse, record: RecordedRequest, raw: string): void {
    // The body is optional (client_name is the only field); when sent it must be a JSON object.
    const body = raw.trim() === '' ? {} : parseJson(raw);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      sendJson(res, record, 400, {
        error: 'invalid_request',
        message: 'Request body must be a JSON object.',
      });
      return;
    }
    const clientNameField = (body as { client_name?: unknown }).client_name;
    if (clientNameField !== undefined && clientNameField !== null && typeof clientNameField !== 'string') {
      sendJson(res, record, 400, { error: 'invalid_request', message: 'client_name must be a string.' });
      return;
    }
    if (typeof clientNameField === 'string' && clientNameField.length > MAX_CLIENT_NAME) {
      sendJson(res, record, 400, {
        error: 'invalid_request',
        message: `client_name must be at most ${MAX_CLIENT_NAME} characters.`,
      });
      return;
    }
    const clientName =
      typeof clientNameField === 'string' && clientNameField !== '' ? clientNameField : DEFAULT_CLIENT_NAME;
    const code: LoginCode = {
      deviceCode: randomBytes(32).toString('base64url'),
      userCode: newUserCode(),
      clientName,
      expiresAt: clock.now() + expiresIn * 1000,
      state: 'pending',
      polls: 0,
    };
    codesByDevice.set(code.deviceCode, code);
    codesByUser.set(code.userCode, code);
    deviceCodes.push(code.deviceCode);
    userCodes.push(code.userCode);
    const verificationUri = options.verificationUri ?? `${url}/cli-login/verify`;
    const verificationUriComplete = `${verificationUri}?code=${encodeURIComponent(code.userCode)}`;
    emit({ type: 'code-issued', userCode: code.userCode, clientName, verificationUriComplete });
    sendJson(res, record, 200, {
      device_code: code.deviceCode,
      user_code: code.userCode,
      verification_uri: verificationUri,
      verification_uri_complete: verificationUriComplete,
      expires_in: expiresIn,
      interval,
    });
  }

  function handlePoll(res: ServerResponse, record: RecordedRequest, raw: string): void {
    const body = parseJson(raw);
    const deviceCode = (body as { device_code?: unknown } | undefined)?.device_code;
    if (typeof body !== 'object' || body === null || typeof deviceCode !== 'string') {
      // Not documented; a missing field is a malformed request rather than an unknown code.
      sendJson(res, record, 400, { error: 'invalid_request', message: 'device_code is required.' });
      return;
    }
    const code = codesByDevice.get(deviceCode);
    if (!code) {
      sendJson(res, record, 404, { error: 'invalid_code' });
      return;
    }
    refresh(code);
    if (
      code.state === 'pending' &&
      options.autoApproveAfterPolls !== undefined &&
      code.polls >= options.autoApproveAfterPolls
    ) {
      decide(code.userCode, 'approve');
    }
    code.polls += 1;
    switch (code.state) {
      case 'pending':
        sendJson(res, record, 202, { status: 'authorization_pending' });
        return;
      case 'approved':
        code.state = 'consumed';
        emit({ type: 'key-delivered', key: code.key!, userCode: code.userCode });
        sendJson(res, record, 200, { status: 'approved', key: code.key });
        return;
      case 'consumed':
        sendJson(res, record, 409, { status: 'consumed' });
        return;
      // NanoGPT's docs name no status for a denied code. The documented 410 "expired" ("restart the flow")
      // is the closest, and it is what a client can already handle, so a denial answers that.
      case 'denied':
      case 'expired':
        sendJson(res, record, 410, { status: 'expired' });
        return;
    }
  }

  function handleModels(req: IncomingMessage, res: ServerResponse, record: RecordedRequest): void {
    const authorization = req.headers.authorization;
    const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
    const apiKeyHeader = req.headers['x-api-key'];
    const key = bearer ?? (typeof apiKeyHeader === 'string' ? apiKeyHeader.trim() : undefined);
    if (key === undefined || key === '' || !validKeys.has(key)) {
      sendJson(
        res,
        record,
        401,
        { error: 'unauthorized', message: key ? 'Invalid or revoked API key.' : 'Missing API key.' },
        { 'www-authenticate': oauth.challenge() },
      );
      return;
    }
    sendJson(res, record, 200, {
      object: 'list',
      data: MODELS.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'nano-gpt' })),
    });
  }

  function handleVerifyPage(
    res: ServerResponse,
    record: RecordedRequest,
    userCodeParam: string | null,
  ): void {
    if (userCodeParam === null || userCodeParam.trim() === '') {
      sendHtml(
        res,
        record,
        200,
        page(
          'Connect a CLI',
          `<form method="get" action="/cli-login/verify">
  <label for="code">Enter the code shown in your terminal</label>
  <input id="code" name="code" autocomplete="off" autofocus>
  <button type="submit">Continue</button>
</form>`,
        ),
      );
      return;
    }
    const code = codesByUser.get(normaliseUserCode(userCodeParam));
    if (!code) {
      sendHtml(
        res,
        record,
        404,
        page('Code not found', '<p>This code is not valid. Check the code in your terminal.</p>'),
      );
      return;
    }
    const state = refresh(code).state;
    if (state !== 'pending') {
      const [status, text] =
        state === 'approved' || state === 'consumed'
          ? ([200, 'This code was already approved. You can close this window.'] as const)
          : ([410, 'This code has expired or was denied. Start the login again in your terminal.'] as const);
      sendHtml(res, record, status, page('Connect a CLI', `<p>${text}</p>`));
      return;
    }
    const shown = escapeHtml(code.userCode);
    sendHtml(
      res,
      record,
      200,
      page(
        'Connect a CLI',
        `<p><strong>${escapeHtml(code.clientName)}</strong> wants to access your NanoGPT account.</p>
<p>Check that this code matches the one in your terminal:</p>
<p class="code" data-user-code="${shown}">${shown}</p>
<form method="post" action="/cli-login/verify">
  <input type="hidden" name="code" value="${shown}">
  <button type="submit" name="decision" value="approve">Approve</button>
  <button type="submit" name="decision" value="deny">Deny</button>
</form>`,
      ),
    );
  }

  function handleVerifyDecision(res: ServerResponse, record: RecordedRequest, raw: string): void {
    const form = new URLSearchParams(raw);
    const userCode = form.get('code') ?? '';
    const decision = form.get('decision');
    if (decision !== 'approve' && decision !== 'deny') {
      sendHtml(res, record, 400, page('Bad request', '<p>Choose Approve or Deny.</p>'));
      return;
    }
    const result = decide(userCode, decision);
    switch (result) {
      case 'ok':
        sendHtml(
          res,
          record,
          200,
          decision === 'approve'
            ? page('Approved', '<p>Approved. You can close this window and return to your terminal.</p>')
            : page('Denied', '<p>Denied. The CLI was not given access. You can close this window.</p>'),
        );
        return;
      case 'unknown':
        sendHtml(
          res,
          record,
          404,
          page('Code not found', '<p>This code is not valid. Check the code in your terminal.</p>'),
        );
        return;
      default:
        sendHtml(
          res,
          record,
          410,
          page(
            'Code no longer valid',
            `<p>This code can no longer be used (${result}). Start the login again in your terminal.</p>`,
          ),
        );
    }
  }

  const server = await startEmulatorServer({
    port: options.port,
    handle,
    internalError: (res, error) =>
      sendJson(res, undefined, 500, { error: 'internal_error', message: String(error) }),
    onClose: faults.cancelDelays,
  });
  url = server.url;

  return {
    url,
    requests,
    faults: { add: faults.add, clear: faults.clear },
    approve: (userCode) => decideOrThrow(userCode, 'approve'),
    deny: (userCode) => decideOrThrow(userCode, 'deny'),
    issuedKeys: () => issued.map((entry) => entry.key),
    issuedKeyDetails: () => issued.map((entry) => ({ ...entry, revoked: !validKeys.has(entry.key) })),
    deviceCodes: () => [...deviceCodes],
    userCodes: () => [...userCodes],
    revokeKey(key: string) {
      validKeys.delete(key);
    },
    oauthClients: () => [...oauth.clients.values()],
    close: server.close,
  };
}

function routeOf(method: string, pathname: string): NanoGptRoute {
  if (method === 'POST' && pathname === '/api/cli-login/start') return 'start';
  if (method === 'POST' && pathname === '/api/cli-login/poll') return 'poll';
  if (method === 'GET' && pathname === '/api/v1/models') return 'models';
  if ((method === 'GET' || method === 'POST') && pathname === '/cli-login/verify') return 'verify';
  return 'other';
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (raw === '') return undefined;
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw));
  }
  return parseJson(raw) ?? raw;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)} - NanoGPT (emulator)</title></head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}
