// The passphrase file (`LATCHKEY_STORAGE=passphrase`): loaded only when an account uses it (store.ts imports
// this module lazily), so the keychain and file paths load nothing new.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, LatchkeyError, registerSecret, usageError } from '@latchkey/errors';
import { nodeCrypto } from '../crypto.js';
import { ensureConfigDir, writeFileAtomic } from '../fs-util.js';
import { withLock } from '../lock.js';
import { corruptError, DOCS, ioError } from '../storage-errors.js';
import type { PassphraseAsker, SecretBackend } from '../types.js';
import { PASSPHRASE_FILE } from './file-backend.js';
import { isSealedEntry, open, readSealedDocument, seal, type Crypto, type SealedEntry } from './sealed.js';

export const PASSPHRASE_VARIABLE = 'LATCHKEY_FILE_PASSPHRASE';
export const NEW_PASSPHRASE_VARIABLE = 'LATCHKEY_FILE_NEW_PASSPHRASE';
export const SCRYPT_N_VARIABLE = 'LATCHKEY_FILE_SCRYPT_N';
const VERSION = 1;

/** scrypt's cost: N (CPU and memory, a power of two), r (block size), p (parallelism). */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** What a new file gets: OWASP's scrypt recommendation (128 MiB of memory, N = 2^17, r = 8, p = 1). */
export const SCRYPT_DEFAULT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };
/**
 * The floor: nothing weaker is written or read (32 MiB, N = 2^15, r = 8, p = 1, the figure Go's
 * x/crypto/scrypt documents for interactive logins). `LATCHKEY_FILE_SCRYPT_N` tunes N from here upward.
 */
export const SCRYPT_FLOOR: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };
/** The ceiling a file may ask for (1 GiB of memory): a hostile file can't make a read take all of it. */
const SCRYPT_MAX_MEMORY = 2 ** 30;
const SCRYPT_MAX_P = 4;
/** A new passphrase is at least this long. */
export const PASSPHRASE_MIN_LENGTH = 8;

interface Kdf extends ScryptParams {
  name: 'scrypt';
  /** 16 random bytes, base64. */
  salt: string;
}

interface PassphraseDocument {
  version: number;
  kdf: Kdf;
  /** A known text sealed with the derived key: tells a wrong passphrase from a damaged entry. */
  check: SealedEntry;
  entries: Record<string, SealedEntry>;
}

const CHECK_TEXT = 'latchkey passphrase file';

export interface PassphraseBackendOptions {
  env: NodeJS.ProcessEnv;
  ask?: PassphraseAsker | undefined;
}

/**
 * Secrets encrypted with AES-256-GCM under a key derived from a passphrase with scrypt (node:crypto), the
 * parameters and salt stored in the file; no key is on disk. One file, mode 0600, every write atomic under
 * the config-dir lock. The passphrase comes from `LATCHKEY_FILE_PASSPHRASE`, else from `ask` (a terminal),
 * else the command stops with a usage error naming both; it is asked once per process and registered as a
 * secret (redacted from every message). A wrong passphrase is PASSPHRASE_WRONG (exit 4) and changes nothing.
 */
export class PassphraseFileBackend implements SecretBackend {
  readonly name = 'passphrase' as const;
  readonly file: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly ask: PassphraseAsker | undefined;
  private passphrase: Promise<{ value: string; fromEnv: boolean }> | undefined;
  /** Derived keys of this process, by parameters, salt and passphrase (a key is derived once). */
  private readonly derived = new Map<string, Promise<Buffer>>();

  constructor(
    readonly configDir: string,
    options: PassphraseBackendOptions,
  ) {
    this.file = join(configDir, PASSPHRASE_FILE);
    this.env = options.env;
    this.ask = options.ask;
  }

  async get(key: string): Promise<string | undefined> {
    const doc = await this.readDocument();
    const entry = doc?.entries[key];
    if (doc === undefined || entry === undefined) return undefined;
    const crypto = await nodeCrypto();
    return this.openEntry(crypto, await this.unlock(crypto, doc), key, entry);
  }

  async set(key: string, secret: string): Promise<void> {
    await ensureConfigDir(this.configDir);
    await withLock(this.configDir, () => this.setLocked(key, secret));
  }

  async delete(key: string): Promise<boolean> {
    await ensureConfigDir(this.configDir);
    return withLock(this.configDir, () => this.deleteLocked(key));
  }

