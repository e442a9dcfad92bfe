// Finding latchkey's entries in a `pass` store without running pass or gpg: the store is the index of its
// accounts (store.ts), so listing them is a directory walk every command can afford. The code that runs
// pass (pass-backend.ts) is loaded only to read or write an entry.
import { existsSync, readFileSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The folder of the store latchkey writes under: `latchkey/<provider>/<account>`. */
export const PASS_FOLDER = 'latchkey';
/** At most this many entries are listed (a bound on a hostile or huge store). */
const MAX_ENTRIES = 10_000;
const PROVIDER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The pass store's directory, as pass finds it: PASSWORD_STORE_DIR, else the one recorded in the index
 * (where this config directory last stored into pass), else `~/.password-store`.
 */
export function passStoreDir(env: NodeJS.ProcessEnv, recorded?: string): string {
  const fromEnv = env.PASSWORD_STORE_DIR?.trim();
  if (fromEnv) return resolve(fromEnv);
  if (recorded !== undefined) return recorded;
  const home = env.HOME?.trim() || homedir();
  return join(home, '.password-store');
}

/**
 * An account name as one path segment of a pass entry: `%`, `/`, `\` and a leading `.` are percent-encoded
 * (an account may contain a slash; a leading dot would hide the file); everything else stays readable.
 */
export function encodeAccount(account: string): string {
  return account.replace(
    /[%/\\]|^\./g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/** The account a path segment names, or undefined when it is not what `encodeAccount` writes. */
export function decodeAccount(segment: string): string | undefined {
  if (/%(?![0-9A-F]{2})/.test(segment)) return undefined;
  const account = segment.replace(/%([0-9A-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
  return encodeAccount(account) === segment && account !== '' ? account : undefined;
}

/** The pass entry name of an account: `latchkey/<provider>/<account>`. */
export function passEntryName(provider: string, account: string): string {
  return `${PASS_FOLDER}/${provider}/${encodeAccount(account)}`;
}

export interface PassEntryRef {
  provider: string;
  account: string;
  /** The entry file's modification time (a checkout sets it, so only a tie-breaker). */
  mtimeMs: number;
}

/**
 * latchkey's entries in the store (`<dir>/latchkey/<provider>/<account>.gpg`), from the file names only:
 * nothing is decrypted. A missing store or folder is no entries; names latchkey would not write are skipped
 * (reading such an entry by name is refused anyway).
 */
export function listPassEntries(dir: string): PassEntryRef[] {
  const root = join(dir, PASS_FOLDER);
  const refs: PassEntryRef[] = [];
  let providers: Dirent[];
  try {
    providers = readdirSync(root, { withFileTypes: true });
  } catch {
    return refs;
  }
  for (const folder of providers) {
    if (!folder.isDirectory() || !PROVIDER_ID.test(folder.name)) continue;
    let files: Dirent[];
    try {
      files = readdirSync(join(root, folder.name), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const file of files) {
      if (!file.isFile() || !file.name.endsWith('.gpg')) continue;
      const account = decodeAccount(file.name.slice(0, -'.gpg'.length));
      if (account === undefined) continue;
      let mtimeMs: number;
      try {
        mtimeMs = statSync(join(root, folder.name, file.name)).mtimeMs;
      } catch {
        continue;
      }
      refs.push({ provider: folder.name, account, mtimeMs });
      if (refs.length >= MAX_ENTRIES) return refs;
    }
  }
  return refs.sort((a, b) => a.provider.localeCompare(b.provider) || a.account.localeCompare(b.account));
}

/** A pass store as `latchkey doctor` reports it; nothing is decrypted and pass is not run. */
export interface PassStoreState {
  dir: string;
  /** Its `.gpg-id` (the recipients every entry is encrypted for), or undefined when there is none. */
  recipients: string[] | undefined;
  /** The store is a git repository (pass commits each change; `pass git push` shares them). */
  git: boolean;
  /** latchkey's entries in it. */
  entries: number;
}

export function passStoreState(dir: string): PassStoreState {
  let recipients: string[] | undefined;
  try {
    recipients = readFileSync(join(dir, '.gpg-id'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
  } catch {
    recipients = undefined;
  }
  return {
    dir,
    recipients,
    git: existsSync(join(dir, '.git')),
    entries: listPassEntries(dir).length,
  };
}
