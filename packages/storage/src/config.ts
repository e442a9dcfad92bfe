import * as os from 'node:os';
import * as path from 'node:path';
import { usageError } from '@latchkey/errors';
import type { StoragePreference } from './types.js';

const PREFERENCES: readonly StoragePreference[] = ['auto', 'keychain', 'file'];

/** LATCHKEY_CONFIG_DIR, else $XDG_CONFIG_HOME/latchkey, else ~/.config/latchkey. */
export function resolveConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.LATCHKEY_CONFIG_DIR?.trim();
  if (explicit) return path.resolve(explicit);
  const xdg = env.XDG_CONFIG_HOME?.trim();
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'latchkey');
  const home = env.HOME?.trim() || os.homedir();
  return path.join(home, '.config', 'latchkey');
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
    `Invalid ${source} value '${raw}': expected one of auto, keychain, file.`,
    fromFlag
      ? 'Use --storage auto, --storage keychain or --storage file.'
      : 'Set LATCHKEY_STORAGE to auto, keychain or file, or unset it.',
  );
}
