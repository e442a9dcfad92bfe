// RFC 7636 (PKCE) and the `state` of an authorization request: the values come from oauth4webapi, which
// draws them from the platform's CSPRNG (crypto.getRandomValues); the comparison is node:crypto's.
import { createRequire } from 'node:module';
import { calculatePKCECodeChallenge, generateRandomCodeVerifier, generateRandomState } from 'oauth4webapi';
import { registerSecret } from '@latchkey/errors';

/** One authorization request's proof key (RFC 7636): always S256, never `plain`. */
export interface Pkce {
  /** 43 characters of base64url (32 random bytes); sent only to the token endpoint. */
  verifier: string;
  /** BASE64URL(SHA-256(verifier)), sent in the authorization URL. */
  challenge: string;
  method: 'S256';
}

/** A fresh code verifier and its S256 challenge. The verifier is registered as a secret (redacted). */
export async function createPkce(): Promise<Pkce> {
  const verifier = generateRandomCodeVerifier();
  registerSecret(verifier);
  return { verifier, challenge: await calculatePKCECodeChallenge(verifier), method: 'S256' };
}

/**
 * A fresh `state` value (32 random bytes, base64url). Not registered as a secret: it is part of the
 * authorization URL the person is shown to open (a CSRF guard, not a credential).
 */
export function createState(): string {
  return generateRandomState();
}

/**
 * True when `received` is `expected`, compared in constant time (RFC 8252 section 8.9 / RFC 6749 section
 * 10.12: the time taken says nothing about how much of it matched). Both are hashed first, so strings of
 * different lengths take the same path.
 */
export function sameState(expected: string, received: string | null | undefined): boolean {
  if (typeof received !== 'string') return false;
  // Required here, not imported at the top: an ES module import of node:crypto builds its module facade
  // (webcrypto included), some 5 ms that every command loading this package would pay.
  const { createHash, timingSafeEqual } = createRequire(import.meta.url)(
    'node:crypto',
  ) as typeof import('node:crypto');
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(received)) && received.length === expected.length;
}
