import { isAbsolute, join } from 'node:path';
import { corruptError } from './storage-errors.js';
import { checkConfigDir, readOwnFile, writeFileAtomic } from './fs-util.js';
import type { AccountRecord } from './types.js';

export const INDEX_FILE = 'accounts.json';
const VERSION = 1;

/** `accounts.json`: non-secret metadata only. */
export interface IndexDocument {
  version: number;
  accounts: AccountRecord[];
  /** provider id -> account label of the default ("active") account. */
  active: Record<string, string>;
  /** absolute directory -> provider id -> account: the choice for that directory tree (`auth switch --dir`). */
  directories?: Record<string, Record<string, string>>;
  /** The pass store this config directory stored into last (absolute); its entries are accounts too. */
  passStore?: string;
}

export function indexPath(configDir: string): string {
  return join(configDir, INDEX_FILE);
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isOptString = (value: unknown): boolean => value === undefined || typeof value === 'string';
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The backends an `accounts.json` record may name: a pass account lives in its store, never here. */
const LOCAL_BACKENDS: readonly string[] = ['keychain', 'file', 'passphrase'];

const isRecord = (value: unknown): value is AccountRecord => isAccountRecord(value, LOCAL_BACKENDS);

/** A record as latchkey writes it (in accounts.json, or in a pass entry), naming one of `backends`. */
export function isAccountRecord(value: unknown, backends: readonly string[]): value is AccountRecord {
  if (!isPlainObject(value)) return false;
  if (!isString(value.provider) || !isString(value.account) || !isString(value.createdAt)) return false;
  if (!isString(value.backend) || !backends.includes(value.backend)) return false;
  if (
    !isOptString(value.baseUrl) ||
    !isOptString(value.method) ||
    !isOptString(value.expiresAt) ||
    !isOptString(value.renewedAt)
  )
    return false;
  if (value.refreshable !== undefined && typeof value.refreshable !== 'boolean') return false;
  if (value.refreshFailure !== undefined && !isRefreshFailure(value.refreshFailure)) return false;
  if (value.identity !== undefined) {
    if (!isPlainObject(value.identity)) return false;
    if (!Object.values(value.identity).every(isOptString)) return false;
  }
  return true;
}

/** Longest recorded error message or action: what latchkey writes is one line of at most this. */
export const REFRESH_FAILURE_TEXT_MAX = 500;

const isIsoTime = (value: unknown): boolean => isString(value) && Number.isFinite(Date.parse(value));
const isShortText = (value: unknown): boolean =>
  // eslint-disable-next-line no-control-regex
  isString(value) && value.length <= REFRESH_FAILURE_TEXT_MAX && !/[\u0000-\u001f\u007f]/.test(value);

/** A recorded failed refresh as latchkey writes it: known exit codes, an error code, bounded one-line text. */
function isRefreshFailure(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  if (!isIsoTime(value.at) || (value.retryAt !== undefined && !isIsoTime(value.retryAt))) return false;
  if (!isString(value.code) || !/^[A-Z][A-Z0-9_]{0,63}$/.test(value.code)) return false;
  if (!isShortText(value.message) || (value.action !== undefined && !isShortText(value.action))) return false;
  if (value.exitCode !== 1 && value.exitCode !== 2 && value.exitCode !== 4) return false;
  return value.retryable === undefined || typeof value.retryable === 'boolean';
}

/**
 * Reads the index; an absent directory or file is an empty index ("not signed in"). The directory must be
 * ours with no group/other bits and the file ours and 0600, else STORAGE_INSECURE: the index says where a
 * secret is sent, so it is as sensitive as the secret. Anything else unexpected is STORAGE_CORRUPT.
 */
export async function readIndex(configDir: string): Promise<IndexDocument> {
  const file = indexPath(configDir);
  if ((await checkConfigDir(configDir)) === 'missing') return { version: VERSION, accounts: [], active: {} };
  const raw = await readOwnFile(file, true);
  if (raw === undefined) return { version: VERSION, accounts: [], active: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw corruptError(file, 'it is not valid JSON', error);
  }
  if (!isPlainObject(parsed)) throw corruptError(file, 'it is not a JSON object');
  if (parsed.version !== VERSION) {
    throw corruptError(file, `unsupported version ${JSON.stringify(parsed.version)} (expected ${VERSION})`);
  }
  if (!Array.isArray(parsed.accounts) || !parsed.accounts.every(isRecord)) {
    throw corruptError(file, 'its "accounts" list is not what latchkey writes');
  }
  if (!isPlainObject(parsed.active) || !Object.values(parsed.active).every(isString)) {
    throw corruptError(file, 'its "active" map is not what latchkey writes');
  }
  const directories = parsed.directories;
  if (
    directories !== undefined &&
    !(
      isPlainObject(directories) &&
      Object.entries(directories).every(
        ([dir, choices]) =>
          isAbsolute(dir) && isPlainObject(choices) && Object.values(choices).every(isString),
      )
    )
  ) {
    throw corruptError(file, 'its "directories" map is not what latchkey writes');
  }
  const passStore = parsed.passStore;
  if (passStore !== undefined && !(isString(passStore) && isAbsolute(passStore))) {
    throw corruptError(file, 'its "passStore" is not what latchkey writes');
  }
  return {
    version: VERSION,
    accounts: parsed.accounts,
    active: parsed.active as Record<string, string>,
    ...(directories !== undefined && {
      directories: directories as Record<string, Record<string, string>>,
    }),
    ...(passStore !== undefined && { passStore }),
  };
}

/** Writes the index atomically (0600). The caller holds the lock. */
export async function writeIndex(configDir: string, doc: IndexDocument): Promise<void> {
  const directories = Object.entries(doc.directories ?? {}).filter(
    ([, choices]) => Object.keys(choices).length > 0,
  );
  const out: IndexDocument = {
    version: VERSION,
    // A pass account's record lives in its entry: the store is its index.
    accounts: doc.accounts.filter((r) => LOCAL_BACKENDS.includes(r.backend)),
    active: doc.active,
    // Written only when there is a choice, so an index without any stays as older versions wrote it.
    ...(directories.length > 0 && { directories: Object.fromEntries(directories) }),
    ...(doc.passStore !== undefined && { passStore: doc.passStore }),
  };
  await writeFileAtomic(indexPath(configDir), `${JSON.stringify(out, null, 2)}\n`);
}
