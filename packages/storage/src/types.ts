import type { OAuthEndpoints } from './bound-secret.js';

/**
 * Where a secret is kept: the OS keychain, the file protected by its permissions (its key beside it), the
 * file whose key comes from a passphrase, the `pass` store (GPG, shareable through git).
 */
export type BackendName = 'keychain' | 'file' | 'passphrase' | 'pass';

/** What the user asked for: `--storage` / `LATCHKEY_STORAGE`. */
export type StoragePreference = 'auto' | BackendName;

/**
 * Asks a person for the passphrase of the passphrase file: `unlock` the existing file, or a `new` one (to
 * create the file, or to change the passphrase; the asker confirms it). Given only where someone can
 * answer: without it, `LATCHKEY_FILE_PASSPHRASE` is the only source.
 */
export type PassphraseAsker = (purpose: 'unlock' | 'new') => Promise<string>;

/** Who the credential belongs to, as the provider reported it. Non-secret. */
export interface AccountIdentity {
  name?: string;
  email?: string;
  permission?: string;
  [key: string]: string | undefined;
}

/** One stored account: non-secret metadata, kept in the index file. */
export interface AccountRecord {
  /** Provider id, e.g. 'acme'. */
  provider: string;
  /** Label unique within a provider, e.g. 'acme_...a1b2' or 'alice@example.com'. */
  account: string;
  /** Where the secret is kept. */
  backend: BackendName;
  /** `pass` only: the store directory that holds it (never written to accounts.json). */
  store?: string;
  baseUrl?: string;
  identity?: AccountIdentity;
  /** How it was obtained: 'device' | 'token' | 'prompt'. */
  method?: string;
  /** ISO timestamp. */
  createdAt: string;
  /** ISO timestamp. */
  expiresAt?: string;
  /** A refresh token is held with the secret (the token itself is only in the secret store). */
  refreshable?: boolean;
  /** ISO timestamp of the last refresh; with `createdAt` before it, when the current access token was issued. */
  renewedAt?: string;
  /**
   * The last refresh of this access token failed (written under the lock by the process that sent it, so
   * the others report it instead of sending the same refresh token again). Never a secret: the error as
   * printed, redacted. Cleared by a successful refresh or a new login.
   */
  refreshFailure?: RefreshFailure;
}

/** A failed refresh, as recorded in the account's index record (`AccountRecord.refreshFailure`). */
export interface RefreshFailure {
  /** ISO timestamp: when the refresh failed. */
  at: string;
  /** ISO timestamp from which a refresh may be tried again; absent: never with this refresh token (sign in again). */
  retryAt?: string;
  /** The error's code, message, action and exit code, as reported (redacted, one line each, bounded). */
  code: string;
  message: string;
  action?: string;
  exitCode: number;
  retryable?: boolean;
}

export interface SaveInput {
  provider: string;
  account: string;
  secret: string;
  baseUrl?: string;
  identity?: AccountIdentity;
  method?: string;
  expiresAt?: string;
  /** An OAuth refresh token, kept in the secret store beside the secret (never in the index). */
  refreshToken?: string;
  /** The OAuth endpoints that issued it, bound to the secret in the secret store (see `checkEndpointBinding`). */
  endpoints?: OAuthEndpoints;
  /** Make it the provider's default even when another account is the default now. */
  makeDefault?: boolean;
}

export interface SaveResult {
  record: AccountRecord;
  /** An account with this provider and name was stored before and has been replaced. */
  replaced: boolean;
  /** It is the provider's default account now. */
  isDefault: boolean;
  /** Set when 'auto' could not use the keychain and used the encrypted file: says why (never a secret). */
  fallbackReason?: string;
  /** Which keychain failure made 'auto' fall back: none running, or locked. */
  fallbackCode?: 'KEYCHAIN_UNAVAILABLE' | 'KEYCHAIN_LOCKED';
}

export interface StoredCredential {
  record: AccountRecord;
  secret: string;
  /** The OAuth refresh token stored with the secret, if any. */
  refreshToken?: string;
  /** The OAuth endpoints bound to it; absent for keys and for OAuth credentials stored before the binding. */
  endpoints?: OAuthEndpoints;
}

/** New tokens for a stored account (a refresh): the secret, and the rotated refresh token and expiry. */
export interface RenewedTokens {
  secret: string;
  refreshToken?: string;
  /** ISO timestamp; absent: the new token's expiry is not known. */
  expiresAt?: string;
  /** The OAuth endpoints to bind it to; absent: the ones bound now stay. */
  endpoints?: OAuthEndpoints;
}

/** What a `renew` callback decides: new tokens, a failed refresh to record, or undefined to keep what is stored. */
export type RenewOutcome = RenewedTokens | { failure: RefreshFailure } | undefined;

/** A place secrets are kept, addressed by key (`<provider>:<account>`). */
export interface SecretBackend {
  readonly name: BackendName;
  /** The secret, or undefined only when it is truly absent. Throws `LatchkeyError` when the store can't be read. */
  get(key: string): Promise<string | undefined>;
  set(key: string, secret: string): Promise<void>;
  /** True when something was deleted, false when nothing was there. */
  delete(key: string): Promise<boolean>;
  /** Every item this backend holds for latchkey (to find orphaned secrets); optional. */
  findAll?(): Promise<Array<{ key: string; secret: string }>>;
}

/** A secret with no index record: left by a crash between writing the secret and the index. */
export interface OrphanedSecret {
  provider: string;
  account: string;
  backend: BackendName;
}

/** Who holds the config-dir lock another process is waiting for. */
export interface LockHolderInfo {
  pid?: number;
  hostname?: string;
}

export interface CredentialStoreOptions {
  configDir: string;
  /** Default 'auto'. */
  preference?: StoragePreference;
  /** Keychain service name, default 'latchkey'. */
  service?: string;
  /** Injectable; default is the @napi-rs/keyring backend. */
  keychain?: SecretBackend;
  now?: () => number;
  /** Called once when a write has waited 1 s for another live latchkey process holding the lock. */
  onLockWait?: (holder: LockHolderInfo) => void;
  /**
   * The environment: `LATCHKEY_FILE_PASSPHRASE`, `LATCHKEY_FILE_NEW_PASSPHRASE`, `LATCHKEY_FILE_SCRYPT_N`.
   * Default `process.env`.
   */
  env?: NodeJS.ProcessEnv;
  /** Asks for the passphrase file's passphrase when the environment has none (a terminal only). */
  askPassphrase?: PassphraseAsker;
}
