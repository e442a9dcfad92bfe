import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cancelledError, type LatchkeyError } from '@latchkey/errors';
import { HttpClient } from '@latchkey/http';
import type { Clock } from '@latchkey/clock';
import {
  authorizationCodeLogin,
  type AuthorizationCodeRequest,
  type AuthorizationPrompt,
  type BrowserLoginContext,
} from './authorization-code.js';

const issuer = 'https://idp.example';
const server = {
  issuer,
  authorizationUrl: new URL('https://idp.example/authorize?tenant=t1'),
  tokenUrl: new URL('https://idp.example/token'),
};

/** Sleeps never end by themselves (no timeout in these tests unless aborted). */
const idleClock: Clock = {
  now: () => 1_700_000_000_000,
  sleep: (_ms, signal) =>
    new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(cancelledError()))),
};

interface TokenRequest {
  url: string;
  form: URLSearchParams;
  authorization: string | null;
}

/** A token endpoint answering `answer` to each POST, recording what it got. */
function tokenEndpoint(answer: { status: number; body: unknown; type?: string }) {
  const seen: TokenRequest[] = [];
  const fetch = (async (input: URL | string, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    seen.push({
      url: String(input),
      form: new URLSearchParams(String(init?.body)),
      authorization: headers.get('authorization'),
    });
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    return new Response(text, {
      status: answer.status,
      headers: { 'content-type': answer.type ?? 'application/json' },
    });
  }) as typeof globalThis.fetch;
  return { seen, http: new HttpClient({ clientName: 'latchkey', clientVersion: '0', fetch }) };
}

/** The browser: when the URL is shown, follows it to the callback with `callback(state)`'s parameters. */
function browser(
  callback: (prompt: AuthorizationPrompt, state: string) => Record<string, string> | undefined,
) {
  const shown: AuthorizationPrompt[] = [];
  const warnings: string[] = [];
  const answers: number[] = [];
  const ui: BrowserLoginContext['ui'] = {
    showAuthorization(prompt) {
      shown.push(prompt);
      const params = callback(prompt, prompt.url.searchParams.get('state') ?? '');
      if (params === undefined) return;
      const target = `${prompt.redirectUri}?${new URLSearchParams(params).toString()}`;
      // Not awaited: the browser comes back while the login waits.
      void fetch(target).then(async (r) => {
        answers.push(r.status);
        await r.text();
      });
    },
    warn: (line) => void warnings.push(line),
  };
  return { ui, shown, warnings, answers };
}

function context(
  http: HttpClient,
  ui: BrowserLoginContext['ui'],
  signal = new AbortController().signal,
): BrowserLoginContext {
  return { http, clock: idleClock, signal, ui };
}

const request = (overrides: Partial<AuthorizationCodeRequest> = {}): AuthorizationCodeRequest => ({
  server,
  client: { clientId: 'latchkey-cli', encoding: 'form' },
  scope: 'openid offline_access',
  loginAgain: 'Run `latchkey auth login --provider corp` again.',
  ...overrides,
});

const tokens = {
  access_token: 'at-0123456789abcdef',
  token_type: 'Bearer',
  expires_in: 600,
  refresh_token: 'rt-0123456789abcdef',
};

