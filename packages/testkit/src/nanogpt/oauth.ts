/**
 * NanoGPT's browser sign-in as published (PROVIDERS.md, "NanoGPT — browser sign-in with PKCE"), for the
 * emulator: RFC 8414 and RFC 9728 metadata, RFC 7591 registration of public clients, the standard
 * authorization code flow with PKCE S256 (an approval page with Approve and Deny) and the shorter "key
 * handoff" variant (`/auth?callback_url=...`, then `POST /api/v1/auth/keys`). Both end in the same kind of
 * credential as the device login: an `sk-nano-` key named `CLI (<client name>)`. Redirects go only to
 * loopback addresses (any port, RFC 8252 section 7.3); a code is single-use and lives 60 seconds.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export type OAuthRoute =
  | 'oauth-metadata'
  | 'resource-metadata'
  | 'register'
  | 'authorize'
  | 'oauth-token'
  | 'handoff'
  | 'handoff-keys';

export interface OAuthClientRecord {
  clientId: string;
  clientName: string;
  redirectUris: string[];
}

interface Pending {
  id: string;
  /** Where the code goes: the redirect URI or the handoff's callback_url. */
  redirect: string;
  state?: string;
  challenge: string;
  scope: string;
  clientName: string;
  clientId?: string;
  kind: 'standard' | 'handoff';
}

interface IssuedCode {
  pending: Pending;
  expiresAt: number;
  used: boolean;
}

export interface OAuthEmulatorHooks {
  url(): string;
  now(): number;
  /** The key for a client name (created, or the existing one reused), as an approval of the device flow. */
  keyFor(clientName: string): string;
  send(
    record: Answered,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers?: Record<string, string>,
  ): void;
  html(record: Answered, res: ServerResponse, status: number, html: string): void;
  redirect(record: Answered, res: ServerResponse, location: string): void;
  page(title: string, body: string): string;
}

/** The request log entry the answer's status is noted on. */
type Answered = { status: number };

const codeTtlMs = 60_000;
const scopesSupported = ['models.read', 'api.use'];

/** A loopback http:// address with a path (`http://127.0.0.1:PORT/callback`), or undefined. */
function loopback(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' &&
      (url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost')
      ? url
      : undefined;
  } catch {
    return undefined;
  }
}

