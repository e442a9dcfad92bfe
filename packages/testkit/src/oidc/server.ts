/**
 * A REAL OpenID Connect / OAuth 2.0 server for tests: panva's `oidc-provider` (a certified OpenID Provider)
 * run in-process on 127.0.0.1 and a random port, with the device authorization grant (RFC 8628), refresh
 * tokens (RFC 6749 section 6, rotated for public clients), token revocation (RFC 7009), userinfo and
 * introspection. Nothing here imitates the protocol: every token, error and metadata document comes from
 * oidc-provider itself. This module adds only what a deployment adds around it:
 *
 * - an in-memory storage adapter (one per server, so two servers in one process share nothing),
 * - a signing key generated at start, cookie keys, and plain pages for the user-code form,
 * - the interaction step (login, then consent granting every scope asked for) that a real deployment renders
 *   as its login screen, answered without a browser by `approve()`/`deny()`, which walk the user-code page
 *   over real HTTP with a cookie jar exactly as a browser would,
 * - RFC 8414 metadata at `/.well-known/oauth-authorization-server` (oidc-provider serves only the OIDC
 *   document), when asked for, so a client's discovery order can be tested,
 * - a request log of what the server received at its device authorization, token, revocation, userinfo and
 *   introspection endpoints (the body as the server parsed it), and injected failures for those endpoints.
 *
 * This module is a separate entry point (`@latchkey/testkit/oidc`); the main entry re-exports
 * `startOidcServer` as a lazy wrapper so that its users do not load oidc-provider.
 */
