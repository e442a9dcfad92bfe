import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { corruptError, ioError } from '../storage-errors.js';
import { ensureConfigDir, readOwnFile, writeFileAtomic } from '../fs-util.js';
import { withLock } from '../lock.js';
import type { SecretBackend } from '../types.js';
import { nodeCrypto } from '../crypto.js';
import { isSealedEntry, open, readSealedDocument, seal, type Crypto, type SealedEntry } from './sealed.js';

export const CREDENTIALS_FILE = 'credentials.enc';
export const KEY_FILE = 'credentials.key';
/** The passphrase backend's file (backends/passphrase-backend.ts, loaded only when used). */
export const PASSPHRASE_FILE = 'credentials.passphrase.enc';
const VERSION = 1;

interface CredentialsDocument {
  version: number;
  /** Which key encrypted the entries (first 16 hex digits of its SHA-256): tells "wrong key" from tampering. */
  keyId: string;
  entries: Record<string, SealedEntry>;
}

/**
 * Secrets encrypted with AES-256-GCM, one random IV per entry and the entry's key as associated data (an
 * entry can't be moved to another account). The 32-byte key is random and lives in a separate 0600 file.
 * Both files are checked for mode 0600 (and the directory for 0700) on every read.
 *
 * The `SecretBackend` methods take the config-dir lock themselves; `CredentialStore` uses the `*Locked`
 * variants inside its own lock.
 */
export class EncryptedFileBackend implements SecretBackend {
  readonly name = 'file' as const;
  readonly file: string;
  readonly keyFile: string;

  constructor(readonly configDir: string) {
    this.file = join(configDir, CREDENTIALS_FILE);
    this.keyFile = join(configDir, KEY_FILE);
  }

  async get(key: string): Promise<string | undefined> {
    const doc = await this.readDocument();
    const entry = doc?.entries[key];
    if (doc === undefined || entry === undefined) return undefined;
    const cryptoKey = await this.readKey(true);
    if (cryptoKey === undefined)
      throw corruptError(this.keyFile, `the key file is missing but ${this.file} holds credentials`);
    return this.decrypt(await nodeCrypto(), doc, cryptoKey, key, entry);
  }

  async set(key: string, secret: string): Promise<void> {
    await ensureConfigDir(this.configDir);
    await withLock(this.configDir, () => this.setLocked(key, secret));
  }

  async delete(key: string): Promise<boolean> {
    await ensureConfigDir(this.configDir);
    return withLock(this.configDir, () => this.deleteLocked(key));
  }

  /** `set` for a caller that already holds the lock. */
  async setLocked(key: string, secret: string): Promise<void> {
    const existing = await this.readDocument();
    let cryptoKey = await this.readKey(existing !== undefined && Object.keys(existing.entries).length > 0);
    if (cryptoKey === undefined) cryptoKey = await this.createKey();
    const crypto = await nodeCrypto();
    const keyId = keyIdOf(crypto, cryptoKey);
    if (existing !== undefined && Object.keys(existing.entries).length > 0 && existing.keyId !== keyId) {
      throw corruptError(this.file, `it was encrypted with a different key than the one in ${this.keyFile}`);
    }
    const doc: CredentialsDocument = { version: VERSION, keyId, entries: { ...existing?.entries } };
    doc.entries[key] = seal(crypto, cryptoKey, aadOf(key), secret);
    await writeFileAtomic(this.file, `${JSON.stringify(doc, null, 2)}\n`);
  }

  /** `delete` for a caller that already holds the lock. */
  async deleteLocked(key: string): Promise<boolean> {
    const existing = await this.readDocument();
    if (existing === undefined || existing.entries[key] === undefined) return false;
    const entries = { ...existing.entries };
    delete entries[key];
    await writeFileAtomic(this.file, `${JSON.stringify({ ...existing, entries }, null, 2)}\n`);
    return true;
  }

  /** The names of the entries (`<provider>:<account>`); nothing is decrypted. */
  async keys(): Promise<string[]> {
    return Object.keys((await this.readDocument())?.entries ?? {});
  }

  /**
   * Deletes `credentials.enc` and `credentials.key` (the caller holds the lock and knows no account uses
   * them). A corrupt credentials file is never deleted: it throws STORAGE_CORRUPT and both files stay.
   */
  async deleteFilesLocked(): Promise<boolean> {
    const doc = await this.readDocument();
    let deleted = doc !== undefined;
    for (const file of [this.file, this.keyFile]) {
      try {
        rmSync(file);
        deleted = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(file, 'delete', error);
      }
    }
    return deleted;
  }

  private async readDocument(): Promise<CredentialsDocument | undefined> {
    const doc = await readSealedDocument<CredentialsDocument>(this.file, this.configDir, VERSION);
    if (doc === undefined) return undefined;
    if (
      typeof doc.keyId !== 'string' ||
      typeof doc.entries !== 'object' ||
      doc.entries === null ||
      Array.isArray(doc.entries)
    ) {
      throw corruptError(this.file, 'its structure is not what latchkey writes');
    }
    if (!Object.values(doc.entries).every(isSealedEntry))
      throw corruptError(this.file, 'an entry is malformed');
    return doc as CredentialsDocument;
  }

  /** The key, or undefined when there is no key file. A malformed key file is corrupt (never replaced). */
  private async readKey(required: boolean): Promise<Buffer | undefined> {
    const raw = await readOwnFile(this.keyFile, true);
    if (raw === undefined) {
      if (required)
        throw corruptError(this.keyFile, `the key file is missing but ${this.file} holds credentials`);
      return undefined;
    }
    const key = Buffer.from(raw.toString('utf8').trim(), 'base64');
    if (key.length !== 32) throw corruptError(this.keyFile, 'it does not hold a 32-byte key');
    return key;
  }

  private async createKey(): Promise<Buffer> {
    const key = (await nodeCrypto()).randomBytes(32);
    await writeFileAtomic(this.keyFile, `${key.toString('base64')}\n`);
    return key;
  }

  private decrypt(
    crypto: Crypto,
    doc: CredentialsDocument,
    cryptoKey: Buffer,
    key: string,
    entry: SealedEntry,
  ): string {
    try {
      return open(crypto, cryptoKey, aadOf(key), entry);
    } catch (error) {
      // keyId only explains a failure: an entry that authenticates under the key is read whatever it says.
      if (doc.keyId !== keyIdOf(crypto, cryptoKey)) {
        throw corruptError(
          this.file,
          `it was encrypted with a different key than the one in ${this.keyFile}`,
        );
      }
      throw corruptError(
        this.file,
        `the entry for '${key}' failed to decrypt (it was modified or damaged)`,
        error,
      );
    }
  }
}

function aadOf(key: string): Buffer {
  return Buffer.from(`latchkey credentials v${VERSION}\0${key}`, 'utf8');
}

function keyIdOf(crypto: Crypto, key: Buffer): string {
  return crypto.createHash('sha256').update(key).digest('hex').slice(0, 16);
}
