/**
 * @latchkey/storage: where latchkey keeps credentials. Secrets go to the OS keychain (@napi-rs/keyring)
 * or, when it is unusable, to a file protected by its permissions (AES-256-GCM, its key beside it);
 * non-secret metadata goes to `accounts.json`.
 * See docs/storage.md.
 */
export type {
  AccountIdentity,
  AccountRecord,
  BackendName,
  CredentialStoreOptions,
  LockHolderInfo,
  OrphanedSecret,
  PassphraseAsker,
  RefreshFailure,
  RenewedTokens,
  RenewOutcome,
  SaveInput,
  SaveResult,
  SecretBackend,
  StoragePreference,
  StoredCredential,
} from './types.js';
export { matchAccount } from './choose-account.js';
export {
  checkEndpointBinding,
  definitionEndpoints,
  endpointTamperedError,
  type OAuthEndpoints,
} from './oauth-binding.js';
export { accessTokenDue, MINIMUM_VALIDITY_MS, refreshMarginMs } from './token-expiry.js';
export {
  CredentialStore,
  secretKey,
  type ChosenRecord,
  type DirectoryChoice,
  type MigrateOutcome,
} from './store.js';
export {
  chooseAccount,
  unknownAccount,
  type ChooseAccountOptions,
  type ChosenAccount,
  type ChosenBy,
} from './choose-account.js';
export { resolveConfigDir, resolveStoragePreference, STORAGE_PREFERENCES } from './config.js';
export { latchkeyDirs, type DirsHost, type LatchkeyDirs } from './dirs.js';
export { checkConfigDir, writeFileAtomic } from './fs-util.js';
export { inspectLock, LOCK_WAIT_MS, type LockState } from './lock.js';
export { createKeychainBackend } from './backends/keychain.js';
export { PASSPHRASE_FILE } from './backends/file-backend.js';
export type { ScryptParams } from './backends/passphrase-backend.js';
export type { PassStoreState } from './backends/pass-entries.js';
export { backendName, backendPlace, STRONGER_STORAGE } from './backends/describe.js';
export {
  definitionsPath,
  readProviderDefinitions,
  updateProviderDefinitions,
  type ProviderDefinition,
} from './provider-definitions.js';
