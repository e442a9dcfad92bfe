import { Flags } from '@oclif/core';
import { resolveConfigDir } from '@latchkey/storage';
import { LatchkeyCommand, jsonFlag } from '../../base-command.js';
import { describeStatus, status, statusExitCode, type CredentialStatus } from '../../host/status.js';

export default class AuthStatus extends LatchkeyCommand {
  static summary = 'Show every stored and environment credential, checked live with its server.';
  static description =
    'For each credential: provider, account, base URL, source (environment or storage backend), expiry and whether the server accepts it now. Exit 0 when all are valid, 4 when one was rejected or there is none, 1 when one could not be checked.';
  static examples = [
    { command: '<%= config.bin %> auth status', description: 'Everything latchkey can use.' },
    {
      command: '<%= config.bin %> auth status --provider <id> --json',
      description: 'One provider, as JSON.',
    },
  ];
  static flags = {
    json: jsonFlag,
    provider: Flags.string({ char: 'p', description: 'Only this provider.' }),
  };

  async run(): Promise<{ credentials: CredentialStatus[] }> {
    const { flags } = await this.parse(AuthStatus);
    const results = await status(this.runtime, flags.provider);
    if (!this.jsonEnabled()) this.runtime.out(describeStatus(results, resolveConfigDir(this.runtime.env)));
    // Set before returning: the envelope's `status` is this exit code.
    process.exitCode = statusExitCode(results);
    return { credentials: results };
  }
}
