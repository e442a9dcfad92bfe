import { authorizationCodeLogin, type AuthorizationCodeRequest, type TokenSet } from '@latchkey/oauth';
import type { ProviderContext } from './provider.js';

/**
 * A browser sign-in for a provider's `browserLogin(ctx)`, in one call: PKCE S256, a fresh state, the
 * one-shot loopback listener on 127.0.0.1 (RFC 8252), the authorization URL shown and opened by the host
 * (or the address pasted with `--paste`), the RFC 9207 `iss` check, then the code for a token (the
 * standard token request, or `request.exchange` for a provider's own). Ends with exit 4 on a denial or
 * when nobody approved within the time limit (5 minutes). Returns the token set; the provider names the
 * account from it.
 *
 * ```ts
 * async browserLogin(ctx) {
 *   const tokens = await browserLogin(ctx, {
 *     server: { issuer: 'https://id.acme.example', authorizationUrl: new URL('https://id.acme.example/authorize'),
 *               tokenUrl: new URL('https://id.acme.example/token') },
 *     client: { clientId: 'acme-cli', encoding: 'form' },
 *     scope: 'api',
 *   });
 *   return { token: tokens.accessToken, identity: await whoIs(tokens.accessToken, ctx) };
 * }
 * ```
 */
export function browserLogin(ctx: ProviderContext, request: AuthorizationCodeRequest): Promise<TokenSet> {
  return authorizationCodeLogin(ctx, request);
}
