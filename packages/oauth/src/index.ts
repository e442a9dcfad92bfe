/**
 * @latchkey/oauth — the OAuth client side of latchkey, one module per protocol: RFC 8628 device
 * authorization (`rfc8628.ts`) and the device login wiring every device flow shares (`device-login.ts`),
 * token responses (`token-response.ts`), client authentication (`client-auth.ts`), refresh (RFC 6749
 * section 6, `rfc6749.ts`), revocation (RFC 7009, `rfc7009.ts`), server discovery (RFC 8414 / OpenID
 * Connect, `rfc8414.ts`) and who signed in (`oidc-identity.ts`); the browser sign-in: PKCE and state
 * (`pkce.ts`), the one-shot loopback listener (`loopback.ts`), the authorization code grant
 * (`authorization-code.ts`), client registration (RFC 7591, `rfc7591.ts`) and protected resource
 * metadata (RFC 9728, `rfc9728.ts`), on oauth4webapi's protocol rules (`library-fetch.ts` routes its
 * requests through latchkey's HTTP client). No terminal I/O: the caller passes how to show the code or URL.
 */
export * from './rfc8628.js';
export * from './device-login.js';
export * from './token-response.js';
export * from './client-auth.js';
export * from './rfc6749.js';
export * from './rfc7009.js';
export * from './rfc8414.js';
export * from './oidc-identity.js';
export * from './pkce.js';
export * from './loopback.js';
export * from './authorization-code.js';
export * from './rfc7591.js';
export * from './rfc9728.js';
