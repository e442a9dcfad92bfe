import { Flags } from '@oclif/core';
import type { BackendName } from '@latchkey/storage';
import { LatchkeyCommand, jsonFlag } from '../../base-command.js';
import { MIGRATE_TARGETS, migrate, type MigrateResult } from '../../auth/migrate.js';

export default class AuthMigrate extends LatchkeyCommand {
  static summary = 'Move stored accounts to another storage backend.';
  static description =
    'Copies each account (all of them, or those of --provider, or --account) to the backend --to names, reads the copy back and compares it, points the index at it, and only then deletes the old copy; one account at a time, under the storage lock. Interrupted at any point, every account is still readable from at least one backend, and running the command again finishes the job. An account that cannot be moved is reported and stays where it was (exit 1). Moving into pass writes to the pass store (PASSWORD_STORE_DIR); moving out of it removes the entry from the store. See `latchkey help storage`.';
  static examples = [
    {
      command: 'LATCHKEY_FILE_PASSPHRASE=... <%= config.bin %> auth migrate --to passphrase',
      description: 'Every account into the passphrase file.',
    },
    {
      command: '<%= config.bin %> auth migrate --to pass --provider <id>',
      description: "One provider's accounts into the pass store, to share them through git.",
    },
  ];
  static flags = {
    json: jsonFlag,
    to: Flags.string({
      required: true,
      options: [...MIGRATE_TARGETS],
      description: 'Where the accounts go: keychain, file, passphrase or pass.',
    }),
    provider: Flags.string({ char: 'p', description: "Only this provider's accounts." }),
    account: Flags.string({ description: 'Only the account(s) of this name (with --provider: that one).' }),
  };

  async run(): Promise<MigrateResult> {
    const { flags } = await this.parse(AuthMigrate);
    const result = await migrate(this.runtime, {
      to: flags.to as BackendName,
      provider: flags.provider,
      account: flags.account,
    });
    // Set before returning: the envelope's `status` is this exit code.
    process.exitCode = result.accounts.some((a) => a.status === 'failed') ? 1 : 0;
    return result;
  }
}
