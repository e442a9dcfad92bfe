// The authorization code grant with PKCE on a loopback redirect (RFC 6749 section 4.1, RFC 7636, RFC 8252):
// what `auth login --web` runs. oauth4webapi holds the protocol rules (the RFC 9207 `iss` check, error
// redirects, the token request and response); latchkey adds its bounds around them: the one-shot
// loopback listener (loopback.ts), the https-or-loopback URL rule, a time limit, the HTTP client's caps.
import type { Clock } from '@latchkey/clock';
import { ExitCode, LatchkeyError, sanitizeLine, usageError } from '@latchkey/errors';
import { noRetry, unexpectedResponse, type HttpClient } from '@latchkey/http';
import * as oauth from 'oauth4webapi';
import type { OAuthClient } from './client-auth.js';
import { libraryFetch } from './library-fetch.js';
import {
  browserTimeoutError,
  defaultBrowserTimeoutMs,
  judgeCallback,
  startLoopbackListener,
} from './loopback.js';
import { createPkce, createState } from './pkce.js';
import { tokenEndpointError, tokenSetFromBody, type TokenSet } from './token-response.js';

/** The authorization server of a browser sign-in: where to send the person, and where to get the token. */
export interface AuthorizationServer {
  /** The issuer identifier, compared with a callback's `iss` (RFC 9207). */
  issuer: string;
  authorizationUrl: URL;
  tokenUrl: URL;
  /** `authorization_response_iss_parameter_supported`: a callback without `iss` is then refused. */
  issParameterSupported?: boolean;
  /** `code_challenge_methods_supported`: when listed, it must include S256. */
  codeChallengeMethodsSupported?: string[];
}

/** What the host shows while a browser sign-in waits. */
export interface AuthorizationPrompt {
  /** The authorization URL to open (https://, or http:// for loopback: checked before it is shown). */
  url: URL;
  /** Where the browser will be sent back to (`http://127.0.0.1:PORT/callback`). */
  redirectUri: string;
  /** When the wait ends (by the context's clock). */
  expiresAt: number;
  /** The person pastes the address the browser ended on (`--paste`) instead of it reaching the listener. */
  paste: boolean;
}

/** The host's part of a browser sign-in: showing the URL (and opening the browser), reading a paste. */
export interface BrowserLoginUi {
  /**
   * Show the authorization URL; the host decides whether to open a browser. Optional in the type only so
   * that a provider context fits as it is: a UI without it cannot run a browser sign-in (INTERNAL).
   */
  showAuthorization?(prompt: AuthorizationPrompt): void | Promise<void>;
  /** `--paste`: asks for the address the browser ended on. Absent: the listener waits for the browser. */
  readRedirectUrl?(signal: AbortSignal): Promise<string>;
  warn(message: string): void;
}

/** What a browser sign-in needs from its caller (a provider passes its whole context). */
export interface BrowserLoginContext {
  http: HttpClient;
  clock: Clock;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  ui: BrowserLoginUi;
  /** How long to wait for the browser; default 5 minutes. */
  browserTimeoutMs?: number;
}

/** One code for a token: the standard token request, or a provider's own exchange. */
export interface CodeGrant {
  code: string;
  codeVerifier: string;
  redirectUri: string;
}

export interface AuthorizationCodeRequest {
  server: AuthorizationServer;
  client: OAuthClient;
  /** Space-separated scopes; absent: no scope parameter. */
  scope?: string;
  /** RFC 8707 resource indicator, sent with the authorization and token requests. */
  resource?: string;
  /** What to tell the person when the sign-in was denied or timed out (e.g. the login command). */
  loginAgain?: string;
  /**
   * Replaces the standard token request (a provider's own exchange, such as a key handoff endpoint); must
   * return the token set. The default is RFC 6749 section 4.1.3 with the code verifier.
   */
  exchange?(grant: CodeGrant): Promise<TokenSet>;
  /** Replaces the standard authorization URL (for a provider's own variant); gets the values to put in. */
  authorizationUrl?(values: { redirectUri: string; state: string; codeChallenge: string }): URL;
}

/** The URL the person is sent to (RFC 6749 section 4.1.1 with RFC 7636's S256 challenge). */
export function standardAuthorizationUrl(
  request: AuthorizationCodeRequest,
  values: { redirectUri: string; state: string; codeChallenge: string },
): URL {
  const url = new URL(request.server.authorizationUrl);
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: request.client.clientId,
    redirect_uri: values.redirectUri,
    code_challenge: values.codeChallenge,
    code_challenge_method: 'S256',
    state: values.state,
  };
  if (request.scope !== undefined && request.scope !== '') params.scope = request.scope;
  // OpenID Connect Core section 11: offline access is granted only with prompt=consent.
  const scopes = (request.scope ?? '').split(' ');
  if (scopes.includes('openid') && scopes.includes('offline_access')) params.prompt = 'consent';
  if (request.resource !== undefined) params.resource = request.resource;
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url;
}

