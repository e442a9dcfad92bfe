// The parts of the runtime that `auth token`'s fast path needs too: the output boundary, the environment
// switches and the read-only store. Kept apart so that path loads no HTTP client, clock or prompt adapter.
import { redact, sanitizeJsonValue, sanitizeLine, sanitizeTerminalText } from '@latchkey/errors';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  CredentialStore,
  PASSPHRASE_FILE,
  resolveConfigDir,
  resolveStoragePreference,
  type PassphraseAsker,
  type SecretBackend,
} from '@latchkey/storage';

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

/**
 * The store for reading: each record names its backend, so the storage preference matters only for pass
 * (LATCHKEY_STORAGE=pass makes the store's entries accounts, also where this config directory never stored
 * one). The passphrase file's passphrase comes from LATCHKEY_FILE_PASSPHRASE, else from `askPassphrase`
 * (given only where a person can answer).
 */
export function readOnlyStore(
  env: NodeJS.ProcessEnv,
  options: { keychain?: SecretBackend | undefined; askPassphrase?: PassphraseAsker | undefined } = {},
): CredentialStore {
  return new CredentialStore({
    configDir: resolveConfigDir(env),
    preference: resolveStoragePreference(undefined, env),
    env,
    ...(options.keychain && { keychain: options.keychain }),
    ...(options.askPassphrase && { askPassphrase: options.askPassphrase }),
  });
}

/**
 * A person at a terminal, a passphrase file, and no LATCHKEY_FILE_PASSPHRASE: the passphrase may have to
 * be asked, which the fast paths leave to the full CLI (its prompter). One stat; nothing is read.
 * `interactive` is asked last, only when there is a passphrase file: finding out touches process.stdin,
 * whose stream costs some 7 ms to build, which `auth token` would otherwise pay on every run.
 */
export function mayAskPassphrase(env: NodeJS.ProcessEnv, interactive: () => boolean): boolean {
  if ((env.LATCHKEY_FILE_PASSPHRASE ?? '') !== '') return false;
  return existsSync(join(resolveConfigDir(env), PASSPHRASE_FILE)) && interactive();
}

/**
 * The accounts of the index (accounts.json, and the names of pass entries) for shell completion: no secret,
 * no keychain; none when it cannot be read (completion never fails a command line).
 */
export function completionAccounts(
  env: NodeJS.ProcessEnv,
): (provider: string | undefined) => Promise<Array<{ provider: string; account: string }>> {
  return async (provider) => {
    try {
      return await readOnlyStore(env).list(provider);
    } catch {
      return [];
    }
  };
}
