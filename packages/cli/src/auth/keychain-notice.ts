import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Beside accounts.json: the "no keychain here" notice was shown for this config dir. */
export const keychainNoticeMarker = '.keychain-fallback-noted';

const howToSilence =
  'Stored in a file protected by its permissions instead (the key sits beside it); set LATCHKEY_STORAGE=file to make that the default.';

/**
 * What to tell a person when `auto` storage fell back to the file backend, in words: a machine without a
 * keychain is told once per config dir (remembered by a marker file there), a locked keychain every time
 * (unlocking it is worth doing). The raw keychain error is for LATCHKEY_DEBUG only.
 */
export async function keychainFallbackNotice(
  configDir: string,
  code: 'KEYCHAIN_UNAVAILABLE' | 'KEYCHAIN_LOCKED' | undefined,
  platform: NodeJS.Platform,
): Promise<string | undefined> {
  if (code === 'KEYCHAIN_LOCKED') {
    return 'The system keychain is locked. Stored in a file protected by its permissions instead (the key sits beside it); unlock the keychain to use it next time, or set LATCHKEY_STORAGE=file to make the file the default.';
  }
  try {
    // wx: only the first login here creates it, so only that one says so.
    await writeFile(join(configDir, keychainNoticeMarker), '', { flag: 'wx', mode: 0o600 });
  } catch {
    return undefined; // shown before (or the dir is not writable: then say nothing rather than every time)
  }
  const linux = platform !== 'darwin' && platform !== 'win32';
  return linux
    ? `No system keychain is running here (no Secret Service on D-Bus). ${howToSilence}`
    : `The system keychain is not available here. ${howToSilence}`;
}
