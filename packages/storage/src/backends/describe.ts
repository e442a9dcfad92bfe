import type { BackendName } from '../types.js';

/**
 * How each backend is named to people (`dir`: the config directory, or a pass account's store), in one place: the login line, `auth status`'s "Source:", `doctor`
 * and the errors all say the same thing. The keyless file is named for what it is: its key sits beside it,
 * so its encryption adds nothing to the file modes (docs/security.md).
 */
export function backendPlace(backend: BackendName, dir?: string): string {
  const inDir = dir === undefined ? '' : backend === 'pass' ? ` ${dir}` : ` in ${dir}`;
  switch (backend) {
    case 'keychain':
      return 'the system keychain';
    case 'file':
      return `the file${inDir} protected by its permissions (the key sits beside it)`;
    case 'passphrase':
      return `the file${inDir} encrypted with a key from your passphrase`;
    case 'pass':
      return `the pass store${inDir} (GPG, for the recipients in its .gpg-id)`;
  }
}

/** Where to go from the keyless file, for people: every stronger backend this latchkey has. */
export const STRONGER_STORAGE =
  'for more protection use a passphrase (--storage passphrase), pass (--storage pass) or a system keychain (--storage keychain); see `latchkey help storage`';

/** A backend's short name, for one line per account (`auth migrate`). */
export function backendName(backend: BackendName): string {
  switch (backend) {
    case 'keychain':
      return 'the system keychain';
    case 'file':
      return 'the file backend';
    case 'passphrase':
      return 'the passphrase file';
    case 'pass':
      return 'the pass store';
  }
}
