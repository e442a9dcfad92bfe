// The parts of the runtime that `auth token`'s fast path needs too: the output boundary, the environment
// switches and the read-only store. Kept apart so that path loads no HTTP client, clock or prompt adapter.
import { redact, sanitizeJsonValue, sanitizeLine, sanitizeTerminalText } from '@latchkey/errors';
import { CredentialStore, resolveConfigDir, type SecretBackend } from '@latchkey/storage';

/**
 * The output boundary for human text: server text is data, so escape sequences, controls and bidi
 * overrides go first, then known secrets are masked (in that order, so a sequence planted inside an echoed
 * secret cannot hide it from redaction). Newlines stay; `oneLine` turns them into spaces.
 */
export function forTerminal(text: string, oneLine = false): string {
  return redact(oneLine ? sanitizeLine(text) : sanitizeTerminalText(text));
}

/** The output boundary for `--json`: every string value sanitized and redacted before encoding. */
export function jsonForTerminal(value: unknown): string {
  return redact(JSON.stringify(sanitizeJsonValue(value, redact), null, 2));
}

/** LATCHKEY_DEBUG=1 (or true): request lines and stack traces on stderr, secrets redacted. */
export function isDebug(env: NodeJS.ProcessEnv): boolean {
  return env.LATCHKEY_DEBUG === '1' || env.LATCHKEY_DEBUG === 'true';
}

export function isCi(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.CI && env.CI !== 'false' && env.CI !== '0');
}

/** The store for reading: each record names its backend, so the storage preference does not matter. */
export function readOnlyStore(env: NodeJS.ProcessEnv, keychain?: SecretBackend): CredentialStore {
  return new CredentialStore({ configDir: resolveConfigDir(env), ...(keychain && { keychain }) });
}
