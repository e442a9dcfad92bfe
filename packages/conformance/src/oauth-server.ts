/**
 * Conformance checks for an OAuth 2.0 SERVER that latchkey is to refresh and revoke tokens at (a provider
 * added by configuration, or a plugin's own server): refresh (RFC 6749 section 6, answers as in section 5)
 * and revocation (RFC 7009), as the wire shows them. Each check is its own `it`, run with plain `fetch`, so a
 * report names exactly which rule the server breaks. The server may be a real one (an OIDC provider in
 * process, a staging host) or an emulator.
 */
import { describe, expect, it } from 'vitest';

/** Who the checks are at the server: a public client (client_id in the body) or a confidential one. */
export interface OAuthServerClient {
  clientId: string;
  /** A confidential client's secret: sent as HTTP Basic (RFC 6749 section 2.3.1). */
  clientSecret?: string;
  /** Request bodies; default 'form' (the standard). */
  encoding?: 'form' | 'json';
}

/** What a sign-in gave: the token answer's fields latchkey keeps. */
export interface OAuthServerTokens {
  access_token: string;
  refresh_token: string;
}

export interface OAuthServerConformanceOptions {
  /** The describe block's name; default `OAuth server conformance: refresh and revocation`. */
  name?: string;
  /** The token endpoint (a function when known only once a `beforeAll` has run). */
  tokenUrl: string | (() => string);
  /** The revocation endpoint; without it the revocation checks are not registered. */
  revocationUrl?: string | (() => string);
  client: OAuthServerClient | (() => OAuthServerClient);
  /**
   * Signs a user in (e.g. a device login approved on the server) and returns the token answer, with a
   * refresh token. Called once by each check that needs fresh tokens.
   */
  signIn: () => Promise<OAuthServerTokens>;
  /**
   * Whether the server accepts an access token (e.g. its userinfo endpoint answers 200); lets the checks see
   * a refreshed token work and a revoked one stop working.
   */
  accessTokenWorks?: (accessToken: string) => Promise<boolean>;
  /** Per-check timeout; default 30 s (a sign-in may wait out a poll interval). */
  timeoutMs?: number;
}

interface Answer {
  status: number;
  contentType: string;
  cacheControl: string;
  text: string;
  json: Record<string, unknown> | undefined;
}

function value<T>(v: T | (() => T)): T {
  return typeof v === 'function' ? (v as () => T)() : v;
}

/** POSTs `fields` with the client's authentication, as latchkey does. */
async function post(url: string, client: OAuthServerClient, fields: Record<string, string>): Promise<Answer> {
  const body: Record<string, string> = { ...fields };
  const headers: Record<string, string> = { accept: 'application/json' };
  if (client.clientSecret === undefined) body.client_id = client.clientId;
  else {
    const encode = (v: string) => new URLSearchParams({ v }).toString().slice(2);
    headers.authorization = `Basic ${Buffer.from(`${encode(client.clientId)}:${encode(client.clientSecret)}`).toString('base64')}`;
  }
  const json = client.encoding === 'json';
  headers['content-type'] = json ? 'application/json' : 'application/x-www-form-urlencoded';
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: json ? JSON.stringify(body) : new URLSearchParams(body).toString(),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> | undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) parsed = v as Record<string, unknown>;
  } catch {
    // Not JSON: `json` stays undefined and the check says so.
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    cacheControl: response.headers.get('cache-control') ?? '',
    text,
    json: parsed,
  };
}

/** The answer, with secrets cut short, for a failure message. */
function shown(answer: Answer): string {
  const text = answer.text.replace(
    /"(access_token|refresh_token|id_token)"\s*:\s*"([^"]{0,6})[^"]*"/g,
    '"$1":"$2..."',
  );
  return `HTTP ${answer.status} (${answer.contentType || 'no content-type'}): ${text.slice(0, 300)}`;
}

/** One check: its name (the `it` title) and what it does (throws when the server breaks the rule). */
export interface OAuthServerCheck {
  name: string;
  run: () => Promise<void>;
}

/**
 * The refresh and revocation checks as plain functions (what `describeOAuthServerConformance` registers),
 * for a runner other than a vitest `describe`, and to test the checks themselves.
 */
