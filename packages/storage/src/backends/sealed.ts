import type { nodeCrypto } from '../crypto.js';
import { checkDirSafe, readOwnFile } from '../fs-util.js';
import { corruptError } from '../storage-errors.js';

/** node:crypto, as `nodeCrypto()` loads it. */
export type Crypto = Awaited<ReturnType<typeof nodeCrypto>>;

/** One AES-256-GCM sealed value, as the credential files store it. */
export interface SealedEntry {
  /** 12-byte GCM nonce, base64. */
  iv: string;
  /** 16-byte GCM tag, base64. */
  tag: string;
  /** Ciphertext, base64. */
  data: string;
}

const isB64 = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value);

/** The shape latchkey writes (three base64 strings); nothing is decrypted. */
export function isSealedEntry(value: unknown): value is SealedEntry {
  const e = value as Partial<SealedEntry> | null;
  return typeof e === 'object' && e !== null && isB64(e.iv) && isB64(e.tag) && isB64(e.data);
}

/**
 * AES-256-GCM through node:crypto (OpenSSL), a fresh random 96-bit IV per call; `aad` (associated data,
 * e.g. the entry's name) is authenticated, so a sealed value can't be moved to another name.
 */
export function seal(crypto: Crypto, key: Buffer, aad: Buffer, plaintext: string): SealedEntry {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

/** The plaintext; throws (OpenSSL's error) when the tag does not authenticate under `key` and `aad`. */
export function open(crypto: Crypto, key: Buffer, aad: Buffer, entry: SealedEntry): string {
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(entry.iv, 'base64'), {
    authTagLength: 16,
  });
  decipher.setAAD(aad);
  decipher.setAuthTag(Buffer.from(entry.tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(entry.data, 'base64')), decipher.final()]).toString(
    'utf8',
  );
}

/**
 * A sealed file's JSON document, read with the config dir's checks (owner, mode), or undefined when there
 * is none: a JSON object of `version`, else STORAGE_CORRUPT. Its fields are the caller's to check.
 */
export async function readSealedDocument<T extends { version: number }>(
  file: string,
  configDir: string,
  version: number,
): Promise<Partial<T> | undefined> {
  const raw = await readOwnFile(file, true);
  if (raw === undefined) return undefined;
  await checkDirSafe(configDir);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw corruptError(file, 'it is not valid JSON', error);
  }
  const doc = parsed as Partial<T> | null;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw corruptError(file, 'it is not a JSON object');
  if (doc.version !== version)
    throw corruptError(file, `unsupported version ${JSON.stringify(doc.version)} (expected ${version})`);
  return doc;
}
