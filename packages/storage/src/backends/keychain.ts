import { ExitCode, LatchkeyError, redact } from '@latchkey/errors';
import { DOCS } from '../storage-errors.js';
import type { SecretBackend } from '../types.js';

/** The part of `@napi-rs/keyring` this backend uses. */
export interface KeyringEntry {
  getPassword(signal?: AbortSignal | null): Promise<string | null>;
  setPassword(password: string, signal?: AbortSignal | null): Promise<void>;
  deletePassword(signal?: AbortSignal | null): Promise<boolean>;
}
export interface KeyringModule {
  AsyncEntry: new (
    service: string,
    username: string,
    options?: { linux?: { store?: 'secret-service' | 'keyutils' } },
  ) => KeyringEntry;
  /** Every item of a service (used to find orphaned secrets); absent in a module that can't enumerate. */
  findCredentialsAsync?: (
    service: string,
    target?: string | null,
    signal?: AbortSignal | null,
  ) => Promise<Array<{ account: string; password: string }>>;
}

export interface KeychainBackendOptions {
  service?: string;
  /** Hard limit for one keychain call. Default 30 s: a macOS permission prompt waits for the user. */
  timeoutMs?: number;
  /** Loads the keyring library; default `import('@napi-rs/keyring')`. A test seam. */
  load?: () => Promise<KeyringModule>;
  /** Makes the signal that ends one call after `ms`; default `AbortSignal.timeout`. A test seam. */
  timeout?: (ms: number) => AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 30_000;

const unlockHint =
  process.platform === 'darwin'
    ? 'Unlock your login keychain (Keychain Access, or: security unlock-keychain)'
    : process.platform === 'win32'
      ? 'Sign in to Windows Credential Manager'
      : 'Unlock your login keyring (e.g. log in to the desktop session, or run gnome-keyring-daemon --unlock)';

/** The OS keychain through @napi-rs/keyring, loaded on first use. Keys are `<provider>:<account>`. */
export function createKeychainBackend(service = 'latchkey'): SecretBackend {
  return createKeychainBackendWith({ service });
}

export function createKeychainBackendWith(options: KeychainBackendOptions = {}): SecretBackend {
  const service = options.service ?? 'latchkey';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const load = options.load ?? (() => import('@napi-rs/keyring') as Promise<KeyringModule>);
  const timeout = options.timeout ?? ((ms: number) => AbortSignal.timeout(ms));
  let loaded: Promise<KeyringModule> | undefined;

  async function keyring(): Promise<KeyringModule> {
    loaded ??= load();
    try {
      return await loaded;
    } catch (error) {
      loaded = undefined;
      throw unavailable(
        `the keychain library could not be loaded on this platform (${describe(error)})`,
        error,
      );
    }
  }

  async function entry(key: string): Promise<KeyringEntry> {
    const mod = await keyring();
    try {
      // On Linux demand the Secret Service: never fall back silently to the kernel keyring, whose
      // entries vanish at logout/reboot.
      return new mod.AsyncEntry(
        service,
        key,
        process.platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined,
      );
    } catch (error) {
      throw mapKeychainError(error);
    }
  }

  async function call<T>(
    what: string,
    key: string,
    fn: (e: KeyringEntry, signal: AbortSignal) => Promise<T>,
    secret?: string,
  ): Promise<T> {
    const e = await entry(key);
    return timed(what, (signal) => fn(e, signal), secret);
  }

  async function timed<T>(
    what: string,
    fn: (signal: AbortSignal) => Promise<T>,
    secret?: string,
  ): Promise<T> {
    const signal = timeout(timeoutMs);
    // The library is asked to stop when the signal aborts, but a call stuck in the OS may not: the race
    // ends the wait either way.
    const expired = new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(timedOut(what, timeoutMs)), { once: true });
    });
    expired.catch(() => undefined); // settled calls leave it unobserved
    try {
      return await Promise.race([fn(signal), expired]);
    } catch (error) {
      throw mapKeychainError(error, secret);
    }
  }

  return {
    name: 'keychain',
    async get(key) {
      const value = await call('read a credential', key, (e, signal) => e.getPassword(signal));
      return value ?? undefined;
    },
    async set(key, secret) {
      await call('store a credential', key, (e, signal) => e.setPassword(secret, signal), secret);
    },
    async delete(key) {
      return call('delete a credential', key, (e, signal) => e.deletePassword(signal));
    },
    async findAll() {
      const mod = await keyring();
      const find = mod.findCredentialsAsync;
      if (find === undefined) return [];
      const found = await timed('list credentials', (signal) => find(service, null, signal));
      return found.map((c) => ({ key: c.account, secret: c.password }));
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function unavailable(reason: string, cause?: unknown): LatchkeyError {
  return new LatchkeyError({
    code: 'KEYCHAIN_UNAVAILABLE',
    message: `The OS keychain is not available: ${reason}.`,
    action:
      process.platform === 'linux'
        ? 'Start a Secret Service (gnome-keyring or KeePassXC) in a D-Bus session, or use --storage file (LATCHKEY_STORAGE=file) to keep credentials in a file protected by its permissions.'
        : 'Check that the OS keychain is working, or use --storage file (LATCHKEY_STORAGE=file) to keep credentials in a file protected by its permissions.',
    exitCode: ExitCode.Failure,
    docs: DOCS,
    cause,
  });
}

/**
 * The keychain did not answer in time, often because a permission or unlock prompt is waiting. Never a
 * reason for 'auto' to fall back to the file: the keychain may still finish the write (two copies).
 */
function timedOut(what: string, timeoutMs: number): LatchkeyError {
  return new LatchkeyError({
    code: 'KEYCHAIN_TIMEOUT',
    message: `The OS keychain did not answer within ${Math.round(timeoutMs / 100) / 10} s while trying to ${what}.`,
    action:
      'Answer the keychain prompt if one is open (it may be behind other windows) or unlock the keychain, then try again; or use --storage file (LATCHKEY_STORAGE=file).',
    exitCode: ExitCode.Failure,
    retryable: true,
    docs: DOCS,
  });
}

function locked(reason: string, cause?: unknown): LatchkeyError {
  return new LatchkeyError({
    code: 'KEYCHAIN_LOCKED',
    message: `The OS keychain is locked: ${reason}.`,
    action: `${unlockHint} and try again, or use --storage file (LATCHKEY_STORAGE=file) to keep credentials in a file protected by its permissions.`,
    exitCode: ExitCode.Failure,
    retryable: true,
    docs: DOCS,
    cause,
  });
}

/**
 * Maps a keyring library failure to a `LatchkeyError`. The library's messages describe the store, not
 * the secret; they are quoted as the reason, redacted all the same.
 */
export function mapKeychainError(error: unknown, secret?: string): LatchkeyError {
  if (error instanceof LatchkeyError) return error;
  const message = redact(describe(error), secret === undefined ? [] : [secret]);
  const text = message.toLowerCase();
  if (
    text.includes('unlock') ||
    text.includes('locked') ||
    text.includes('interaction is not allowed') ||
    text.includes('user canceled') ||
    text.includes('user cancelled') ||
    text.includes('passphrase')
  ) {
    return locked(message, error);
  }
  if (text.includes('abort')) return unavailable(`the keychain call was aborted (${message})`, error);
  if (
    text.includes('dbus') ||
    text.includes('d-bus') ||
    text.includes('platform failure') ||
    text.includes("couldn't access platform storage") ||
    text.includes('no result found') ||
    text.includes('no storage') ||
    text.includes('not supported') ||
    text.includes('connect')
  ) {
    return unavailable(message, error);
  }
  return new LatchkeyError({
    code: 'KEYCHAIN_ERROR',
    message: `The OS keychain failed: ${message}.`,
    action:
      'Try again; if it keeps failing, use --storage file (LATCHKEY_STORAGE=file) and report the problem.',
    exitCode: ExitCode.Failure,
    docs: DOCS,
    cause: error,
  });
}
