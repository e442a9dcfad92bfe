import { usageError } from '@latchkey/errors';
import { latchkeyDirs } from './dirs.js';
import type { StoragePreference } from './types.js';

/** Every `--storage` / LATCHKEY_STORAGE value. */
export const STORAGE_PREFERENCES: readonly StoragePreference[] = [
  'auto',
  'keychain',
  'file',
  'passphrase',
  'pass',
];
const PREFERENCES = STORAGE_PREFERENCES;

/** The config dir (dirs.ts): LATCHKEY_CONFIG_DIR, else $XDG_CONFIG_HOME/latchkey, else ~/.config/latchkey. */
export function resolveConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return latchkeyDirs(env).config;
}

/** The `--storage` flag beats LATCHKEY_STORAGE; default 'auto'. A bad value is a usage error (exit 2). */
export function resolveStoragePreference(
  flag?: string,
  env: NodeJS.ProcessEnv = process.env,
): StoragePreference {
  const fromFlag = flag !== undefined && flag.trim() !== '';
  const raw = fromFlag ? flag : env.LATCHKEY_STORAGE;
  if (raw === undefined || raw.trim() === '') return 'auto';
  const value = raw.trim().toLowerCase();
  if ((PREFERENCES as readonly string[]).includes(value)) return value as StoragePreference;
  const source = fromFlag ? '--storage' : 'LATCHKEY_STORAGE';
  throw usageError(
    `Invalid ${source} value '${raw}': expected one of ${PREFERENCES.join(', ')}.`,
    fromFlag
      ? `Use --storage with one of ${PREFERENCES.join(', ')}.`
      : `Set LATCHKEY_STORAGE to one of ${PREFERENCES.join(', ')}, or unset it.`,
  );
}
