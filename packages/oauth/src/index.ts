/**
 * @latchkey/oauth — the OAuth client side of latchkey, one module per protocol: RFC 8628 device
 * authorization (`rfc8628.ts`) and the device login wiring every device flow shares (`device-login.ts`).
 * Refresh (RFC 6749 section 6), revocation (RFC 7009) and server discovery (RFC 8414 / OpenID Connect)
 * belong here too, each in its own module. No terminal I/O: the caller passes how to show the code.
 */
export * from './rfc8628.js';
export * from './device-login.js';