import { generateKeyPair, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import Provider, { errors, type Adapter, type AdapterPayload, type Configuration } from 'oidc-provider';
import { startEmulatorServer } from '@latchkey/conformance/tools';

import {
  OIDC_CONFIDENTIAL_CLIENT_ID,
  OIDC_CONFIDENTIAL_CLIENT_SECRET,
  OIDC_DEFAULT_ACCOUNT,
  OIDC_PUBLIC_CLIENT_ID,
} from './constants.js';

export {
  OIDC_CONFIDENTIAL_CLIENT_ID,
  OIDC_CONFIDENTIAL_CLIENT_SECRET,
  OIDC_DEFAULT_ACCOUNT,
  OIDC_PUBLIC_CLIENT_ID,
};

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const DEFAULT_GRANTS = [DEVICE_CODE_GRANT, 'authorization_code', 'refresh_token'];
/** A native client's redirect URI: any port on 127.0.0.1 matches it (RFC 8252 section 7.3). */
const LOOPBACK_REDIRECT = 'http://127.0.0.1/callback';

export interface OidcClientSpec {
  clientId: string;
  /** Present for a confidential client; absent for a public one (`token_endpoint_auth_method: none`). */
  clientSecret?: string;
  /** For a confidential client; default `client_secret_basic`. */
  authMethod?: 'client_secret_basic' | 'client_secret_post';
  /**
   * Default device_code, authorization_code and refresh_token. Without refresh_token no refresh token is
   * ever issued. With authorization_code the client is a native app whose redirect URI is
   * `http://127.0.0.1/callback` on any port (RFC 8252 section 7.3).
   */
  grantTypes?: string[];
  clientName?: string;
  /**
   * The scopes this client may ask for (oidc-provider's client `scope`), space-separated; others it asks for
   * are answered `invalid_scope`. Default: any the server supports.
   */
  scope?: string;
}

export interface OidcAccount {
  name?: string;
  email?: string;
  preferred_username?: string;
}

export interface OidcServerOptions {
  /** TCP port on 127.0.0.1; default 0 (a free port chosen by the OS). */
  port?: number;
  /** Seconds an access token lives; default 3, so refresh happens within a test. */
  accessTokenTtl?: number;
  /** Seconds a refresh token lives; default 3600. */
  refreshTokenTtl?: number;
  /** Seconds a device code lives (the `expires_in` of the device authorization answer); default 600. */
  deviceCodeTtl?: number;
  /** Default: the public `latchkey-cli` and the confidential `latchkey-confidential`. */
  clients?: OidcClientSpec[];
  /** Accounts `approve()` may sign in, by id (the `sub`); default `alice` (Alice Example). */
  accounts?: Record<string, OidcAccount>;
  /**
   * A path for the issuer (`/realms/test` gives issuer `http://127.0.0.1:PORT/realms/test`, as Keycloak has);
   * default none.
   */
  issuerPath?: string;
  /**
   * Which metadata documents are served: `oidc` (`<issuer>/.well-known/openid-configuration`, what
   * oidc-provider serves; the default), `rfc8414` (only `/.well-known/oauth-authorization-server<path>`, the
   * well-known segment inserted before the issuer's path as RFC 8414 section 3 says) or `both`.
   */
  metadata?: 'oidc' | 'rfc8414' | 'both';
  /**
   * Serve the OpenID Connect document ONLY at this path (e.g. `/api/oidc/.well-known/openid-configuration`,
   * naming the issuer as usual), as servers whose metadata lives under a sub-path of its own do; the
   * well-known addresses then answer 404 whatever `metadata` says.
   */
  metadataAt?: string;
  /**
   * The `interval` (seconds) the device authorization answer names (RFC 8628 section 3.2), as servers that
   * want faster or slower polling send it; default none, as oidc-provider answers (clients then poll every
   * 5 s).
   */
  pollInterval?: number;
  /** Open dynamic client registration (RFC 7591) at `/reg`; default true. */
  registration?: boolean;
  /**
   * The scopes the server supports (and lists in `scopes_supported`); default `openid`, `offline_access`,
   * `profile`, `email`. Without `offline_access` no refresh token is issued (and the default grant types
   * leave refresh_token out).
   */
  scopes?: string[];
}

/** The endpoints whose requests are recorded. */
export type OidcEndpoint =
  | 'authorization'
  | 'registration'
  | 'device_authorization'
  | 'token'
  | 'revocation'
  | 'userinfo'
  | 'introspection'
  /** Any GET under a `/.well-known/` path (served, or answered 404). */
  | 'metadata';

export interface OidcRecordedRequest {
  /** `Date.now()` when the request arrived. */
  at: number;
  endpoint: OidcEndpoint;
  method: string;
  /** The path only (no query). */
  path: string;
  /** The query's parameters (the authorization request's, say). */
  query: Record<string, string>;
  /** The request's `content-type` header, as sent ('' when none). */
  contentType: string;
  /** The request body's bytes as they arrived (UTF-8), '' for none. */
  rawBody: string;
  /** The body as oidc-provider parsed it (form fields; every value a string); {} for none or unparsed. */
  body: Record<string, string>;
  /** The `Authorization` header's scheme, lower-case (`basic`, `bearer`), when one was sent. */
  authScheme?: string;
  /** The client id and secret of an HTTP Basic `Authorization` header, decoded. */
  basic?: { clientId: string; clientSecret: string };
  /** The status answered (0 while unanswered). */
  status: number;
  /** The `error` field of an error answer (`invalid_grant`, `authorization_pending`, ...). */
  error?: string;
  /** The JSON body answered (tokens included: this is a test server), when it was an object. */
  answer?: Record<string, unknown>;
  /** Set when the answer was held back this long after oidc-provider had made it (see `slowNext`). */
  delayedMs?: number;
  /** True when the answer was an injected failure (see `failNext`) rather than oidc-provider's. */
  injected?: boolean;
}

export interface OidcServer {
  /** `http://127.0.0.1:PORT` plus `issuerPath`, no trailing slash. */
  readonly issuer: string;
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** The endpoints, as the metadata lists them. */
  readonly endpoints: {
    authorization: string;
    registration: string;
    deviceAuthorization: string;
    token: string;
    revocation: string;
    userinfo: string;
    introspection: string;
    /** The page the user enters the code on (`verification_uri`). */
    verification: string;
  };
  /** What the server received at the recorded endpoints, in arrival order (the helpers send nothing there). */
  readonly requests: OidcRecordedRequest[];
  /** The recorded requests of one endpoint; for the token endpoint optionally one `grant_type`. */
  requestsTo(endpoint: OidcEndpoint, grantType?: string): OidcRecordedRequest[];
  /**
   * Every secret the server handed out so far (access, refresh and ID tokens, device codes), for a leak
   * check.
   */
  issuedSecrets(): string[];
  /**
   * What the user does in a browser: opens the verification page, enters `userCode`, confirms, signs in as
   * `account` (default `alice`) and consents to every scope asked for. Throws with the server's answer when
   * a step fails.
   */
  approve(userCode: string, account?: string): Promise<void>;
  /** The user enters `userCode` and presses Abort: the device code is then answered `access_denied`. */
  deny(userCode: string): Promise<void>;
  /**
   * Whether the server still accepts `token` (an access or refresh token it issued): found, not expired,
   * not consumed (a rotated refresh token is consumed).
   */
  isActive(token: string): Promise<boolean>;
  /** Revokes every refresh token server-side (as an administrator ending all sessions would). */
  revokeRefreshTokens(): number;
  /**
   * Answers the next `times` (default 1) requests to `endpoint` with `status` and an OAuth error body
   * (`error` default `server_error`) instead of letting oidc-provider answer; the request is still recorded.
   * With `body`, that text is the whole answer instead (`''`: an empty body, no content type), as servers
   * that say nothing but a status do.
   */
  failNext(
    endpoint: OidcEndpoint,
    fault: { status: number; error?: string; times?: number; body?: string },
  ): void;
  /**
   * Holds back the answers to the next `times` (default 1) requests to `endpoint` for `ms` AFTER
   * oidc-provider has done the work (issued or rotated the tokens), as a slow server or network would.
   */
  slowNext(endpoint: Exclude<OidcEndpoint, 'metadata'>, slow: { ms: number; times?: number }): void;
  /**
   * The next `times` (default 1) token answers that grant an access token say `expires_in: value` (0, -5,
   * 1e20, a string...) instead of the real lifetime; the tokens themselves are issued as usual.
   */
  expiresInNext(value: unknown, times?: number): void;
  close(): Promise<void>;
}

const DEFAULT_ACCOUNTS: Record<string, OidcAccount> = {
  [OIDC_DEFAULT_ACCOUNT]: {
    name: 'Alice Example',
    email: 'alice@example.test',
    preferred_username: 'alice',
  },
};

/** Starts oidc-provider on 127.0.0.1 and a random port. */
export async function startOidcServer(options: OidcServerOptions = {}): Promise<OidcServer> {
  const accessTokenTtl = options.accessTokenTtl ?? 3;
  const refreshTokenTtl = options.refreshTokenTtl ?? 3600;
  const deviceCodeTtl = options.deviceCodeTtl ?? 600;
  const accounts = options.accounts ?? DEFAULT_ACCOUNTS;
  const metadata = options.metadata ?? 'oidc';
  const issuerPath = normalizePath(options.issuerPath ?? '');
  const clientSpecs = options.clients ?? [
    { clientId: OIDC_PUBLIC_CLIENT_ID, clientName: 'latchkey' },
    {
      clientId: OIDC_CONFIDENTIAL_CLIENT_ID,
      clientSecret: OIDC_CONFIDENTIAL_CLIENT_SECRET,
      clientName: 'latchkey (confidential)',
    },
  ];

  const requests: OidcRecordedRequest[] = [];
  const faults = new Map<
    OidcEndpoint,
    { status: number; error: string; left: number; body: string | undefined }
  >();
  const slows = new Map<OidcEndpoint, { ms: number; left: number }>();
  const expiresIn: { value: unknown; left: number } = { value: undefined, left: 0 };
  const store = new Map<string, { payload: AdapterPayload; expiresAt?: number }>();
  const routes: Record<Exclude<OidcEndpoint, 'metadata'>, string> = {
    authorization: '/auth',
    registration: '/reg',
    device_authorization: '/device/auth',
    token: '/token',
    revocation: '/token/revocation',
    userinfo: '/me',
    introspection: '/token/introspection',
  };
  const routeOf = new Map<string, OidcEndpoint>(
    Object.entries(routes).map(([endpoint, path]) => [path, endpoint as OidcEndpoint]),
  );
  const endpointOf = new Map<string, OidcEndpoint>(
    Object.entries(routes).map(([endpoint, path]) => [`${issuerPath}${path}`, endpoint as OidcEndpoint]),
  );

  // The provider needs its issuer (the URL) before it can answer: the handler is set once listening.
  const state: { provider?: Provider; handler?: (req: IncomingMessage, res: ServerResponse) => void } = {};

  const server = await startEmulatorServer({
    port: options.port,
    handle: (req, res) => serve(req, res),
    internalError: (res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error');
    },
  });
  const issuer = `${server.url}${issuerPath}`;

  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const signingKey = {
    ...privateKey.export({ format: 'jwk' }),
    kid: 'testkit-rs256',
    use: 'sig',
    alg: 'RS256',
  };

  const scopes = options.scopes ?? ['openid', 'offline_access', 'profile', 'email'];
  // Without offline_access the server issues no refresh token, and oidc-provider refuses clients asking for one.
  const defaultGrants = scopes.includes('offline_access')
    ? DEFAULT_GRANTS
    : DEFAULT_GRANTS.filter((g) => g !== 'refresh_token');
  const configuration: Configuration = {
    adapter: (name: string) => memoryAdapter(store, name),
    clients: clientSpecs.map((spec) => ({
      client_id: spec.clientId,
      ...(spec.clientName ? { client_name: spec.clientName } : {}),
      ...(spec.scope !== undefined ? { scope: spec.scope } : {}),
      ...(spec.clientSecret
        ? {
            client_secret: spec.clientSecret,
            token_endpoint_auth_method: spec.authMethod ?? 'client_secret_basic',
          }
        : { token_endpoint_auth_method: 'none' }),
      ...((spec.grantTypes ?? defaultGrants).includes('authorization_code')
        ? {
            grant_types: spec.grantTypes ?? defaultGrants,
            response_types: ['code'],
            redirect_uris: [LOOPBACK_REDIRECT],
            application_type: 'native',
          }
        : { grant_types: spec.grantTypes, response_types: [], redirect_uris: [] }),
    })) as never,
    jwks: { keys: [signingKey as never] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes,
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
    },
    // PKCE for every authorization request, S256 only (oidc-provider's default methods).
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: options.registration ?? true },
      // RFC 8707: an API on this machine (a test's resource server) may be asked for by its URL; its
      // access tokens are opaque and bound to it (oidc-provider then refuses them at userinfo).
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined as unknown as string,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (!resourceIndicator.startsWith('http://127.0.0.1:')) throw new errors.InvalidTarget();
          return { scope: 'api', audience: resourceIndicator, accessTokenFormat: 'opaque' };
        },
      },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: (ctx, form, _out, err) => {
          ctx.body = page('Sign-in', `${err ? `<p>Error: ${escapeHtml(err.name)}</p>` : ''}${form}`);
        },
        userCodeConfirmSource: (ctx, form, _client, _info, userCode) => {
          ctx.body = page('Confirm device', `<p>Code <code>${escapeHtml(userCode)}</code></p>${form}`);
        },
        successSource: (ctx) => {
          ctx.body = page('Sign-in Success', '<p>Signed in. You may close this page.</p>');
        },
      },
      revocation: {
        enabled: true,
        // oidc-provider's default, without its "you should change this" notice: a client revokes its own.
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
    },
    interactions: {
      url: (_ctx, interaction) => `${issuerPath}/interaction/${interaction.uid}`,
    },
    findAccount: (_ctx, id) => {
      const account = accounts[id];
      if (!account) return undefined;
      return { accountId: id, claims: () => ({ sub: id, ...account }) };
    },
    clientBasedCORS: () => false,
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Error', `<pre>${escapeHtml(JSON.stringify(out))}</pre>`);
    },
    ttl: {
      AccessToken: accessTokenTtl,
      DeviceCode: deviceCodeTtl,
      RefreshToken: refreshTokenTtl,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
  };

  const provider = new Provider(issuer, configuration);
  // oidc-provider trusts X-Forwarded-* only when told to; it is not behind a proxy here.
  provider.proxy = false;

  // Record what the endpoints received, after oidc-provider has parsed the body and answered.
  provider.use(async (ctx, next) => {
    // oidc-provider sees paths without the mount point (the issuer's path).
    const mounted = routeOf.get(ctx.path);
    if (!mounted) {
      await next();
      return;
    }
    const record = newRecord(mounted, ctx.req);
    requests.push(record);
    try {
      await next();
      // A server announcing another lifetime than the token's real one (`expiresInNext`).
      const answered = ctx.body as Record<string, unknown> | undefined;
      if (
        mounted === 'device_authorization' &&
        options.pollInterval !== undefined &&
        typeof answered?.device_code === 'string'
      ) {
        ctx.body = { ...answered, interval: options.pollInterval };
      }
      if (mounted === 'token' && expiresIn.left > 0 && typeof answered?.access_token === 'string') {
        expiresIn.left -= 1;
        ctx.body = { ...answered, expires_in: expiresIn.value };
      }
    } finally {
      const body = (ctx as { oidc?: { body?: Record<string, unknown> } }).oidc?.body;
      record.body = stringFields(body);
      record.rawBody = Buffer.concat(rawBodies.get(ctx.req) ?? []).toString('utf8');
      record.status = ctx.status;
      const answer = ctx.body as { error?: unknown } | undefined;
      if (ctx.status >= 400 && answer && typeof answer.error === 'string') record.error = answer.error;
      if (answer && typeof answer === 'object' && !Array.isArray(answer) && !Buffer.isBuffer(answer)) {
        record.answer = { ...(answer as Record<string, unknown>) };
      }
    }
    // A slow answer: the work is done (tokens issued, a refresh token rotated), the answer comes late.
    const slow = slows.get(mounted);
    if (slow && slow.left > 0) {
      slow.left -= 1;
      record.delayedMs = slow.ms;
      await new Promise<void>((resolve) => setTimeout(resolve, slow.ms).unref());
    }
  });

  state.provider = provider;
  state.handler = provider.callback();

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    tapBody(req);
    const url = new URL(req.url ?? '/', server.url);
    const path = url.pathname;
    const internal = req.headers['x-testkit-internal'] === '1';
    if (path.includes('/.well-known/') && !internal) {
      const record = newRecord('metadata', req);
      requests.push(record);
      res.once('finish', () => {
        record.status = res.statusCode;
      });
    }

    if (options.metadataAt !== undefined && !internal) {
      if (path === options.metadataAt) {
        const answer = await fetch(`${issuer}/.well-known/openid-configuration`, {
          headers: { 'x-testkit-internal': '1' },
        });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(await answer.text());
        return;
      }
      if (path.includes('/.well-known/')) return notFound(res);
    }
    if (path === `/.well-known/oauth-authorization-server${issuerPath}`) {
      if (metadata === 'oidc') return notFound(res);
      const answer = await fetch(`${issuer}/.well-known/openid-configuration`, {
        headers: { 'x-testkit-internal': '1' },
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(await answer.text());
      return;
    }
    if (path === `${issuerPath}/.well-known/openid-configuration`) {
      if (metadata === 'rfc8414' && !internal) return notFound(res);
    }

    const endpoint = endpointOf.get(path);
    const fault = endpoint ? faults.get(endpoint) : undefined;
    if (endpoint && fault && fault.left > 0) {
      fault.left -= 1;
      const record = newRecord(endpoint, req);
      record.injected = true;
      record.status = fault.status;
      record.body = await readForm(req);
      record.rawBody = Buffer.concat(rawBodies.get(req) ?? []).toString('utf8');
      requests.push(record);
      if (fault.body !== undefined) {
        res.writeHead(fault.status, fault.body === '' ? {} : { 'content-type': 'text/plain' });
        res.end(fault.body);
        return;
      }
      record.error = fault.error;
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: fault.error, error_description: 'injected by the test' }));
      return;
    }

    if (path.startsWith(`${issuerPath}/interaction/`)) {
      await interaction(req, res, url);
      return;
    }
    if (issuerPath !== '' && !(path === issuerPath || path.startsWith(`${issuerPath}/`)))
      return notFound(res);
    // Mounted under a path (an issuer with a path): oidc-provider reads the mount point from `originalUrl`.
    if (issuerPath !== '') {
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url;
      req.url = (req.url ?? '/').slice(issuerPath.length) || '/';
    }
    state.handler?.(req, res);
    await new Promise<void>((resolve) => {
      if (res.writableFinished) resolve();
      else {
        res.once('close', () => resolve());
        res.once('finish', () => resolve());
      }
    });
  }

  /** The login and consent screens: sign in the account the driver names (or the default), grant all. */
  async function interaction(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      // A real browser (no `account` named by a test's HTTP driver): the sign-in page, with a Cancel.
      let chosen = url.searchParams.get('account');
      if (chosen === null && req.method === 'GET' && !url.pathname.endsWith('/abort')) {
        const action = `${issuerPath}/interaction/${details.uid}`;
        const buttons = Object.entries(accounts)
          .map(
            ([id, account]) =>
              `<form method="post" action="${action}"><input type="hidden" name="account" value="${escapeHtml(id)}"><button type="submit" id="sign-in-${escapeHtml(id)}">Sign in as ${escapeHtml(account.name ?? id)}</button></form>`,
          )
          .join('');
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(
          page(
            'Sign in',
            `<p>Client ${escapeHtml(String(details.params.client_id ?? ''))} asks to sign you in.</p>${buttons}<form method="post" action="${action}/abort"><button type="submit" id="cancel">Cancel</button></form>`,
          ),
        );
        return;
      }
      if (url.pathname.endsWith('/abort')) {
        await provider.interactionFinished(
          req,
          res,
          { error: 'access_denied', error_description: 'The user cancelled the sign-in' },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      if (chosen === null && req.method === 'POST') chosen = (await readForm(req)).account ?? null;
      const accountId = chosen ?? OIDC_DEFAULT_ACCOUNT;
      if (!accounts[accountId]) {
        await provider.interactionFinished(
          req,
          res,
          { error: 'access_denied', error_description: 'unknown account' },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    if (details.prompt.name === 'consent') {
      const accountId = details.session?.accountId;
      const clientId = String(details.params.client_id ?? '');
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId, clientId });
      if (!grant) throw new Error('oidc testkit: the interaction names a grant that does not exist');
      const promptDetails = details.prompt.details as {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      if (promptDetails.missingOIDCScope) grant.addOIDCScope(promptDetails.missingOIDCScope.join(' '));
      if (promptDetails.missingOIDCClaims) grant.addOIDCClaims(promptDetails.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(promptDetails.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
      return;
    }
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`unexpected prompt ${details.prompt.name}`);
  }

  /** A browser: a cookie jar and manual redirects, bounded. */
  function browser(account?: string) {
    const jar = new Map<string, string>();
    async function go(
      target: string,
      init: { method?: 'GET' | 'POST'; form?: Record<string, string> } = {},
    ): Promise<{ status: number; text: string; url: string }> {
      let current = new URL(target, server.url);
      let method = init.method ?? 'GET';
      let body = init.form ? new URLSearchParams(init.form).toString() : undefined;
      for (let hop = 0; hop < 20; hop += 1) {
        if (account !== undefined && current.pathname.startsWith(`${issuerPath}/interaction/`)) {
          current.searchParams.set('account', account);
        }
        const headers: Record<string, string> = {};
        if (jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
        if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
        const response = await fetch(current, { method, headers, body, redirect: 'manual' });
        for (const line of response.headers.getSetCookie()) {
          const [pair = '', ...attributes] = line.split(';');
          const eq = pair.indexOf('=');
          const name = pair.slice(0, eq).trim();
          const value = pair.slice(eq + 1).trim();
          const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
          if (expired) jar.delete(name);
          else jar.set(name, value);
        }
        const location = response.headers.get('location');
        if (response.status >= 300 && response.status < 400 && location) {
          await response.arrayBuffer();
          current = new URL(location, current);
          if (response.status !== 307 && response.status !== 308) {
            method = 'GET';
            body = undefined;
          }
          continue;
        }
        return { status: response.status, text: await response.text(), url: current.href };
      }
      throw new Error('oidc testkit: more than 20 redirects');
    }
    return go;
  }

  function xsrfOf(html: string): string {
    const match = /name="xsrf" value="([^"]+)"/.exec(html);
    if (!match?.[1]) throw new Error(`oidc testkit: no xsrf field on the page: ${html.slice(0, 300)}`);
    return match[1];
  }

  async function enterCode(userCode: string, account?: string) {
    const go = browser(account);
    const verification = `${issuer}/device`;
    const form = await go(verification);
    if (form.status !== 200) throw new Error(`oidc testkit: GET /device answered ${form.status}`);
    const xsrf = xsrfOf(form.text);
    const confirm = await go(verification, { method: 'POST', form: { xsrf, user_code: userCode } });
    if (confirm.status !== 200 || !confirm.text.includes('Confirm device')) {
      throw new Error(`oidc testkit: entering the code failed: ${confirm.status} ${textOf(confirm.text)}`);
    }
    return { go, verification, xsrf: xsrfOf(confirm.text) };
  }

  return {
    issuer,
    url: server.url,
    endpoints: {
      authorization: `${issuer}${routes.authorization}`,
      registration: `${issuer}${routes.registration}`,
      deviceAuthorization: `${issuer}${routes.device_authorization}`,
      token: `${issuer}${routes.token}`,
      revocation: `${issuer}${routes.revocation}`,
      userinfo: `${issuer}${routes.userinfo}`,
      introspection: `${issuer}${routes.introspection}`,
      verification: `${issuer}/device`,
    },
    requests,
    requestsTo(endpoint, grantType) {
      return requests.filter(
        (r) => r.endpoint === endpoint && (grantType === undefined || r.body.grant_type === grantType),
      );
    },
    issuedSecrets() {
      const fields = ['access_token', 'refresh_token', 'id_token', 'device_code'];
      return [
        ...new Set(
          requests.flatMap((r) =>
            fields.map((f) => r.answer?.[f]).filter((v): v is string => typeof v === 'string'),
          ),
        ),
      ];
    },
    async approve(userCode, account = OIDC_DEFAULT_ACCOUNT) {
      const { go, verification, xsrf } = await enterCode(userCode, account);
      const done = await go(verification, {
        method: 'POST',
        form: { xsrf, user_code: userCode, confirm: 'yes' },
      });
      if (done.status !== 200 || !done.text.includes('Sign-in Success')) {
        throw new Error(`oidc testkit: approving failed: ${done.status} ${textOf(done.text)}`);
      }
    },
    async deny(userCode) {
      const { go, verification, xsrf } = await enterCode(userCode);
      const done = await go(verification, {
        method: 'POST',
        form: { xsrf, user_code: userCode, abort: 'yes' },
      });
      if (!done.text.includes('AbortedError')) {
        throw new Error(`oidc testkit: denying failed: ${done.status} ${textOf(done.text)}`);
      }
    },
    async isActive(token) {
      for (const model of [provider.AccessToken, provider.RefreshToken] as const) {
        const found = await (model as { find(v: string): Promise<unknown> }).find(token);
        if (found) {
          const t = found as { isExpired?: boolean; consumed?: unknown };
          return !t.isExpired && !t.consumed;
        }
      }
      return false;
    },
    revokeRefreshTokens() {
      let count = 0;
      for (const key of [...store.keys()]) {
        if (key.startsWith('RefreshToken:')) {
          store.delete(key);
          count += 1;
        }
      }
      return count;
    },
    slowNext(endpoint, slow) {
      slows.set(endpoint, { ms: slow.ms, left: slow.times ?? 1 });
    },
    expiresInNext(value, times = 1) {
      expiresIn.value = value;
      expiresIn.left = times;
    },
    failNext(endpoint, fault) {
      faults.set(endpoint, {
        status: fault.status,
        error: fault.error ?? 'server_error',
        left: fault.times ?? 1,
        body: fault.body,
      });
    },
    close: server.close,
  };
}

/** The body chunks of each request, as Node's HTTP parser pushed them (see `tapBody`). */
const rawBodies = new WeakMap<IncomingMessage, Buffer[]>();

/**
 * Keeps a copy of the body's bytes as they arrive, without reading the stream (oidc-provider reads it
 * itself): Node's HTTP parser hands each body chunk to `req.push`. Called first thing in the request
 * handler, before the parser delivers the body. At most 64 KiB are kept.
 */
function tapBody(req: IncomingMessage): void {
  const chunks: Buffer[] = [];
  let kept = 0;
  rawBodies.set(req, chunks);
  const push = req.push.bind(req);
  req.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk !== null && chunk !== undefined && kept < 64 * 1024) {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, encoding);
      chunks.push(Buffer.from(bytes));
      kept += bytes.length;
    }
    return push(chunk, encoding);
  };
}

