import { join } from 'node:path';
import { PASSPHRASE_FILE, resolveConfigDir } from '@latchkey/storage';
import { LatchkeyCommand, jsonFlag } from '../../base-command.js';
import { credentialStore } from '../../runtime/runtime.js';

export interface PassphraseChange {
  file: string;
  /** How many credentials were re-encrypted under the new passphrase. */
  entries: number;
  kdf: { name: 'scrypt'; N: number; r: number; p: number };
}

export default class AuthPassphrase extends LatchkeyCommand {
  static summary = 'Change the passphrase of the passphrase file (LATCHKEY_STORAGE=passphrase).';
  static description =
    'The current passphrase comes from LATCHKEY_FILE_PASSPHRASE or is asked on the terminal; the new one from LATCHKEY_FILE_NEW_PASSPHRASE or is asked twice (at least 8 characters). Every credential in the file is decrypted and encrypted again under a key from the new passphrase and a new salt, in one atomic write under the storage lock: a concurrent `auth token` reads the old file or the new one. A wrong current passphrase is exit 4 and changes nothing. LATCHKEY_FILE_SCRYPT_N, when set, becomes the new cost. See `latchkey help storage`.';
  static examples = [
    {
      command: '<%= config.bin %> auth passphrase',
      description: 'Type the current passphrase, then the new one twice.',
    },
    {
      command:
        'LATCHKEY_FILE_PASSPHRASE="$OLD" LATCHKEY_FILE_NEW_PASSPHRASE="$NEW" <%= config.bin %> auth passphrase',
      description: 'Without a terminal (CI): both from the environment.',
    },
  ];
  static flags = { json: jsonFlag };

  async run(): Promise<PassphraseChange> {
    await this.parse(AuthPassphrase);
    const file = join(resolveConfigDir(this.runtime.env), PASSPHRASE_FILE);
    const { entries, params } = await credentialStore(this.runtime).changePassphrase();
    this.runtime.say(
      `✓ Changed the passphrase of ${file}: ${entries} credential${entries === 1 ? '' : 's'} encrypted again (scrypt N=${params.N}, r=${params.r}, p=${params.p}).`,
    );
    if ((this.runtime.env.LATCHKEY_FILE_PASSPHRASE ?? '') !== '') {
      this.runtime.say(
        '  Set LATCHKEY_FILE_PASSPHRASE to the new passphrase wherever it is kept (CI secrets, scripts).',
      );
    }
    return { file, entries, kdf: { name: 'scrypt', ...params } };
  }
}
