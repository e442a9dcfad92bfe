import { dirname } from 'node:path';
import { ExitCode, LatchkeyError } from '@latchkey/errors';
import { backendPlace } from './backends/describe.js';
import type { BackendName } from './types.js';

/** The `docs` of storage errors: the topic of `latchkey help` that explains them. */
export const DOCS = 'storage';

/** A file latchkey owns can't be understood. The file is left exactly as it is. */
export function corruptError(file: string, detail: string, cause?: unknown): LatchkeyError {
  return new LatchkeyError({
    code: 'STORAGE_CORRUPT',
    message: `${file} is corrupt or unreadable: ${detail}.`,
    action: `Move it aside (mv '${file}' '${file}.bak') and sign in again; latchkey never overwrites or deletes it.`,
    exitCode: ExitCode.Failure,
    docs: DOCS,
    cause,
  });
}

/** A credentials file or the config directory can be read or changed by other users. */
export function insecureError(path: string, mode: number, isDir: boolean, owner?: number): LatchkeyError {
  const wanted = isDir ? '700' : '600';
  const octal = (mode & 0o777).toString(8).padStart(3, '0');
  const what = owner === undefined ? `has permissions ${octal}` : `is owned by uid ${owner}, not by you`;
  return new LatchkeyError({
    code: 'STORAGE_INSECURE',
    message: `${path} ${what}; latchkey refuses to use credentials that other users may read or replace.`,
    action:
      owner === undefined
        ? `Run: chmod ${wanted} '${path}' (and consider the stored credentials exposed if others could read them).`
        : `Make sure '${path}' belongs to you (chown) and has mode ${wanted}, or set LATCHKEY_CONFIG_DIR to a directory of your own.`,
    exitCode: ExitCode.Failure,
    docs: DOCS,
  });
}

/** Any other file-system failure while reading or writing storage. */
export function ioError(path: string, operation: string, error: unknown): LatchkeyError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = code ?? (error instanceof Error ? error.message : String(error));
  return new LatchkeyError({
    code: 'STORAGE_IO',
    message: `Could not ${operation} ${path} (${reason}).`,
    action:
      code === 'EACCES' || code === 'EPERM'
        ? `Check that you own '${path}' and can write to its directory, or set LATCHKEY_CONFIG_DIR to a directory of your own.`
        : code === 'ENOSPC'
          ? 'Free some disk space and try again.'
          : `Check that '${path}' and its directory are accessible, then try again.`,
    exitCode: ExitCode.Failure,
    docs: DOCS,
    cause: error,
  });
}

export function missingCredentialError(
  provider: string,
  account: string,
  backend: BackendName,
): LatchkeyError {
  return new LatchkeyError({
    code: 'CREDENTIAL_MISSING',
    message: `The stored credential for ${provider} account '${account}' is missing from ${backendPlace(backend)}.`,
    action: `Sign in again: latchkey auth login --provider ${provider}`,
    exitCode: ExitCode.Auth,
    docs: DOCS,
  });
}

/**
 * The index names another server than the one the stored credential was issued for: someone rewrote
 * `accounts.json`. The secret is not used.
 */
export function tamperedError(
  indexFile: string,
  provider: string,
  account: string,
  indexUrl: string | null,
  boundUrl: string | null,
  otherDir?: string,
): LatchkeyError {
  const show = (url: string | null) => (url === null ? "the provider's default server" : url);
  // Keychain items are shared by every config directory: another one may have saved the same account.
  const why =
    otherDir === undefined
      ? ''
      : ` (the keychain item was last saved by latchkey with config directory ${otherDir})`;
  return new LatchkeyError({
    code: 'STORAGE_TAMPERED',
    message: `${indexFile} says ${provider} account '${account}' uses ${show(indexUrl)}, but its stored credential was issued for ${show(boundUrl)}${why}; latchkey refuses to send it to a server it was not issued for.`,
    action: `Check who can write to '${dirname(indexFile)}' (it must be yours, mode 700, and accounts.json 600), then sign in again: latchkey auth login --provider ${provider}`,
    exitCode: ExitCode.Failure,
    docs: 'security',
  });
}