  /**
   * `set` for a caller that holds the lock. The first entry creates the file (a new passphrase, from the
   * environment or asked twice); later ones need the passphrase that opens it. `LATCHKEY_FILE_SCRYPT_N`
   * set to another N than the file's re-encrypts every entry with the new cost and a new salt.
   */
  async setLocked(key: string, secret: string): Promise<void> {
    const crypto = await nodeCrypto();
    const existing = await this.readDocument();
    let doc: PassphraseDocument;
    let cryptoKey: Buffer;
    if (existing === undefined) {
      const passphrase = await this.newPassphrase(PASSPHRASE_VARIABLE);
      const params = this.wantedParams() ?? SCRYPT_DEFAULT;
      ({ doc, key: cryptoKey } = await this.emptyDocument(crypto, passphrase.value, params));
      this.passphrase = Promise.resolve(passphrase);
    } else {
      cryptoKey = await this.unlock(crypto, existing);
      doc = existing;
      const wanted = this.wantedParams();
      if (wanted !== undefined && wanted.N !== existing.kdf.N) {
        const passphrase = (await this.currentPassphrase()).value;
        ({ doc, key: cryptoKey } = await this.reencrypt(crypto, existing, cryptoKey, passphrase, wanted));
      }
    }
    doc.entries[key] = seal(crypto, cryptoKey, entryAad(key), secret);
    await this.write(doc);
  }

  /** `delete` for a caller that holds the lock: removing an entry needs no passphrase. */
  async deleteLocked(key: string): Promise<boolean> {
    const existing = await this.readDocument();
    if (existing === undefined || existing.entries[key] === undefined) return false;
    const entries = { ...existing.entries };
    delete entries[key];
    await this.write({ ...existing, entries });
    return true;
  }

  /** The names of the entries (`<provider>:<account>`); nothing is decrypted, no passphrase is asked. */
  async keys(): Promise<string[]> {
    return Object.keys((await this.readDocument())?.entries ?? {});
  }

  /** Deletes the file (the caller holds the lock and knows no account uses it). A corrupt file stays. */
  async deleteFilesLocked(): Promise<boolean> {
    if ((await this.readDocument()) === undefined) return false;
    try {
      rmSync(this.file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw ioError(this.file, 'delete', error);
    }
  }

  /**
   * Changes the passphrase, for a caller that holds the lock: the current one must open the file (else
   * PASSPHRASE_WRONG, nothing changed), every entry is decrypted, and all of them are sealed again under a
   * key from the new passphrase and a new salt, written in one atomic rename. A reader sees the old file or
   * the new one, never a mix. Returns how many entries were re-encrypted.
   */
  async changePassphraseLocked(): Promise<{ entries: number; params: ScryptParams }> {
    const crypto = await nodeCrypto();
    const existing = await this.readDocument();
    if (existing === undefined) throw noPassphraseFile(this.file);
    const oldKey = await this.unlock(crypto, existing);
    const next = await this.newPassphrase(NEW_PASSPHRASE_VARIABLE);
    const params = this.wantedParams() ?? { N: existing.kdf.N, r: existing.kdf.r, p: existing.kdf.p };
    const { doc } = await this.reencrypt(crypto, existing, oldKey, next.value, params);
    await this.write(doc);
    this.passphrase = Promise.resolve(next);
    return { entries: Object.keys(doc.entries).length, params };
  }

  /**
   * Whether LATCHKEY_FILE_PASSPHRASE opens the file (`latchkey doctor`): undefined when the variable is not
   * set (nothing is asked) or there is no file. Only the file's check is opened: no secret is decrypted.
   */
  async opensWithEnv(): Promise<boolean | undefined> {
    const fromEnv = this.env[PASSPHRASE_VARIABLE];
    const doc = await this.readDocument();
    if (doc === undefined || fromEnv === undefined || fromEnv === '') return undefined;
    try {
      await this.unlock(await nodeCrypto(), doc);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'PASSPHRASE_WRONG') return false;
      throw error;
    }
  }

  /** The file's scrypt parameters (undefined: no file yet); no passphrase is asked. */
  async params(): Promise<ScryptParams | undefined> {
    const doc = await this.readDocument();
    return doc === undefined ? undefined : { N: doc.kdf.N, r: doc.kdf.r, p: doc.kdf.p };
  }

  private async reencrypt(
    crypto: Crypto,
    from: PassphraseDocument,
    fromKey: Buffer,
    passphrase: string,
    params: ScryptParams,
  ): Promise<{ doc: PassphraseDocument; key: Buffer }> {
    const plain = Object.entries(from.entries).map(
      ([name, entry]) => [name, this.openEntry(crypto, fromKey, name, entry)] as const,
    );
    const { doc, key } = await this.emptyDocument(crypto, passphrase, params);
    for (const [name, secret] of plain) doc.entries[name] = seal(crypto, key, entryAad(name), secret);
    return { doc, key };
  }

