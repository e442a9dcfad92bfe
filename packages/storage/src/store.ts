import { accessSync, existsSync, readdirSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ExitCode,
  isLatchkeyError,
  LatchkeyError,
  registerSecret,
  toLatchkeyError,
  usageError,
} from '@latchkey/errors';
import { backendPlace } from './backends/describe.js';
import { indexPath, readIndex, writeIndex, type IndexDocument } from './account-index.js';
import { decodeBoundSecret, encodeBoundSecret } from './bound-secret.js';
import { EncryptedFileBackend, PASSPHRASE_FILE } from './backends/file-backend.js';
import type { PassphraseFileBackend, ScryptParams } from './backends/passphrase-backend.js';
import type { PassBackend } from './backends/pass-backend.js';
import {
  listPassEntries,
  passStoreDir,
  passStoreState,
  type PassStoreState,
} from './backends/pass-entries.js';
import { ensureConfigDir, removeStrayTempFiles } from './fs-util.js';
import { createKeychainBackend } from './backends/keychain.js';
import {
  chooseAccount,
  matchAccount,
  unknownAccount,
  type ChooseAccountOptions,
  type ChosenBy,
} from './choose-account.js';
import { withLock, type LockOptions } from './lock.js';
import { DOCS, missingCredentialError, tamperedError } from './storage-errors.js';
import type {
  AccountRecord,
  BackendName,
  CredentialStoreOptions,
  LockHolderInfo,
  OrphanedSecret,
  PassphraseAsker,
  RenewOutcome,
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

/** A backend of files in the config directory (the file, the passphrase file): written under the store's lock. */
interface LocalBackend extends SecretBackend {
  setLocked(key: string, secret: string): Promise<void>;
  deleteLocked(key: string): Promise<boolean>;
  keys(): Promise<string[]>;
  deleteFilesLocked(): Promise<boolean>;
}

/** What is bound to a secret wherever it is kept (bound-secret.ts); keychain items add the config dir. */
type BoundParts = Omit<Parameters<typeof encodeBoundSecret>[0], 'dir'>;

/**
 * Stored credentials: secrets in the OS keychain, the file backend (its key beside it), the passphrase
 * file or a pass store; non-secret metadata in `accounts.json`, except a pass account's, which is in its
 * entry (the store is the index of its accounts). Every read-modify-write happens under the config-dir
 * lock. The passphrase and pass backends' code is imported on first use.
 */
export class CredentialStore {
  readonly configDir: string;
  readonly preference: StoragePreference;
  private readonly service: string;
  private readonly now: () => number;
  private readonly injectedKeychain: SecretBackend | undefined;
  private defaultKeychain: SecretBackend | undefined;
  private readonly file: EncryptedFileBackend;
  private passphraseFile: Promise<PassphraseFileBackend> | undefined;
  private passModule: Promise<typeof import('./backends/pass-backend.js')> | undefined;
  private readonly onLockWait: ((holder: LockHolderInfo) => void) | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly askPassphrase: PassphraseAsker | undefined;

  constructor(options: CredentialStoreOptions) {
    if (typeof options.configDir !== 'string' || options.configDir.trim() === '') {
      throw usageError('The credential store needs a config directory.', 'Set LATCHKEY_CONFIG_DIR or HOME.');
    }
    this.configDir = resolve(options.configDir);
    this.preference = options.preference ?? 'auto';
    this.service = options.service ?? 'latchkey';
    this.now = options.now ?? Date.now;
    this.injectedKeychain = options.keychain;
    this.file = new EncryptedFileBackend(this.configDir);
    this.onLockWait = options.onLockWait;
    this.env = options.env ?? process.env;
    this.askPassphrase = options.askPassphrase;
  }

  /**
   * Stores the secret; replaces an existing entry with the same provider+account (`replaced`). The account
   * becomes the provider's default (`isDefault`) only when it is the provider's first, when it replaces the
   * current default, or with `makeDefault`; otherwise the default stays as it was.
   */
  async save(input: SaveInput): Promise<SaveResult> {
    validateIds(input.provider, input.account);
    if (typeof input.secret !== 'string' || input.secret === '') {
      throw usageError(
        `Nothing to store for ${input.provider} account '${input.account}': the secret is empty.`,
      );
    }
    registerSecret(input.secret);
    if (input.refreshToken !== undefined) registerSecret(input.refreshToken);
    await ensureConfigDir(this.configDir);
    return this.locked(async () => {
      // Read the index first: a corrupt index stops the save before any secret is written.
      const local = await readIndex(this.configDir);
      const index = this.withPass(local);
      await removeStrayTempFiles(this.configDir);
      const baseUrl = input.baseUrl ?? null;
      const refresh = {
        ...(input.refreshToken !== undefined && { refreshToken: input.refreshToken }),
        ...(input.endpoints !== undefined && { endpoints: { ...input.endpoints } }),
      };
      const parts: BoundParts = { secret: input.secret, baseUrl, ...refresh };
      let fallbackReason: string | undefined;
      let fallbackCode: SaveResult['fallbackCode'];

      let record: AccountRecord = {
        provider: input.provider,
        account: input.account,
        backend: this.preference === 'auto' ? 'keychain' : this.preference,
        ...(this.preference === 'pass' && { store: passStoreDir(this.env, local.passStore) }),
        ...(input.baseUrl !== undefined && { baseUrl: input.baseUrl }),
        ...(input.identity !== undefined && { identity: { ...input.identity } }),
        ...(input.method !== undefined && { method: input.method }),
        createdAt: new Date(this.now()).toISOString(),
        ...(input.expiresAt !== undefined && { expiresAt: input.expiresAt }),
        ...(input.refreshToken !== undefined && { refreshable: true }),
      };
      if (this.preference !== 'auto') {
        await this.writeSecret(record, parts);
      } else {
        try {
          await this.writeSecret(record, parts);
        } catch (error) {
          if (!isLatchkeyError(error) || !FALLBACK_CODES.has(error.code)) throw error;
          fallbackReason = error.message;
          fallbackCode = error.code as NonNullable<SaveResult['fallbackCode']>;
          record = { ...record, backend: 'file' };
          await this.writeSecret(record, parts);
        }
      }
      const backend = record.backend;

      const previous = index.accounts.find(
        (r) => r.provider === input.provider && r.account === input.account,
      );
      if (previous !== undefined && previous.backend !== backend && previous.backend !== 'pass') {
        // The account moved between backends: don't leave the old secret behind (best effort: the old
        // backend may be exactly the one that is unavailable now). A pass entry stays: it is the team's,
        // and this machine's own record now comes first.
        await this.deleteSecret(previous).catch(() => undefined);
      }

      const accounts = index.accounts.filter(
        (r) => !(r.provider === input.provider && r.account === input.account),
      );
      accounts.push(record);
      const current = ownValue(index.active, input.provider);
      const currentExists =
        current !== undefined && accounts.some((r) => r.provider === input.provider && r.account === current);
      const isDefault = input.makeDefault === true || !currentExists || current === input.account;
      await writeIndex(this.configDir, {
        ...local,
        accounts,
        active: isDefault ? { ...local.active, [input.provider]: input.account } : local.active,
        ...(record.store !== undefined && { passStore: record.store }),
      });
      await this.deleteUnusedFiles(accounts);
      const result: SaveResult = { record, replaced: previous !== undefined, isDefault };
      if (fallbackReason !== undefined) result.fallbackReason = fallbackReason;
      if (fallbackCode !== undefined) result.fallbackCode = fallbackCode;
      return result;
    });
  }

  /**
   * The given account, or the provider's active one; undefined = not signed in. Throws STORAGE_INSECURE
   * (before any secret is read) when the config dir or a file is not ours or open to others, when the
   * backend holding it is locked or unreachable, when a file is corrupt, CREDENTIAL_MISSING when the
   * index names a secret its backend doesn't have, and STORAGE_TAMPERED when the index's base URL is not
   * the one bound to the secret.
   */
  async get(provider: string, account?: string): Promise<StoredCredential | undefined> {
    const index = await this.view();
    const record = findRecord(index, provider, account);
    if (record === undefined) return undefined;
    return this.readSecret(record);
  }

  /**
   * The account that applies (`chooseAccount`: `--account`, `LATCHKEY_<ID>_ACCOUNT`, the nearest directory
   * choice, the default) and why, from one read of the index; no secret is read. Undefined when nothing is
   * stored for the provider; an account that is named but not stored is `unknownAccount` (exit 4).
   */
  async choose(provider: string, options: ChooseAccountOptions): Promise<ChosenRecord | undefined> {
    return chosenRecord(await this.view(), provider, options);
  }

  /** `choose()` and then the chosen account's secret (the same checks as `get()`), from one read of the index. */
  async chooseCredential(
    provider: string,
    options: ChooseAccountOptions,
  ): Promise<(StoredCredential & Omit<ChosenRecord, 'record'>) | undefined> {
    const chosen = chosenRecord(await this.view(), provider, options);
    if (chosen === undefined) return undefined;
    return { ...chosen, ...(await this.readSecret(chosen.record)) };
  }

  /** The directory choices (`auth switch --dir`) of one provider or all, from the index only. */
  async directoryChoices(provider?: string): Promise<DirectoryChoice[]> {
    const index = await readIndex(this.configDir);
    const choices: DirectoryChoice[] = [];
    for (const [dir, byProvider] of Object.entries(index.directories ?? {})) {
      for (const [id, account] of Object.entries(byProvider)) {
        if (provider === undefined || id === provider) choices.push({ provider: id, dir, account });
      }
    }
    return choices.sort((a, b) => a.provider.localeCompare(b.provider) || a.dir.localeCompare(b.dir));
  }

  /** Makes a stored account the provider's default, under the lock. Unknown account: `unknownAccount`. */
  async setDefault(provider: string, account: string): Promise<AccountRecord> {
    validateIds(provider, account);
    return this.updateIndex(provider, account, (index, record) => {
      return {
        result: { ...record! },
        index: { ...index, active: { ...index.active, [provider]: account } },
      };
    });
  }

  /**
   * Records (or with `account` undefined removes) the account used for `provider` in `dir` and below, under
   * the lock. `dir` is made absolute and, when it exists, resolved through symlinks, so the choice matches
   * the working directory the kernel reports. Unknown account: `unknownAccount`.
   */
  async setDirectoryChoice(provider: string, dir: string, account: string | undefined): Promise<void> {
    validateIds(provider, account ?? '-');
    let where = resolve(dir);
    try {
      where = realpathSync(where);
    } catch {
      // Not there (yet): the absolute path as given.
    }
    await this.updateIndex(provider, account, (index) => {
      const directories = { ...index.directories };
      const choices = { ...directories[where] };
      if (account === undefined) delete choices[provider];
      else choices[provider] = account;
      directories[where] = choices;
      return { result: undefined, index: { ...index, directories } };
    });
  }

  /** A read-modify-write of the index alone, under the lock; a named account must be stored. */
  private async updateIndex<T>(
    provider: string,
    account: string | undefined,
    change: (index: IndexDocument, record: AccountRecord | undefined) => { result: T; index: IndexDocument },
  ): Promise<T> {
    const check = (index: IndexDocument): AccountRecord | undefined => {
      if (account === undefined) return undefined;
      const names = index.accounts.filter((r) => r.provider === provider).map((r) => r.account);
      const name = matchAccount(account, names);
      const record = index.accounts.find((r) => r.provider === provider && r.account === name);
      if (record !== undefined) return record;
      throw unknownAccount(provider, account, names);
    };
    if (!this.hasIndexFile()) {
      const seen = await this.view();
      // Nothing stored yet: don't create the config directory just to find that out.
      if (seen.accounts.length === 0) return change(seen, check(seen)).result;
    }
    await ensureConfigDir(this.configDir);
    return this.locked(async () => {
      const index = await this.view();
      const { result, index: next } = change(index, check(index));
      await writeIndex(this.configDir, next);
      return result;
    });
  }

  private hasIndexFile(): boolean {
    try {
      accessSync(indexPath(this.configDir));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The index as the commands see it: accounts.json, and with a pass store in use (LATCHKEY_STORAGE=pass,
   * or a store this config directory stored into) every `latchkey/<provider>/<account>` entry of the store
   * as an account of its own, found from the file names (nothing decrypted; the record comes with the
   * secret). A local account of the same name comes first. A provider with pass accounts and no default
   * here gets its first account by name as the default: the default is a personal choice, kept locally.
   */
  private async view(): Promise<IndexDocument> {
    return this.withPass(await readIndex(this.configDir));
  }

  private withPass(index: IndexDocument): IndexDocument {
    const dir =
      this.preference === 'pass' || index.passStore !== undefined
        ? passStoreDir(this.env, index.passStore)
        : undefined;
    if (dir === undefined) return index;
    const local = new Set(index.accounts.map((r) => `${r.provider}\0${r.account}`));
    const found = listPassEntries(dir).filter((ref) => !local.has(`${ref.provider}\0${ref.account}`));
    if (found.length === 0) return index;
    const accounts: AccountRecord[] = [
      ...index.accounts,
      ...found.map((ref) => ({
        provider: ref.provider,
        account: ref.account,
        backend: 'pass' as const,
        store: dir,
        createdAt: new Date(ref.mtimeMs).toISOString(),
      })),
    ];
    const active = { ...index.active };
    for (const { provider } of found) {
      const current = ownValue(active, provider);
      if (current !== undefined && accounts.some((r) => r.provider === provider && r.account === current))
        continue;
      const first = accounts
        .filter((r) => r.provider === provider)
        .map((r) => r.account)
        .sort()[0];
      if (first !== undefined) active[provider] = first;
    }
    return { ...index, accounts, active };
  }

  private async readSecret(record: AccountRecord): Promise<StoredCredential> {
    if (record.backend === 'pass') return this.readPass(record);
    const stored = await (await this.backend(record.backend)).get(secretKey(record.provider, record.account));
    if (stored === undefined) throw missingCredentialError(record.provider, record.account, record.backend);
    const bound = decodeBoundSecret(stored);
    if ('legacy' in bound) {
      registerSecret(bound.legacy);
      await this.bindLegacy(record, bound.legacy);
      return { record: { ...record }, secret: bound.legacy };
    }
    registerSecret(bound.secret);
    if (bound.refreshToken !== undefined) registerSecret(bound.refreshToken);
    const indexUrl = record.baseUrl ?? null;
    if (bound.baseUrl !== indexUrl) {
      throw tamperedError(
        indexPath(this.configDir),
        record.provider,
        record.account,
        indexUrl,
        bound.baseUrl,
        bound.dir !== undefined && bound.dir !== this.configDir ? bound.dir : undefined,
      );
    }
    return {
      record: { ...record },
      secret: bound.secret,
      ...(bound.refreshToken !== undefined && { refreshToken: bound.refreshToken }),
      ...(bound.endpoints !== undefined && { endpoints: bound.endpoints }),
    };
  }

  /** A pass account: its entry is its record (pass-backend.ts refuses one that disagrees with its name). */
  private async readPass(record: AccountRecord): Promise<StoredCredential> {
    const store = record.store ?? passStoreDir(this.env);
    const entry = await (await this.passBackend(store)).read(record.provider, record.account);
    if (entry === undefined) throw missingCredentialError(record.provider, record.account, 'pass');
    return {
      record: { ...entry.record, store },
      secret: entry.secret,
      ...(entry.refreshToken !== undefined && { refreshToken: entry.refreshToken }),
      ...(entry.endpoints !== undefined && { endpoints: entry.endpoints }),
    };
  }

  /**
   * Replaces an account's tokens after a refresh, under the config-dir lock, so that concurrent processes
   * refresh once: `renew` gets the credential as stored now (re-read after the lock is taken: another
   * process may have refreshed it, or recorded a failed refresh, meanwhile) and returns new tokens,
   * `{ failure }` to record a failed refresh in the index record (`refreshFailure`, for the processes that
   * waited on this one), or undefined to keep what is stored. The secret stays in its backend, bound to the
   * same base URL; the index gets the new expiry and loses any recorded failure. Returns the credential as
   * stored afterwards. Unknown account: undefined (it was logged out meanwhile).
   */
  async renew(
    provider: string,
    account: string,
    renew: (current: StoredCredential) => Promise<RenewOutcome>,
  ): Promise<StoredCredential | undefined> {
    validateIds(provider, account);
    await ensureConfigDir(this.configDir);
    return this.locked(async () => {
      const index = await this.view();
      const found = findRecord(index, provider, account);
      if (found === undefined) return undefined;
      const current = await this.readSecret(found);
      // A pass account's full record comes with its entry.
      const record = found.backend === 'pass' ? current.record : found;
      const next = await renew(current);
      if (next === undefined) return current;
      if ('failure' in next) {
        // Only the record changes: the tokens stay as they are, for a retry after the back-off.
        const failed: AccountRecord = { ...record, refreshFailure: { ...next.failure } };
        if (failed.backend === 'pass') {
          await this.writeSecret(failed, {
            secret: current.secret,
            baseUrl: record.baseUrl ?? null,
            ...(current.refreshToken !== undefined && { refreshToken: current.refreshToken }),
            ...(current.endpoints !== undefined && { endpoints: current.endpoints }),
          });
        } else {
          await writeIndex(this.configDir, {
            ...index,
            accounts: index.accounts.map((r) => (r === found ? failed : r)),
          });
        }
        return { ...current, record: { ...failed } };
      }
      registerSecret(next.secret);
      if (next.refreshToken !== undefined) registerSecret(next.refreshToken);
      const baseUrl = record.baseUrl ?? null;
      const refresh = next.refreshToken !== undefined ? { refreshToken: next.refreshToken } : {};
      const endpoints = next.endpoints ?? current.endpoints;
      const bound = { ...refresh, ...(endpoints !== undefined && { endpoints }) };
      const updated: AccountRecord = { ...record };
      delete updated.expiresAt;
      delete updated.refreshable;
      delete updated.refreshFailure;
      updated.renewedAt = new Date(this.now()).toISOString();
      if (next.expiresAt !== undefined) updated.expiresAt = next.expiresAt;
      if (next.refreshToken !== undefined) updated.refreshable = true;
      await this.writeSecret(updated, { secret: next.secret, baseUrl, ...bound });
      if (updated.backend !== 'pass') {
        await writeIndex(this.configDir, {
          ...index,
          accounts: index.accounts.map((r) => (r === found ? updated : r)),
        });
      }
      return { record: { ...updated }, secret: next.secret, ...bound };
    });
  }

  /**
   * Secrets stored before the binding are bound on first read (trust on first use) to the base URL the
   * index names now, which the permission checks have just vetted. Under the lock, and only if nothing
   * changed meanwhile; best effort with a short wait: an unbound secret is still served this time.
   */
  private async bindLegacy(record: AccountRecord, secret: string): Promise<void> {
    const key = secretKey(record.provider, record.account);
    await withLock(
      this.configDir,
      async () => {
        const now = findRecord(await readIndex(this.configDir), record.provider, record.account);
        if (now?.backend !== record.backend || now.baseUrl !== record.baseUrl) return;
        if ((await (await this.backend(record.backend)).get(key)) !== secret) return;
        await this.writeSecret(record, { secret, baseUrl: record.baseUrl ?? null });
      },
      { timeoutMs: 1_000 },
    ).catch(() => undefined);
  }

  /**
   * Index only: no secret is read and the keychain library is not loaded. A pass account is listed from
   * its entry's name (`backend`, `store`, and the entry file's time as `createdAt`); the rest of its record
   * comes with its secret (`get`).
   */
  async list(provider?: string): Promise<Array<AccountRecord & { active: boolean }>> {
    const index = await this.view();
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
    // Nothing stored yet: don't create the config directory just to find that out.
    if (!this.hasIndexFile() && (await this.view()).accounts.length === 0) return [];
    await ensureConfigDir(this.configDir);
    return this.locked(async () => {
      const index = await this.view();
      // Under the lock no write is under way: every temp file is a leftover, a live pid's included.
      await removeStrayTempFiles(this.configDir, this.now(), { all: true });
      const targets =
        account === 'all'
          ? index.accounts.filter((r) => r.provider === provider)
          : [findRecord(index, provider, account)].filter((r): r is AccountRecord => r !== undefined);
      const removed: AccountRecord[] = [];
      let failure: unknown;
      for (const record of targets) {
        try {
          await this.deleteSecret(record);
          removed.push(record);
        } catch (error) {
          failure = error; // e.g. keychain locked: keep this entry, so the secret isn't orphaned.
          break;
        }
      }
      if (removed.length > 0) {
        const gone = new Set(removed.map((r) => r.account));
        const accounts = index.accounts.filter((r) => !(r.provider === provider && gone.has(r.account)));
        // A directory choice of a removed account goes with it (a later login of the same name starts clean).
        const directories = Object.fromEntries(
          Object.entries(index.directories ?? {}).map(([dir, choices]) => [
            dir,
            Object.fromEntries(
              Object.entries(choices).filter(([id, name]) => !(id === provider && gone.has(name))),
            ),
          ]),
        );
        const active = { ...index.active };
        const current = active[provider];
        if (current === undefined || gone.has(current)) {
          const next = accounts
            .filter((r) => r.provider === provider)
            .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))[0];
          if (next === undefined) delete active[provider];
          else active[provider] = next.account;
        }
        await writeIndex(this.configDir, { ...index, accounts, active, directories });
        await this.deleteUnusedFiles(accounts);
      }
      if (failure !== undefined) throw failure;
      return removed.map((r) => ({ ...r }));
    });
  }

  /**
   * Moves accounts (all, one provider's, or those named `account`) to the backend `to`, one at a time,
   * under the config-dir lock: each is read from where it is, written to `to`, read back and compared, and
   * only then the index points at the new copy, and only then the old one is deleted. Killed at any point,
   * every account is still readable from at least one backend: before the index changes it is the old
   * copy (a new one is an orphan, or for pass an entry the local record still comes before), after it the
   * new one (the old one is left as an orphan). A second run finishes the job: an account already in `to`
   * only loses the copies left in other backends. An account that cannot be moved is reported and the
   * others still move; it stays where it was. A pass account moved out of pass leaves the team's store.
   */
  async migrate(
    to: BackendName,
    filter: { provider?: string; account?: string } = {},
    onMoved?: (outcome: MigrateOutcome) => void,
  ): Promise<MigrateOutcome[]> {
    if (filter.provider !== undefined) validateIds(filter.provider, filter.account ?? '-');
    const wanted = (r: AccountRecord) =>
      (filter.provider === undefined || r.provider === filter.provider) &&
      (filter.account === undefined || r.account === filter.account);
    const seen = await this.view();
    if (!seen.accounts.some(wanted)) {
      if (filter.account !== undefined) {
        const names = seen.accounts.filter(
          (r) => filter.provider === undefined || r.provider === filter.provider,
        );
        throw unknownAccount(
          filter.provider ?? 'any provider',
          filter.account,
          names.map((r) => r.account),
        );
      }
      throw nothingToMove(filter.provider);
    }
    await ensureConfigDir(this.configDir);
    return this.locked(async () => {
      let local = await readIndex(this.configDir);
      await removeStrayTempFiles(this.configDir, this.now());
      const targetStore = to === 'pass' ? passStoreDir(this.env, local.passStore) : undefined;
      const outcomes: MigrateOutcome[] = [];
      const report = (outcome: MigrateOutcome) => {
        outcomes.push(outcome);
        onMoved?.(outcome);
      };
      for (const record of this.withPass(local).accounts.filter(wanted)) {
        const { provider, account } = record;
        if (record.backend === to && (to !== 'pass' || record.store === targetStore)) {
          // Already there: copies an interrupted run left in other backends go.
          const leftovers = (await this.findOrphans(local, 'whatever the preference')).filter(
            (o) => o.provider === provider && o.account === account,
          );
          for (const leftover of leftovers) await this.deleteSecret(leftover).catch(() => undefined);
          report({ provider, account, from: to, to, status: 'already', leftoversRemoved: leftovers.length });
          continue;
        }
        try {
          const current = await this.readSecret(record);
          const from = current.record;
          const moved: AccountRecord = { ...from, backend: to };
          delete moved.store;
          if (targetStore !== undefined) moved.store = targetStore;
          const parts: BoundParts = {
            secret: current.secret,
            baseUrl: from.baseUrl ?? null,
            ...(current.refreshToken !== undefined && { refreshToken: current.refreshToken }),
            ...(current.endpoints !== undefined && { endpoints: current.endpoints }),
          };
          // 1. the copy, 2. read back and compared.
          await this.writeSecret(moved, parts);
          const back = await this.readSecret(moved);
          if (!sameCredential(back, current)) throw copyDiffers(provider, account, to);
          // 3. the index points at the copy (a pass account's record is its entry).
          const others = local.accounts.filter((r) => !(r.provider === provider && r.account === account));
          const { store, ...localRecord } = moved;
          local = {
            ...local,
            accounts: to === 'pass' ? others : [...others, localRecord],
            ...(store !== undefined && { passStore: store }),
          };
          await writeIndex(this.configDir, local);
          // 4. the old copy goes. The account has moved whatever happens here: a copy that stays is an
          // orphan, which the next run (or logout --all) removes.
          let oldCopyKept: LatchkeyError | undefined;
          try {
            await this.deleteSecret(from.backend === 'pass' ? { ...from, store: record.store } : from);
            await this.deleteUnusedFiles(local.accounts);
          } catch (error) {
            if (!isLatchkeyError(error)) throw error;
            oldCopyKept = error;
          }
          report({
            provider,
            account,
            from: from.backend,
            to,
            status: 'moved',
            ...(oldCopyKept !== undefined && { oldCopyKept }),
          });
        } catch (error) {
          const failure = toLatchkeyError(error);
          // A usage error (no passphrase and no terminal, a bad setting) or Ctrl-C would stop every
          // account alike: the run stops; what has moved stays moved.
          if (failure.exitCode === ExitCode.Usage || failure.code === 'CANCELLED') throw failure;
          report({ provider, account, from: record.backend, to, status: 'failed', error: failure });
        }
      }
      return outcomes;
    });
  }

  /**
   * Secrets no index record points to (a crash between writing a secret and the index): entries of the
   * encrypted file, and keychain items this config directory wrote (found through the keyring's search;
   * skipped with preference 'file' and when the keychain can't be searched). No secret is returned.
   * `keychain: 'if-used'` searches the keychain only when the index has a keychain account or the
   * preference is 'keychain', so a file-only user never waits on the keychain (`auth status`).
   */
  async orphans(options: { keychain?: 'always' | 'if-used' } = {}): Promise<OrphanedSecret[]> {
    const index = await readIndex(this.configDir);
    const used = this.preference === 'keychain' || index.accounts.some((r) => r.backend === 'keychain');
    return this.findOrphans(index, options.keychain !== 'if-used' || used);
  }

  /**
   * `logout --all`'s clean-up: deletes orphaned secrets (of one provider, or all) and stray temp files,
   * and the encrypted file and its key when no account uses them. Returns the orphans removed.
   */
  async removeOrphans(provider?: string): Promise<OrphanedSecret[]> {
    const wanted = (o: OrphanedSecret) => provider === undefined || o.provider === provider;
    if (!(await this.orphans()).some(wanted) && !(await this.hasLeftovers())) return [];
    await ensureConfigDir(this.configDir);
    return this.locked(async () => {
      const index = await readIndex(this.configDir);
      await removeStrayTempFiles(this.configDir, this.now(), { all: true });
      const removed: OrphanedSecret[] = [];
      for (const orphan of (await this.findOrphans(index)).filter(wanted)) {
        await this.deleteSecret(orphan);
        removed.push(orphan);
      }
      await this.deleteUnusedFiles(index.accounts);
      return removed;
    });
  }

  private async hasLeftovers(): Promise<boolean> {
    let names: string[];
    try {
      names = readdirSync(this.configDir);
    } catch {
      return false;
    }
    const index = await readIndex(this.configDir);
    const used = (backend: BackendName) => index.accounts.some((r) => r.backend === backend);
    return names.some(
      (n) =>
        n.endsWith('.tmp') ||
        (!used('file') && (n === 'credentials.enc' || n === 'credentials.key')) ||
        (!used('passphrase') && n === PASSPHRASE_FILE),
    );
  }

  private async findOrphans(
    index: IndexDocument,
    searchKeychain: boolean | 'whatever the preference' = true,
  ): Promise<OrphanedSecret[]> {
    const used = new Set(index.accounts.map((r) => `${r.backend}\0${secretKey(r.provider, r.account)}`));
    const orphans: OrphanedSecret[] = [];
    const add = (backend: BackendName, key: string) => {
      const at = key.indexOf(':');
      if (at <= 0 || used.has(`${backend}\0${key}`)) return;
      orphans.push({ provider: key.slice(0, at), account: key.slice(at + 1), backend });
    };
    for (const key of await this.file.keys()) add('file', key);
    if (this.hasPassphraseFile()) {
      for (const key of await (await this.local('passphrase')).keys()) add('passphrase', key);
    }
    // Only auto and keychain use the keychain: the other preferences never touch it.
    const keychainUsed = this.preference === 'auto' || this.preference === 'keychain';
    if (searchKeychain === 'whatever the preference' || (searchKeychain && keychainUsed)) {
      const items = await (this.keychain().findAll?.() ?? Promise.resolve([])).catch(() => []);
      for (const item of items) {
        // Only items this directory wrote: another config directory's index may own the rest.
        const bound = decodeBoundSecret(item.secret);
        if (!('legacy' in bound) && bound.dir === this.configDir) add('keychain', item.key);
      }
    }
    return orphans;
  }

  /**
   * No account keeps its secret in the file (or the passphrase file) any more: that file (and the key) go,
   * nothing is left to decrypt.
   */
  private async deleteUnusedFiles(accounts: AccountRecord[]): Promise<void> {
    for (const backend of ['file', 'passphrase'] as const) {
      if (accounts.some((r) => r.backend === backend)) continue;
      if (backend === 'passphrase' && !this.hasPassphraseFile()) continue;
      try {
        await (await this.local(backend)).deleteFilesLocked();
      } catch (error) {
        // A corrupt credentials file is left as it is, for the user to inspect (docs/storage.md).
        if (!isLatchkeyError(error) || error.code !== 'STORAGE_CORRUPT') throw error;
      }
    }
  }

  /**
   * Changes the passphrase of the passphrase file under the lock (`latchkey auth passphrase`): the current
   * passphrase must open it (else PASSPHRASE_WRONG, exit 4, nothing changed); every entry is re-encrypted
   * under the new one in one atomic write.
   */
  async changePassphrase(): Promise<{ entries: number; params: ScryptParams }> {
    await ensureConfigDir(this.configDir);
    return this.locked(async () => {
      await removeStrayTempFiles(this.configDir, this.now());
      return (await this.passphraseBackend()).changePassphraseLocked();
    });
  }

  /**
   * The passphrase file's state for `doctor`: undefined without one; its scrypt parameters, and whether
   * LATCHKEY_FILE_PASSPHRASE opens it (undefined when that is not set). Nothing is asked or decrypted.
   */
  async passphraseFileState(): Promise<{ params: ScryptParams; opens: boolean | undefined } | undefined> {
    if (!this.hasPassphraseFile()) return undefined;
    const backend = await this.passphraseBackend();
    const params = await backend.params();
    return params === undefined ? undefined : { params, opens: await backend.opensWithEnv() };
  }

  /** The pass store this config directory uses (LATCHKEY_STORAGE=pass, or one it stored into), for `doctor`. */
  async passStore(): Promise<PassStoreState | undefined> {
    const index = await readIndex(this.configDir);
    if (this.preference !== 'pass' && index.passStore === undefined) return undefined;
    return passStoreState(passStoreDir(this.env, index.passStore));
  }

  /** Whether the `pass` command runs here (`pass version`), for `doctor`. */
  async passInstalled(): Promise<boolean> {
    this.passModule ??= import('./backends/pass-backend.js');
    return (await this.passModule).passInstalled(this.env);
  }

  private hasPassphraseFile(): boolean {
    return existsSync(join(this.configDir, PASSPHRASE_FILE));
  }

  /** The passphrase backend, its code loaded on first use (the keychain and file paths never load it). */
  private passphraseBackend(): Promise<PassphraseFileBackend> {
    this.passphraseFile ??= import('./backends/passphrase-backend.js').then(
      (m) => new m.PassphraseFileBackend(this.configDir, { env: this.env, ask: this.askPassphrase }),
    );
    return this.passphraseFile;
  }

  private async local(name: 'file' | 'passphrase'): Promise<LocalBackend> {
    return name === 'file' ? this.file : this.passphraseBackend();
  }

  /** Writes a bound secret to `backend` (the caller holds the lock); keychain items also name the config dir. */
  private async writeSecret(record: AccountRecord, parts: BoundParts): Promise<void> {
    const key = secretKey(record.provider, record.account);
    if (record.backend === 'keychain') {
      await this.keychain().set(key, encodeBoundSecret({ ...parts, dir: this.configDir }));
    } else if (record.backend === 'pass') {
      const { store, ...entry } = record;
      await (await this.passBackend(store ?? passStoreDir(this.env))).write(entry as AccountRecord, parts);
    } else {
      await (await this.local(record.backend)).setLocked(key, encodeBoundSecret(parts));
    }
  }

  /** The pass backend for a store, its code loaded on first use (it runs pass and gpg). */
  private async passBackend(dir: string): Promise<PassBackend> {
    this.passModule ??= import('./backends/pass-backend.js');
    const { PassBackend } = await this.passModule;
    return new PassBackend(dir, this.env);
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const options: LockOptions = {};
    if (this.onLockWait !== undefined) options.onWait = this.onLockWait;
    return withLock(this.configDir, fn, options);
  }

  /** Where a key's secret is kept; a pass account is read through its entry instead (`readPass`). */
  private async backend(name: BackendName): Promise<SecretBackend> {
    if (name === 'pass') throw new Error('a pass account is read through its entry');
    return name === 'keychain' ? this.keychain() : this.local(name);
  }

  private keychain(): SecretBackend {
    if (this.injectedKeychain !== undefined) return this.injectedKeychain;
    this.defaultKeychain ??= createKeychainBackend(this.service);
    return this.defaultKeychain;
  }

  private async deleteSecret(where: {
    provider: string;
    account: string;
    backend: BackendName;
    store?: string;
  }): Promise<boolean> {
    const { backend } = where;
    if (backend === 'pass') {
      return (await this.passBackend(where.store ?? passStoreDir(this.env))).remove(
        where.provider,
        where.account,
      );
    }
    const key = secretKey(where.provider, where.account);
    return backend === 'keychain'
      ? this.keychain().delete(key)
      : (await this.local(backend)).deleteLocked(key);
  }
}

/** What `migrate` did with one account. */
export interface MigrateOutcome {
  provider: string;
  account: string;
  from: BackendName;
  to: BackendName;
  /** moved; already in `to` (copies an interrupted run left elsewhere were removed); or failed (it stays). */
  status: 'moved' | 'already' | 'failed';
  leftoversRemoved?: number;
  /** Moved, but the old copy could not be deleted (why): the next run removes it. */
  oldCopyKept?: LatchkeyError;
  error?: LatchkeyError;
}

function sameCredential(a: StoredCredential, b: StoredCredential): boolean {
  return (
    a.secret === b.secret &&
    a.refreshToken === b.refreshToken &&
    (a.record.baseUrl ?? null) === (b.record.baseUrl ?? null) &&
    JSON.stringify(a.endpoints ?? null) === JSON.stringify(b.endpoints ?? null)
  );
}

function copyDiffers(provider: string, account: string, to: BackendName): LatchkeyError {
  return new LatchkeyError({
    code: 'MIGRATE_VERIFY_FAILED',
    message: `The copy of ${provider} account '${account}' in ${backendPlace(to)} does not read back as it was written; the account stays where it was.`,
    action: 'Check that backend (latchkey doctor), then run the migration again.',
    exitCode: ExitCode.Failure,
    docs: DOCS,
  });
}

function nothingToMove(provider: string | undefined): LatchkeyError {
  return new LatchkeyError({
    code: 'NOT_SIGNED_IN',
    message: `Nothing is stored${provider === undefined ? '' : ` for ${provider}`}: there is no account to move.`,
    action: 'Sign in first (latchkey auth login); `latchkey auth status` shows what is stored.',
    exitCode: ExitCode.Auth,
    docs: DOCS,
  });
}

/** The chosen account's record and why it was chosen (`CredentialStore.choose`). */
export interface ChosenRecord {
  record: AccountRecord;
  chosenBy: ChosenBy;
  /** The variable name (env) or the directory (directory). */
  detail?: string;
}

/** A directory choice: `account` is used for `provider` in `dir` and below. */
export interface DirectoryChoice {
  provider: string;
  dir: string;
  account: string;
}

function chosenRecord(
  index: IndexDocument,
  provider: string,
  options: ChooseAccountOptions,
): ChosenRecord | undefined {
  const chosen = chooseAccount(index, provider, options);
  if (chosen === undefined) return undefined;
  const mine = index.accounts.filter((r) => r.provider === provider);
  const name = matchAccount(
    chosen.account,
    mine.map((r) => r.account),
  );
  const record = mine.find((r) => r.account === name);
  if (record === undefined) {
    // A default naming no record: an index edited by hand; nothing usable is stored.
    if (chosen.chosenBy === 'default') return undefined;
    throw unknownAccount(
      provider,
      chosen.account,
      mine.map((r) => r.account),
    );
  }
  return {
    record: { ...record },
    chosenBy: chosen.chosenBy,
    ...(chosen.detail !== undefined && { detail: chosen.detail }),
  };
}

function ownValue(map: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

function findRecord(
  index: IndexDocument,
  provider: string,
  account: string | undefined,
): AccountRecord | undefined {
  const wanted = account ?? ownValue(index.active, provider);
  if (wanted === undefined) return undefined;
  const mine = index.accounts.filter((r) => r.provider === provider);
  const name = matchAccount(
    wanted,
    mine.map((r) => r.account),
  );
  return mine.find((r) => r.account === name);
}

function validateIds(provider: string, account: string): void {
  if (typeof provider !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(provider)) {
    throw usageError(
      `Invalid provider id '${String(provider)}'.`,
      'Use a provider id such as acme (letters, digits, . _ -).',
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