const asOf = (server: AuthorizationServer): oauth.AuthorizationServer => ({
  issuer: server.issuer,
  authorization_endpoint: server.authorizationUrl.href,
  token_endpoint: server.tokenUrl.href,
  ...(server.issParameterSupported === true && { authorization_response_iss_parameter_supported: true }),
});

/** An error redirect (RFC 6749 section 4.1.2.1), in the server's words, cleaned for a terminal and bounded. */
function deniedError(error: oauth.AuthorizationResponseError, host: string, again: string): LatchkeyError {
  const code = sanitizeLine(error.error).slice(0, 64);
  const description = error.error_description
    ? sanitizeLine(error.error_description).slice(0, 300)
    : undefined;
  const words = description ? `${description} (${code})` : code;
  return new LatchkeyError({
    code: code === 'access_denied' ? 'ACCESS_DENIED' : 'AUTHORIZATION_FAILED',
    message:
      code === 'access_denied'
        ? `The sign-in was denied at ${host}: ${words}.`
        : `${host} did not authorize the sign-in: ${words}.`,
    action: again,
    exitCode: ExitCode.Auth,
  });
}

/**
 * Judges a callback whose state matched, with oauth4webapi's rules: the RFC 9207 `iss` (required when the
 * server advertises it, compared when present), an error redirect (exit 4 in the server's words), no
 * implicit-flow tokens, exactly one `code`. Returns the validated parameters for the token request.
 */
export function checkCallback(
  server: AuthorizationServer,
  clientId: string,
  params: URLSearchParams,
  again: string,
): URLSearchParams {
  const host = server.authorizationUrl.host;
  let validated: URLSearchParams;
  try {
    validated = oauth.validateAuthResponse(
      asOf(server),
      { client_id: clientId },
      params,
      oauth.skipStateCheck,
    );
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) throw deniedError(error, host, again);
    const iss = params.get('iss');
    const issuerProblem = /"iss"/.test(error instanceof Error ? error.message : '');
    throw new LatchkeyError({
      code: issuerProblem ? 'ISSUER_MISMATCH' : 'UNEXPECTED_CALLBACK',
      message: issuerProblem
        ? iss === null
          ? `The answer the browser brought back names no issuer, but ${host} says its answers always do (RFC 9207); latchkey did not use it.`
          : `The answer the browser brought back is from another issuer (${JSON.stringify(sanitizeLine(iss).slice(0, 200))}, expected ${JSON.stringify(server.issuer)}); latchkey did not use it.`
        : `The answer the browser brought back is not a sign-in answer latchkey can use (${sanitizeLine(error instanceof Error ? error.message : String(error)).slice(0, 200)}).`,
      action: `${again} If it happens again, another server may be answering in ${host}'s place: check the provider's issuer.`,
      exitCode: ExitCode.Failure,
    });
  }
  const codes = validated.getAll('code');
  if (codes.length !== 1 || codes[0] === '') {
    throw new LatchkeyError({
      code: 'UNEXPECTED_CALLBACK',
      message: `The answer the browser brought back from ${host} has ${codes.length === 0 ? 'no' : 'more than one'} authorization code.`,
      action: again,
      exitCode: ExitCode.Failure,
    });
  }
  return validated;
}

/**
 * Reads the address the person pasted (`--paste`): it must be the redirect URI with the callback's
 * parameters, and then gets the same checks as a callback on the listener (state in constant time, then
 * `accept`). Anything else is a usage error that says what to paste.
 */
export function readPastedRedirect(
  pasted: string,
  redirectUri: string,
  state: string,
  accept: (params: URLSearchParams) => void,
): URLSearchParams {
  const text = pasted.trim();
  const expected = new URL(redirectUri);
  let url: URL | undefined;
  try {
    url = text.length <= 8192 ? new URL(text) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || url.origin !== expected.origin || url.pathname !== expected.pathname) {
    throw usageError(
      'That is not the address the browser ended on.',
      `Paste the whole address from the browser's address bar after approving: it starts with ${redirectUri}?`,
    );
  }
  const ignored = judgeCallback(url.searchParams, state, accept);
  if (ignored !== undefined) {
    throw new LatchkeyError({
      code: 'STATE_MISMATCH',
      message: `The pasted address is ${ignored}: it is not the answer to this sign-in.`,
      action:
        'Paste the address from the sign-in this command started (the last one you approved), or run it again.',
      exitCode: ExitCode.Failure,
    });
  }
  return url.searchParams;
}

/**
 * A complete browser sign-in: PKCE S256 (never `plain`; a server that lists its methods without S256 is
 * refused), a fresh state, the one-shot loopback listener, the authorization URL shown (and opened) by the
 * host, the first callback whose state matches (or the pasted address, with `--paste`), then the code for
 * a token. Ends with exit 4 on a denial or after the time limit (5 minutes), exit 130 on Ctrl-C.
 */