function newRecord(endpoint: OidcEndpoint, req: IncomingMessage): OidcRecordedRequest {
  const record: OidcRecordedRequest = {
    at: Date.now(),
    endpoint,
    method: req.method ?? 'GET',
    path: (req.url ?? '/').split('?')[0] ?? '/',
    query: Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams),
    contentType: String(req.headers['content-type'] ?? ''),
    rawBody: '',
    body: {},
    status: 0,
  };
  const authorization = req.headers.authorization;
  if (authorization) {
    const [scheme = '', value = ''] = authorization.split(' ');
    record.authScheme = scheme.toLowerCase();
    if (record.authScheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      record.basic = {
        clientId: decodeURIComponent(decoded.slice(0, colon)),
        clientSecret: decodeURIComponent(decoded.slice(colon + 1)),
      };
    }
  }
  return record;
}

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) break;
    chunks.push(chunk as Buffer);
  }
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

function stringFields(body: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(body ?? {})) {
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value)) out[key] = value.map(String).join(',');
  }
  return out;
}

function memoryAdapter(
  store: Map<string, { payload: AdapterPayload; expiresAt?: number }>,
  model: string,
): Adapter {
  const key = (id: string) => `${model}:${id}`;
  const live = (k: string) => {
    const entry = store.get(k);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      store.delete(k);
      return undefined;
    }
    return entry.payload;
  };
  return {
    async upsert(id, payload, expiresIn) {
      store.set(key(id), {
        payload,
        ...(expiresIn ? { expiresAt: Date.now() + expiresIn * 1000 } : {}),
      });
      if (payload.grantId) {
        const grantKey = `grant:${payload.grantId}`;
        const members = (store.get(grantKey)?.payload as unknown as string[] | undefined) ?? [];
        store.set(grantKey, { payload: [...members, key(id)] as unknown as AdapterPayload });
      }
      if (payload.userCode) store.set(`userCode:${payload.userCode}`, { payload: { id } as AdapterPayload });
      if (payload.uid) store.set(`uid:${payload.uid}`, { payload: { id } as AdapterPayload });
    },
    async find(id) {
      return live(key(id));
    },
    async findByUserCode(userCode) {
      const ref = store.get(`userCode:${userCode}`)?.payload as { id?: string } | undefined;
      return ref?.id ? live(key(ref.id)) : undefined;
    },
    async findByUid(uid) {
      const ref = store.get(`uid:${uid}`)?.payload as { id?: string } | undefined;
      return ref?.id ? live(key(ref.id)) : undefined;
    },
    async consume(id) {
      const payload = live(key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    },
    async destroy(id) {
      store.delete(key(id));
    },
    async revokeByGrantId(grantId) {
      const grantKey = `grant:${grantId}`;
      for (const member of (store.get(grantKey)?.payload as unknown as string[] | undefined) ?? []) {
        store.delete(member);
      }
      store.delete(grantKey);
    },
  };
}

function normalizePath(path: string): string {
  if (path === '' || path === '/') return '';
  return `/${path.replace(/^\/+|\/+$/g, '')}`;
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: 'not_found' }));
}

function page(title: string, content: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${content}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function textOf(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}