  private async emptyDocument(
    crypto: Crypto,
    passphrase: string,
    params: ScryptParams,
  ): Promise<{ doc: PassphraseDocument; key: Buffer }> {
    const kdf: Kdf = { name: 'scrypt', ...params, salt: crypto.randomBytes(16).toString('base64') };
    const key = await this.derive(crypto, passphrase, kdf);
    return {
      doc: { version: VERSION, kdf, check: seal(crypto, key, CHECK_AAD, CHECK_TEXT), entries: {} },
      key,
    };
  }

  private async write(doc: PassphraseDocument): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(doc, null, 2)}\n`);
  }

  /** The key that opens `doc`, from the passphrase of this process; PASSPHRASE_WRONG when it does not. */
  private async unlock(crypto: Crypto, doc: PassphraseDocument): Promise<Buffer> {
    const passphrase = await this.currentPassphrase();
    const key = await this.derive(crypto, passphrase.value, doc.kdf);
    let opened: string | undefined;
    try {
      opened = open(crypto, key, CHECK_AAD, doc.check);
    } catch {
      opened = undefined;
    }
    if (opened !== CHECK_TEXT) throw wrongPassphrase(this.file, passphrase.fromEnv);
    return key;
  }

  private openEntry(crypto: Crypto, key: Buffer, name: string, entry: SealedEntry): string {
    try {
      return open(crypto, key, entryAad(name), entry);
    } catch (error) {
      // The passphrase opened the file's check, so this entry was changed or damaged.
      throw corruptError(
        this.file,
        `the entry for '${name}' failed to decrypt (it was modified or damaged)`,
        error,
      );
    }
  }

  private derive(crypto: Crypto, passphrase: string, kdf: Kdf): Promise<Buffer> {
    const id = crypto
      .createHash('sha256')
      .update(JSON.stringify([kdf.N, kdf.r, kdf.p, kdf.salt, passphrase]))
      .digest('hex');
    let key = this.derived.get(id);
    if (key === undefined) {
      key = new Promise<Buffer>((resolve, reject) => {
        crypto.scrypt(
          passphrase.normalize('NFC'),
          Buffer.from(kdf.salt, 'base64'),
          32,
          { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 2 * 128 * kdf.N * kdf.r },
          (error, derived) => (error ? reject(error) : resolve(derived)),
        );
      });
      this.derived.set(id, key);
    }
    return key;
  }

  /** The passphrase that opens the file: the environment's, else asked once, else a usage error. */
  private currentPassphrase(): Promise<{ value: string; fromEnv: boolean }> {
    this.passphrase ??= (async () => {
      const fromEnv = this.env[PASSPHRASE_VARIABLE];
      if (fromEnv !== undefined && fromEnv !== '') {
        registerSecret(fromEnv);
        return { value: fromEnv, fromEnv: true };
      }
      if (this.ask === undefined) throw passphraseNeeded(this.file);
      const asked = await this.ask('unlock');
      registerSecret(asked);
      return { value: asked, fromEnv: false };
    })();
    return this.passphrase;
  }

  /** A new passphrase: from `variable`, else asked (the asker confirms it), at least 8 characters. */
  private async newPassphrase(variable: string): Promise<{ value: string; fromEnv: boolean }> {
    const fromEnv = this.env[variable];
    let value: string;
    if (fromEnv !== undefined && fromEnv !== '') {
      value = fromEnv;
    } else if (this.ask !== undefined) {
      value = await this.ask('new');
    } else {
      throw passphraseNeeded(this.file, variable);
    }
    registerSecret(value);
    if ([...value].length < PASSPHRASE_MIN_LENGTH) {
      throw usageError(
        `The new passphrase is too short: it needs at least ${PASSPHRASE_MIN_LENGTH} characters.`,
        fromEnv ? `Set ${variable} to a longer passphrase.` : 'Choose a longer passphrase.',
      );
    }
    // Opening the file later takes LATCHKEY_FILE_PASSPHRASE: only a new file's passphrase can have come from it.
    return { value, fromEnv: variable === PASSPHRASE_VARIABLE && value === fromEnv };
  }

  /** `LATCHKEY_FILE_SCRYPT_N`, when set: N for a new file, a passphrase change, or to re-encrypt on write. */
  private wantedParams(): ScryptParams | undefined {
    const raw = this.env[SCRYPT_N_VARIABLE]?.trim();
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    const params = { ...SCRYPT_DEFAULT, N: n };
    if (!/^\d+$/.test(raw) || !acceptable(params)) {
      throw usageError(
        `Invalid ${SCRYPT_N_VARIABLE} value '${raw}': it must be a power of two from ${SCRYPT_FLOOR.N} (2^15) to ${SCRYPT_MAX_MEMORY / (128 * SCRYPT_DEFAULT.r)} (2^20).`,
        `Set ${SCRYPT_N_VARIABLE} to e.g. ${SCRYPT_DEFAULT.N} (the default, 2^17), or unset it.`,
      );
    }
    return params;
  }

  private async readDocument(): Promise<PassphraseDocument | undefined> {
    const doc = await readSealedDocument<PassphraseDocument>(this.file, this.configDir, VERSION);
    if (doc === undefined) return undefined;
    const kdf = doc.kdf as Partial<Kdf> | undefined;
    if (
      typeof kdf !== 'object' ||
      kdf === null ||
      kdf.name !== 'scrypt' ||
      typeof kdf.salt !== 'string' ||
      Buffer.from(kdf.salt, 'base64').length < 16
    ) {
      throw corruptError(this.file, 'its key derivation ("kdf") is not what latchkey writes');
    }
    const params = { N: kdf.N, r: kdf.r, p: kdf.p } as ScryptParams;
    if (!acceptable(params)) {
      throw corruptError(
        this.file,
        `its scrypt parameters (N=${String(kdf.N)}, r=${String(kdf.r)}, p=${String(kdf.p)}) are outside what latchkey accepts (at least N=2^15, r=8, p=1; at most 1 GiB of memory)`,
      );
    }
    if (
      !isSealedEntry(doc.check) ||
      typeof doc.entries !== 'object' ||
      doc.entries === null ||
      Array.isArray(doc.entries) ||
      !Object.values(doc.entries).every(isSealedEntry)
    ) {
      throw corruptError(this.file, 'its structure is not what latchkey writes');
    }
    return doc as PassphraseDocument;
  }
}

const CHECK_AAD = Buffer.from(`latchkey passphrase v${VERSION}\0check`, 'utf8');

function entryAad(name: string): Buffer {
  return Buffer.from(`latchkey passphrase v${VERSION}\0entry\0${name}`, 'utf8');
}

/** At least the floor, at most 1 GiB of memory and p = 4; N a power of two. */
function acceptable(params: ScryptParams): boolean {
  const { N, r, p } = params;
  return (
    Number.isSafeInteger(N) &&
    Number.isSafeInteger(r) &&
    Number.isSafeInteger(p) &&
    N >= SCRYPT_FLOOR.N &&
    (N & (N - 1)) === 0 &&
    r >= SCRYPT_FLOOR.r &&
    p >= SCRYPT_FLOOR.p &&
    p <= SCRYPT_MAX_P &&
    128 * N * r <= SCRYPT_MAX_MEMORY
  );
}

function passphraseNeeded(file: string, variable = PASSPHRASE_VARIABLE): LatchkeyError {
  return usageError(
    `The passphrase file ${file} needs ${variable === PASSPHRASE_VARIABLE ? 'its' : 'a new'} passphrase, and there is no terminal to ask it on.`,
    `Set ${variable} (for CI and scripts; keep it in your CI's secret store), or run the command in a terminal to type it.`,
  );
}

function wrongPassphrase(file: string, fromEnv: boolean): LatchkeyError {
  return new LatchkeyError({
    code: 'PASSPHRASE_WRONG',
    message: `${fromEnv ? `${PASSPHRASE_VARIABLE} does not open` : 'That passphrase does not open'} ${file}; nothing was changed.`,
    action: fromEnv
      ? `Set ${PASSPHRASE_VARIABLE} to the passphrase the file was created with (or changed to with latchkey auth passphrase).`
      : 'Try again with the passphrase the file was created with. If it is lost, so are the credentials in it: move the file aside and sign in again.',
    exitCode: ExitCode.Auth,
    docs: DOCS,
  });
}

function noPassphraseFile(file: string): LatchkeyError {
  return new LatchkeyError({
    code: 'NOT_SIGNED_IN',
    message: `There is no passphrase file (${file}): nothing is stored with LATCHKEY_STORAGE=passphrase.`,
    action:
      'Sign in with --storage passphrase first, or move accounts there: latchkey auth migrate --to passphrase',
    exitCode: ExitCode.Auth,
    docs: DOCS,
  });
}