/** A registered redirect URI matches with any port (RFC 8252 section 7.3). */
function matches(registered: string[], given: URL): boolean {
  const withoutPort = (u: URL) => `${u.protocol}//${u.hostname}${u.pathname}`;
  return registered.some((r) => {
    const url = loopback(r);
    return url !== undefined && withoutPort(url) === withoutPort(given);
  });
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function createNanoGptOAuth(hooks: OAuthEmulatorHooks) {
  const clients = new Map<string, OAuthClientRecord>();
  const pending = new Map<string, Pending>();
  const codes = new Map<string, IssuedCode>();
  const issuer = () => hooks.url();

  function metadata() {
    const base = issuer();
    return {
      issuer: base,
      authorization_endpoint: `${base}/oauth/authorize`,
      token_endpoint: `${base}/oauth/token`,
      registration_endpoint: `${base}/oauth/register`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: scopesSupported,
    };
  }

  function approvalPage(record: Answered, res: ServerResponse, request: Pending): void {
    pending.set(request.id, request);
    const action = request.kind === 'handoff' ? '/auth' : '/oauth/authorize';
    hooks.html(
      record,
      res,
      200,
      hooks.page(
        'Connect an app',
        `<p><strong>${escapeHtml(request.clientName)}</strong> wants an API key for your NanoGPT account (${escapeHtml(request.scope)}).</p>
<form method="post" action="${action}">
  <input type="hidden" name="request" value="${escapeHtml(request.id)}">
  <button type="submit" id="approve" name="decision" value="approve">Approve</button>
  <button type="submit" id="deny" name="decision" value="deny">Deny</button>
</form>`,
      ),
    );
  }

  function decision(record: Answered, res: ServerResponse, raw: string): void {
    const form = new URLSearchParams(raw);
    const request = pending.get(form.get('request') ?? '');
    const choice = form.get('decision');
    if (!request || (choice !== 'approve' && choice !== 'deny')) {
      hooks.html(record, res, 400, hooks.page('Bad request', '<p>This request is no longer valid.</p>'));
      return;
    }
    pending.delete(request.id);
    const target = new URL(request.redirect);
    if (choice === 'deny') {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'The user denied the request');
    } else {
      const code = randomBytes(24).toString('base64url');
      codes.set(code, { pending: request, expiresAt: hooks.now() + codeTtlMs, used: false });
      target.searchParams.set('code', code);
    }
    if (request.state !== undefined) target.searchParams.set('state', request.state);
    hooks.redirect(record, res, target.href);
  }

  /** The code for a verifier: checks it exists, is fresh and unused, and that the verifier matches. */
  function redeem(code: unknown, verifier: unknown, kind: Pending['kind']): IssuedCode | string {
    const issued = typeof code === 'string' ? codes.get(code) : undefined;
    if (!issued || issued.pending.kind !== kind) return 'unknown authorization code';
    if (issued.used) return 'authorization code already used';
    if (hooks.now() >= issued.expiresAt) return 'authorization code expired';
    if (typeof verifier !== 'string' || s256(verifier) !== issued.pending.challenge)
      return 'code_verifier does not match';
    issued.used = true;
    return issued;
  }

  return {
    clients,
    route(method: string, pathname: string): OAuthRoute | undefined {
      if (method === 'GET' && pathname === '/.well-known/oauth-authorization-server') return 'oauth-metadata';
      if (method === 'GET' && pathname.startsWith('/.well-known/oauth-protected-resource'))
        return 'resource-metadata';
      if (method === 'POST' && pathname === '/oauth/register') return 'register';
      if ((method === 'GET' || method === 'POST') && pathname === '/oauth/authorize') return 'authorize';
      if (method === 'POST' && pathname === '/oauth/token') return 'oauth-token';
      if ((method === 'GET' || method === 'POST') && pathname === '/auth') return 'handoff';
      if (method === 'POST' && pathname === '/api/v1/auth/keys') return 'handoff-keys';
      return undefined;
    },

    /** The 401 hint of the API (RFC 9728 section 5.1). */
    challenge(): string {
      return `Bearer resource_metadata="${issuer()}/.well-known/oauth-protected-resource/api/v1"`;
    },

    handle(
      route: OAuthRoute,
      request: { method: string; params: URLSearchParams; raw: string; body: unknown; record: Answered },
      res: ServerResponse,
    ): void {
      const { method, params, raw, body, record } = request;
      switch (route) {
        case 'oauth-metadata':
          return hooks.send(record, res, 200, metadata());
        case 'resource-metadata':
          return hooks.send(record, res, 200, {
            resource: `${issuer()}/api/v1`,
            authorization_servers: [issuer()],
            scopes_supported: scopesSupported,
            bearer_methods_supported: ['header'],
          });
        case 'register': {
          const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
          const uris = Array.isArray(fields.redirect_uris) ? fields.redirect_uris : [];
          if (uris.length === 0 || !uris.every((u) => loopback(u) !== undefined)) {
            return hooks.send(record, res, 400, {
              error: 'invalid_redirect_uri',
              error_description: 'redirect_uris must be loopback http:// addresses',
            });
          }
          if (
            fields.token_endpoint_auth_method !== undefined &&
            fields.token_endpoint_auth_method !== 'none'
          ) {
            return hooks.send(record, res, 400, {
              error: 'invalid_client_metadata',
              error_description: 'only public clients (token_endpoint_auth_method none) are supported',
            });
          }
          const clientName =
            typeof fields.client_name === 'string' && fields.client_name !== ''
              ? fields.client_name.slice(0, 64)
              : 'OAuth app';
          const client: OAuthClientRecord = {
            clientId: `nanogpt-${randomUUID()}`,
            clientName,
            redirectUris: uris as string[],
          };
          clients.set(client.clientId, client);
          return hooks.send(record, res, 201, {
            client_id: client.clientId,
            client_id_issued_at: Math.floor(hooks.now() / 1000),
            client_name: clientName,
            redirect_uris: client.redirectUris,
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none',
          });
        }
        case 'authorize': {
          if (method === 'POST') return decision(record, res, raw);
          const client = clients.get(params.get('client_id') ?? '');
          const redirect = loopback(params.get('redirect_uri'));
          // Without a known client and a registered redirect there is nowhere safe to send an error.
          if (!client || !redirect || !matches(client.redirectUris, redirect)) {
            return hooks.html(
              record,
              res,
              400,
              hooks.page('Bad request', '<p>Unknown client or redirect_uri.</p>'),
            );
          }
          const problem =
            params.get('response_type') !== 'code'
              ? 'unsupported_response_type'
              : params.get('code_challenge_method') !== 'S256' || !params.get('code_challenge')
                ? 'invalid_request'
                : undefined;
          if (problem !== undefined) {
            const target = new URL(redirect);
            target.searchParams.set('error', problem);
            target.searchParams.set(
              'error_description',
              'PKCE with S256 and response_type=code are required',
            );
            const state = params.get('state');
            if (state !== null) target.searchParams.set('state', state);
            return hooks.redirect(record, res, target.href);
          }
          return approvalPage(record, res, {
            id: randomUUID(),
            redirect: redirect.href,
            ...(params.get('state') !== null && { state: params.get('state')! }),
            challenge: params.get('code_challenge')!,
            scope: params.get('scope') ?? scopesSupported.join(' '),
            clientName: client.clientName,
            clientId: client.clientId,
            kind: 'standard',
          });
        }
        case 'oauth-token': {
          const form = new URLSearchParams(raw);
          if (form.get('grant_type') !== 'authorization_code') {
            return hooks.send(record, res, 400, { error: 'unsupported_grant_type' });
          }
          const redeemed = redeem(form.get('code'), form.get('code_verifier'), 'standard');
          if (typeof redeemed === 'string')
            return hooks.send(record, res, 400, { error: 'invalid_grant', error_description: redeemed });
          const { pending: request } = redeemed;
          if (form.get('client_id') !== request.clientId || form.get('redirect_uri') !== request.redirect) {
            return hooks.send(record, res, 400, {
              error: 'invalid_grant',
              error_description: 'client_id or redirect_uri does not match',
            });
          }
          const key = hooks.keyFor(request.clientName);
          return hooks.send(
            record,
            res,
            200,
            { access_token: key, token_type: 'Bearer', scope: request.scope },
            { 'cache-control': 'no-store' },
          );
        }
        case 'handoff': {
          if (method === 'POST') return decision(record, res, raw);
          const callback = loopback(params.get('callback_url'));
          if (!callback || params.get('code_challenge_method') !== 'S256' || !params.get('code_challenge')) {
            return hooks.html(
              record,
              res,
              400,
              hooks.page(
                'Bad request',
                '<p>A loopback callback_url and an S256 code_challenge are required.</p>',
              ),
            );
          }
          return approvalPage(record, res, {
            id: randomUUID(),
            redirect: callback.href,
            ...(params.get('state') !== null && { state: params.get('state')! }),
            challenge: params.get('code_challenge')!,
            scope: params.get('scope') ?? scopesSupported.join(' '),
            clientName: 'key handoff',
            kind: 'handoff',
          });
        }
        case 'handoff-keys': {
          const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
          if (fields.grant_type !== 'authorization_code')
            return hooks.send(record, res, 400, { error: 'unsupported_grant_type' });
          const redeemed = redeem(fields.code, fields.code_verifier, 'handoff');
          if (typeof redeemed === 'string')
            return hooks.send(record, res, 400, { error: 'invalid_grant', error_description: redeemed });
          const key = hooks.keyFor(redeemed.pending.clientName);
          return hooks.send(record, res, 200, {
            key,
            access_token: key,
            token_type: 'Bearer',
            scope: redeemed.pending.scope,
            user_id: 'user-emulated',
          });
        }
      }
    },
  };
}
