import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { isLatchkeyError, registerSecret, usageError } from '@latchkey/errors';
import { indexPath, readIndex, writeIndex, type IndexDocument } from './account-index.js';
import { EncryptedFileBackend } from './file-backend.js';
import { ensureConfigDir } from './fs-util.js';
import { createKeychainBackend } from './keychain.js';
import { withLock } from './lock.js';
import { missingCredentialError } from './storage-errors.js';
import type {
  AccountRecord,
  BackendName,
  CredentialStoreOptions,
  SaveInput,
  SaveResult,
  SecretBackend,
  StoragePreference,
  StoredCredential,
} from './types.js';

/** The keychain key (Secret Service attribute `username`, macOS account) of one account. */
export function secretKey(provider: string, account: string): string {
  return `${provider}:${account}`;
}

const FALLBACK_CODES = new Set(['KEYCHAIN_UNAVAILABLE', 'KEYCHAIN_LOCKED']);

/**
 * Stored credentials: secrets in the OS keychain or the encrypted file, non-secret metadata in
 * `accounts.json`. Every read-modify-write happens under the config-dir lock.
 */
export class CredentialStore {
  readonly configDir: string;
  readonly preference: StoragePreference;
  private readonly service: string;
  private readonly now: () => number;
  private readonly injectedKeychain: SecretBackend | undefined;
  private defaultKeychain: SecretBackend | undefined;
  private readonly file: EncryptedFileBackend;

  constructor(options: CredentialStoreOptions) {
    if (typeof options.configDir !== 'string' || options.configDir.trim() === '') {
      throw usageError('The credential store needs a config directory.', 'Set LATCHKEY_CONFIG_DIR or HOME.');
    }
    this.configDir = path.resolve(options.configDir);
    this.preference = options.preference ?? 'auto';
    this.service = options.service ?? 'latchkey';
    this.now = options.now ?? Date.now;
    this.injectedKeychain = options.keychain;
    this.file = new EncryptedFileBackend(this.configDir);
  }

  /** Stores the secret and makes this account the provider's active one. Replaces an existing entry with the same provider+account. */
  async save(input: SaveInput): Promise<SaveResult> {
    validateIds(input.provider, input.account);
    if (typeof input.secret !== 'string' || input.secret === '') {
      throw usageError(
        `Nothing to store for ${input.provider} account '${input.account}': the secret is empty.`,
      );
    }
    registerSecret(input.secret);
    await ensureConfigDir(this.configDir);
    return withLock(this.configDir, async () => {
      // Read the index first: a corrupt index stops the save before any secret is written.
      const index = await readIndex(this.configDir);
      const key = secretKey(input.provider, input.account);
      let backend: BackendName;
      let fallbackReason: string | undefined;

      if (this.preference === 'file') {
        await this.file.setLocked(key, input.secret);
        backend = 'file';
      } else if (this.preference === 'keychain') {
        await this.keychain().set(key, input.secret);
        backend = 'keychain';
      } else {
        try {
          await this.keychain().set(key, input.secret);
          backend = 'keychain';
        } catch (error) {
          if (!isLatchkeyError(error) || !FALLBACK_CODES.has(error.code)) throw error;
          fallbackReason = error.message;
          await this.file.setLocked(key, input.secret);
          backend = 'file';
        }
      }

      const previous = index.accounts.find(
        (r) => r.provider === input.provider && r.account === input.account,
      );
      if (previous !== undefined && previous.backend !== backend) {
        // The account moved between backends: don't leave the old secret behind (best effort: the old
        // backend may be exactly the one that is unavailable now).
        await this.deleteSecret(previous.backend, key).catch(() => undefined);
      }

      const record: AccountRecord = {
        provider: input.provider,
        account: input.account,
        backend,
        ...(input.baseUrl !== undefined && { baseUrl: input.baseUrl }),
        ...(input.identity !== undefined && { identity: { ...input.identity } }),
        ...(input.method !== undefined && { method: input.method }),
        createdAt: new Date(this.now()).toISOString(),
        ...(input.expiresAt !== undefined && { expiresAt: input.expiresAt }),
      };
      const accounts = index.accounts.filter(
        (r) => !(r.provider === input.provider && r.account === input.account),
      );
      accounts.push(record);
      await writeIndex(this.configDir, {
        ...index,
        accounts,
        active: { ...index.active, [input.provider]: input.account },
      });
      return fallbackReason === undefined ? { record } : { record, fallbackReason };
    });
  }