export async function authorizationCodeLogin(
  ctx: BrowserLoginContext,
  request: AuthorizationCodeRequest,
): Promise<TokenSet> {
  const { server } = request;
  const again = request.loginAgain ?? 'Run the login command again.';
  const methods = server.codeChallengeMethodsSupported;
  if (methods !== undefined && !methods.includes('S256')) {
    throw new LatchkeyError({
      code: 'PKCE_UNSUPPORTED',
      message: `${server.authorizationUrl.host} does not offer PKCE with S256 (it lists ${methods.map((m) => sanitizeLine(m).slice(0, 20)).join(', ') || 'no methods'}); latchkey signs in in the browser only with S256.`,
      action: 'Sign in with the device flow (--device), or ask the server operator to enable PKCE S256.',
      exitCode: ExitCode.Failure,
    });
  }
  const show = ctx.ui.showAuthorization?.bind(ctx.ui);
  if (show === undefined) {
    throw new LatchkeyError({
      code: 'INTERNAL',
      message: 'This latchkey cannot show a browser sign-in (its UI has no showAuthorization).',
      action: 'Update latchkey, or report this bug.',
    });
  }
  const pkce = await createPkce();
  const state = createState();
  const timeoutMs = ctx.browserTimeoutMs ?? defaultBrowserTimeoutMs;
  let validated: URLSearchParams | undefined;
  const accept = (params: URLSearchParams) => {
    validated = checkCallback(server, request.client.clientId, params, again);
  };
  const listener = await startLoopbackListener({
    state,
    clock: ctx.clock,
    signal: ctx.signal,
    timeoutMs,
    again,
    accept,
    onIgnored: (reason) =>
      ctx.ui.warn(`Ignored ${reason} on the sign-in address (answered 400); still waiting.`),
  });
  try {
    const values = { redirectUri: listener.redirectUri, state, codeChallenge: pkce.challenge };
    const url = request.authorizationUrl?.(values) ?? standardAuthorizationUrl(request, values);
    const readPaste = ctx.ui.readRedirectUrl?.bind(ctx.ui);
    await show({
      url,
      redirectUri: listener.redirectUri,
      expiresAt: ctx.clock.now() + timeoutMs,
      paste: readPaste !== undefined,
    });
    if (readPaste === undefined) {
      await listener.wait();
    } else {
      // The browser may still reach the listener (it is on this machine after all): whichever comes first.
      const stopPaste = new AbortController();
      const pasted = readPaste(AbortSignal.any([ctx.signal, stopPaste.signal])).then((text) =>
        readPastedRedirect(text, listener.redirectUri, state, accept),
      );
      try {
        await Promise.race([listener.wait(), pasted]);
      } finally {
        stopPaste.abort();
        pasted.catch(() => undefined);
      }
    }
    if (validated === undefined) throw browserTimeoutError(timeoutMs, again);
    const code = validated.get('code')!;
    if (request.exchange) {
      return await request.exchange({ code, codeVerifier: pkce.verifier, redirectUri: listener.redirectUri });
    }
    return await exchangeCode(ctx, request, validated, pkce.verifier, listener.redirectUri, again);
  } finally {
    await listener.close();
  }
}

/**
 * The standard token request (RFC 6749 section 4.1.3, RFC 7636 section 4.5): oauth4webapi builds it and
 * checks the answer; it is sent once (a code is single-use). Errors are latchkey's: `invalid_grant` exit
 * 4, 429/5xx/HTML through the shared mapping.
 */
async function exchangeCode(
  ctx: BrowserLoginContext,
  request: AuthorizationCodeRequest,
  validated: URLSearchParams,
  verifier: string,
  redirectUri: string,
  again: string,
): Promise<TokenSet> {
  const { server, client } = request;
  const through = libraryFetch(ctx.http, noRetry, server.tokenUrl);
  const clientAuth =
    client.clientSecret === undefined ? oauth.None() : oauth.ClientSecretBasic(client.clientSecret);
  const sentAt = ctx.clock.now();
  const response = await oauth.authorizationCodeGrantRequest(
    asOf(server),
    { client_id: client.clientId },
    clientAuth,
    validated,
    redirectUri,
    verifier,
    {
      ...through.options,
      ...(request.resource !== undefined && { additionalParameters: { resource: request.resource } }),
    },
  );
  const answer = through.responseOf(response);
  if (answer !== undefined && answer.status !== 200) {
    throw tokenEndpointError(answer, ctx.clock.now(), 'authorization code', again);
  }
  let body: oauth.TokenEndpointResponse;
  try {
    body = await oauth.processAuthorizationCodeResponse(
      asOf(server),
      { client_id: client.clientId },
      response,
    );
  } catch (error) {
    if (answer !== undefined && !answer.isJson) throw unexpectedResponse(answer);
    throw new LatchkeyError({
      code: 'UNEXPECTED_RESPONSE',
      message: `${server.tokenUrl.host} answered the token request with something latchkey cannot use: ${sanitizeLine(error instanceof Error ? error.message : String(error)).slice(0, 200)}.`,
      action: "Try again; if it keeps failing, report it to the server's operator.",
      exitCode: ExitCode.Failure,
      cause: error,
    });
  }
  const tokens = tokenSetFromBody(body, sentAt);
  if (tokens === undefined) throw unexpectedResponse({ ...answer!, isJson: true });
  return tokens;
}