describe('authorizationCodeLogin', () => {
  it('sends S256 PKCE, state and the loopback redirect; exchanges the code with the verifier', async () => {
    const endpoint = tokenEndpoint({ status: 200, body: tokens });
    const b = browser((_p, state) => ({ code: 'the-code', state, iss: issuer }));
    const result = await authorizationCodeLogin(context(endpoint.http, b.ui), request());
    expect(result).toMatchObject({
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: 1_700_000_600_000,
    });

    const [prompt] = b.shown;
    const url = prompt!.url;
    expect(`${url.origin}${url.pathname}`).toBe('https://idp.example/authorize');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      tenant: 't1',
      response_type: 'code',
      client_id: 'latchkey-cli',
      redirect_uri: prompt!.redirectUri,
      code_challenge_method: 'S256',
      scope: 'openid offline_access',
    });
    expect(prompt!.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(prompt!.paste).toBe(false);
    await expect.poll(() => b.answers).toEqual([200]);

    const [sent] = endpoint.seen;
    expect(sent!.url).toBe('https://idp.example/token');
    expect(sent!.form.get('grant_type')).toBe('authorization_code');
    expect(sent!.form.get('code')).toBe('the-code');
    expect(sent!.form.get('redirect_uri')).toBe(prompt!.redirectUri);
    expect(sent!.form.get('client_id')).toBe('latchkey-cli');
    const verifier = sent!.form.get('code_verifier')!;
    expect(createHash('sha256').update(verifier).digest('base64url')).toBe(
      url.searchParams.get('code_challenge'),
    );
    expect(sent!.authorization).toBeNull();
  });

  it('authenticates a confidential client with HTTP Basic, and sends an RFC 8707 resource both ways', async () => {
    const endpoint = tokenEndpoint({ status: 200, body: tokens });
    const b = browser((_p, state) => ({ code: 'c', state }));
    await authorizationCodeLogin(
      context(endpoint.http, b.ui),
      request({
        client: { clientId: 'conf', clientSecret: 's3cret-value', encoding: 'form' },
        resource: 'https://api.example/v1',
      }),
    );
    expect(b.shown[0]!.url.searchParams.get('resource')).toBe('https://api.example/v1');
    expect(endpoint.seen[0]!.form.get('resource')).toBe('https://api.example/v1');
    // RFC 6749 section 2.3.1: both parts form-encoded, then base64.
    const basic = endpoint.seen[0]!.authorization!.replace(/^Basic /, '');
    const [id, secret] = Buffer.from(basic, 'base64').toString('utf8').split(':').map(decodeURIComponent);
    expect([id, secret]).toEqual(['conf', 's3cret-value']);
  });

  it("a denial ends the login with exit 4 in the server's words, cleaned of terminal controls", async () => {
    const endpoint = tokenEndpoint({ status: 200, body: tokens });
    const b = browser((_p, state) => ({
      error: 'access_denied',
      error_description: 'The user said \x1b]0;pwned\x07no',
      state,
    }));
    const error = (await authorizationCodeLogin(context(endpoint.http, b.ui), request()).catch(
      (e: unknown) => e,
    )) as LatchkeyError;
    expect(error).toMatchObject({ code: 'ACCESS_DENIED', exitCode: 4 });
    expect(error.message).toBe('The sign-in was denied at idp.example: The user said no (access_denied).');
    expect(error.action).toContain('latchkey auth login --provider corp');
    expect(endpoint.seen).toEqual([]);
  });

  it('RFC 9207: a server that advertises iss gets callbacks without it or with another refused (exit 1, no token request)', async () => {
    for (const iss of [undefined, 'https://evil.example']) {
      const endpoint = tokenEndpoint({ status: 200, body: tokens });
      const b = browser((_p, state) => ({ code: 'c', state, ...(iss !== undefined && { iss }) }));
      const error = await authorizationCodeLogin(
        context(endpoint.http, b.ui),
        request({ server: { ...server, issParameterSupported: true } }),
      ).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ISSUER_MISMATCH', exitCode: 1 });
      expect(endpoint.seen).toEqual([]);
    }
    // Not advertised: an iss that is present is still compared.
    const endpoint = tokenEndpoint({ status: 200, body: tokens });
    const b = browser((_p, state) => ({ code: 'c', state, iss: 'https://evil.example' }));
    await expect(authorizationCodeLogin(context(endpoint.http, b.ui), request())).rejects.toMatchObject({
      code: 'ISSUER_MISMATCH',
    });
  });

  it('refuses a server that lists its PKCE methods without S256, before anything is shown', async () => {
    const endpoint = tokenEndpoint({ status: 200, body: tokens });
    const b = browser(() => undefined);
    await expect(
      authorizationCodeLogin(
        context(endpoint.http, b.ui),
        request({ server: { ...server, codeChallengeMethodsSupported: ['plain'] } }),
      ),
    ).rejects.toMatchObject({ code: 'PKCE_UNSUPPORTED', exitCode: 1 });
    expect(b.shown).toEqual([]);
  });

  it("maps the token endpoint's answers: invalid_grant exit 4, an HTML page, a body without a token", async () => {
    const cases: Array<[{ status: number; body: unknown; type?: string }, Record<string, unknown>]> = [
      [
        { status: 400, body: { error: 'invalid_grant', error_description: 'code expired' } },
        { code: 'SESSION_EXPIRED', exitCode: 4 },
      ],
      [{ status: 502, body: '<html>bad gateway</html>', type: 'text/html' }, { code: 'UNEXPECTED_RESPONSE' }],
      [{ status: 200, body: { token_type: 'Bearer' } }, { code: 'UNEXPECTED_RESPONSE' }],
    ];
    for (const [answer, expected] of cases) {
      const endpoint = tokenEndpoint(answer);
      const b = browser((_p, state) => ({ code: 'c', state }));
      await expect(authorizationCodeLogin(context(endpoint.http, b.ui), request())).rejects.toMatchObject(
        expected,
      );
      expect(endpoint.seen).toHaveLength(1); // a code is single-use: never retried
    }
  });

  it('--paste: the pasted address gets the same checks; a wrong one is a usage error', async () => {
    const endpoint = tokenEndpoint({ status: 200, body: tokens });
    let prompt: AuthorizationPrompt | undefined;
    const ui: BrowserLoginContext['ui'] = {
      showAuthorization: (p) => void (prompt = p),
      readRedirectUrl: async () =>
        `  ${prompt!.redirectUri}?code=pasted-code&state=${prompt!.url.searchParams.get('state')}\n`,
      warn: () => undefined,
    };
    await authorizationCodeLogin(context(endpoint.http, ui), request());
    expect(prompt!.paste).toBe(true);
    expect(endpoint.seen[0]!.form.get('code')).toBe('pasted-code');

    for (const [pasted, code] of [
      ['https://elsewhere.example/callback?code=x', 'USAGE'],
      ['not a url', 'USAGE'],
    ] as const) {
      const ui2 = { ...ui, readRedirectUrl: async () => pasted };
      await expect(authorizationCodeLogin(context(endpoint.http, ui2), request())).rejects.toMatchObject({
        code,
        exitCode: 2,
      });
    }
    const wrongState = { ...ui, readRedirectUrl: async () => `${prompt!.redirectUri}?code=x&state=guess` };
    await expect(authorizationCodeLogin(context(endpoint.http, wrongState), request())).rejects.toMatchObject(
      { code: 'STATE_MISMATCH' },
    );
  });

  it('Ctrl-C while waiting: CANCELLED, and the listener is gone', async () => {
    const endpoint = tokenEndpoint({ status: 200, body: tokens });
    const controller = new AbortController();
    let redirectUri = '';
    const ui: BrowserLoginContext['ui'] = {
      showAuthorization: (p) => {
        redirectUri = p.redirectUri;
        setImmediate(() => controller.abort());
      },
      warn: () => undefined,
    };
    await expect(
      authorizationCodeLogin(context(endpoint.http, ui, controller.signal), request()),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(fetch(redirectUri)).rejects.toThrow();
  });
});