  /**
   * The given account, or the provider's active one; undefined = not signed in. Throws when the backend
   * holding it is locked or unreachable, when a file is corrupt, and CREDENTIAL_MISSING when the index
   * names a secret its backend doesn't have.
   */
  async get(provider: string, account?: string): Promise<StoredCredential | undefined> {
    const index = await readIndex(this.configDir);
    const record = findRecord(index, provider, account);
    if (record === undefined) return undefined;
    const backend = record.backend === 'keychain' ? this.keychain() : this.file;
    const secret = await backend.get(secretKey(record.provider, record.account));
    if (secret === undefined) throw missingCredentialError(record.provider, record.account, record.backend);
    registerSecret(secret);
    return { record: { ...record }, secret };
  }

  /** Index only: no secret is read and the keychain library is not loaded. */
  async list(provider?: string): Promise<Array<AccountRecord & { active: boolean }>> {
    const index = await readIndex(this.configDir);
    return index.accounts
      .filter((r) => provider === undefined || r.provider === provider)
      .map((r) => ({ ...r, active: index.active[r.provider] === r.account }));
  }

  /**
   * Deletes the secret and the index entry of an account (default: the provider's active one); 'all'
   * removes every account of the provider. Returns what was removed. When the active account goes,
   * the provider's most recently saved remaining account becomes active.
   */
  async remove(provider: string, account?: string | 'all'): Promise<AccountRecord[]> {
    try {
      await fs.access(indexPath(this.configDir));
    } catch {
      return []; // Nothing stored yet: don't create the config directory just to find that out.
    }
    await ensureConfigDir(this.configDir);
    return withLock(this.configDir, async () => {
      const index = await readIndex(this.configDir);
      const targets =
        account === 'all'
          ? index.accounts.filter((r) => r.provider === provider)
          : [findRecord(index, provider, account)].filter((r): r is AccountRecord => r !== undefined);
      const removed: AccountRecord[] = [];
      let failure: unknown;
      for (const record of targets) {
        try {
          await this.deleteSecret(record.backend, secretKey(record.provider, record.account));
          removed.push(record);
        } catch (error) {
          failure = error; // e.g. keychain locked: keep this entry, so the secret isn't orphaned.
          break;
        }
      }
      if (removed.length > 0) {
        const gone = new Set(removed.map((r) => r.account));
        const accounts = index.accounts.filter((r) => !(r.provider === provider && gone.has(r.account)));
        const active = { ...index.active };
        const current = active[provider];
        if (current === undefined || gone.has(current)) {
          const next = accounts
            .filter((r) => r.provider === provider)
            .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))[0];
          if (next === undefined) delete active[provider];
          else active[provider] = next.account;
        }
        await writeIndex(this.configDir, { ...index, accounts, active });
      }
      if (failure !== undefined) throw failure;
      return removed.map((r) => ({ ...r }));
    });
  }

  private keychain(): SecretBackend {
    if (this.injectedKeychain !== undefined) return this.injectedKeychain;
    this.defaultKeychain ??= createKeychainBackend(this.service);
    return this.defaultKeychain;
  }

  private async deleteSecret(backend: BackendName, key: string): Promise<boolean> {
    return backend === 'keychain' ? this.keychain().delete(key) : this.file.deleteLocked(key);
  }
}

function findRecord(
  index: IndexDocument,
  provider: string,
  account: string | undefined,
): AccountRecord | undefined {
  const wanted = account ?? index.active[provider];
  if (wanted === undefined) return undefined;
  return index.accounts.find((r) => r.provider === provider && r.account === wanted);
}

function validateIds(provider: string, account: string): void {
  if (typeof provider !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(provider)) {
    throw usageError(
      `Invalid provider id '${String(provider)}'.`,
      'Use a provider id such as nanogpt (letters, digits, . _ -).',
    );
  }
  // eslint-disable-next-line no-control-regex
  if (typeof account !== 'string' || account === '' || /[\u0000-\u001f\u007f]/.test(account)) {
    throw usageError(
      `Invalid account label for ${provider}.`,
      'Use a non-empty account label without control characters.',
    );
  }
}