export function oauthServerChecks(options: OAuthServerConformanceOptions): OAuthServerCheck[] {
  const refresh = (refreshToken: string) =>
    post(value(options.tokenUrl), value(options.client), {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
  const checks: OAuthServerCheck[] = [
    {
      name: 'refresh (RFC 6749 s6): 200 JSON with a new Bearer access token, expires_in a number, Cache-Control no-store',
      async run() {
        const tokens = await options.signIn();
        const answer = await refresh(tokens.refresh_token);
        expect(answer.status, shown(answer)).toBe(200);
        expect(answer.contentType, shown(answer)).toMatch(/^application\/json/i);
        expect(answer.json, `not a JSON object: ${shown(answer)}`).toBeTypeOf('object');
        const body = answer.json!;
        expect(body.access_token, 'access_token').toBeTypeOf('string');
        expect(String(body.access_token), 'access_token').toMatch(/\S/);
        expect(body.access_token, 'the refreshed access token is the old one').not.toBe(tokens.access_token);
        expect(String(body.token_type), 'token_type (case-insensitive, RFC 6749 s5.1)').toMatch(/^bearer$/i);
        if (body.expires_in !== undefined) {
          expect(body.expires_in, 'expires_in must be a number of seconds').toBeTypeOf('number');
          expect(body.expires_in as number).toBeGreaterThan(0);
        }
        if (body.refresh_token !== undefined)
          expect(body.refresh_token, 'refresh_token').toBeTypeOf('string');
        // Section 5.1: an answer carrying tokens must not be cached.
        expect(answer.cacheControl.toLowerCase(), 'Cache-Control').toContain('no-store');
        if (options.accessTokenWorks) {
          expect(
            await options.accessTokenWorks(String(body.access_token)),
            'the refreshed token does not work',
          ).toBe(true);
        }
      },
    },
    {
      name: 'a rotated refresh token is single-use: the old one is then refused with invalid_grant; the new one refreshes',
      async run() {
        const tokens = await options.signIn();
        const first = await refresh(tokens.refresh_token);
        expect(first.status, shown(first)).toBe(200);
        const rotated = first.json?.refresh_token;
        if (typeof rotated === 'string' && rotated !== tokens.refresh_token) {
          const old = await refresh(tokens.refresh_token);
          expect(old.status, `the replaced refresh token still works: ${shown(old)}`).toBe(400);
          expect(old.json?.error, shown(old)).toBe('invalid_grant');
          // Reusing a rotated token may revoke the whole grant (OAuth 2.0 Security BCP 4.14.2): sign in again.
          const again = await options.signIn();
          const next = await refresh(again.refresh_token);
          expect(next.status, shown(next)).toBe(200);
          const newer = next.json?.refresh_token;
          const follow = await refresh(typeof newer === 'string' ? newer : again.refresh_token);
          expect(follow.status, `the rotated refresh token does not refresh: ${shown(follow)}`).toBe(200);
        } else {
          // Not rotated: the same refresh token keeps working (latchkey keeps it).
          const second = await refresh(tokens.refresh_token);
          expect(second.status, `an unrotated refresh token stopped working: ${shown(second)}`).toBe(200);
        }
      },
    },
    {
      name: 'an unknown refresh token: 400 JSON error invalid_grant (what latchkey tells as "sign in again", exit 4)',
      async run() {
        const answer = await refresh(`not-a-refresh-token-${Date.now()}`);
        expect(answer.status, shown(answer)).toBe(400);
        expect(answer.json?.error, shown(answer)).toBe('invalid_grant');
      },
    },
  ];

  const revocationUrl = options.revocationUrl;
  if (revocationUrl === undefined) return checks;
  const revoke = (token: string, hint?: 'refresh_token' | 'access_token') =>
    post(value(revocationUrl), value(options.client), {
      token,
      ...(hint ? { token_type_hint: hint } : {}),
    });
  checks.push(
    {
      name: 'revoking the refresh token (RFC 7009, token_type_hint=refresh_token): 200, and it refreshes no more',
      async run() {
        const tokens = await options.signIn();
        const answer = await revoke(tokens.refresh_token, 'refresh_token');
        expect(answer.status, shown(answer)).toBe(200);
        const after = await refresh(tokens.refresh_token);
        expect(after.status, `a revoked refresh token still refreshes: ${shown(after)}`).toBe(400);
        expect(after.json?.error, shown(after)).toBe('invalid_grant');
      },
    },
    {
      name: 'revoking the access token (token_type_hint=access_token): 200, and it stops working',
      async run() {
        const tokens = await options.signIn();
        if (options.accessTokenWorks) expect(await options.accessTokenWorks(tokens.access_token)).toBe(true);
        const answer = await revoke(tokens.access_token, 'access_token');
        expect(answer.status, shown(answer)).toBe(200);
        if (options.accessTokenWorks) {
          expect(
            await options.accessTokenWorks(tokens.access_token),
            'the revoked access token still works',
          ).toBe(false);
        }
      },
    },
    {
      name: 'revoking a token the server does not know answers 200 (RFC 7009 s2.2), so a repeated logout is not an error',
      async run() {
        const answer = await revoke(`unknown-token-${Date.now()}`, 'refresh_token');
        expect(answer.status, shown(answer)).toBe(200);
      },
    },
  );
  return checks;
}

/**
 * Registers a vitest `describe` with the refresh and revocation checks (one `it` each). Call it at the top
 * level of a test file, with the server started in a `beforeAll` (pass the URLs as functions) or before
 * (top-level await).
 */
export function describeOAuthServerConformance(options: OAuthServerConformanceOptions): void {
  const timeout = options.timeoutMs ?? 30_000;
  describe(options.name ?? 'OAuth server conformance: refresh and revocation', () => {
    for (const check of oauthServerChecks(options)) it(check.name, check.run, timeout);
  });
}
