import { Flags } from '@oclif/core';
import { resolveConfigDir } from '@latchkey/storage';
import { providerArg, providerArgument } from '../../providers/provider-argument.js';
import { LatchkeyCommand, jsonFlag } from '../../base-command.js';
import { describeStatus, status, statusExitCode, type CredentialStatus } from '../../status/status.js';

export default class AuthStatus extends LatchkeyCommand {
  static summary = 'Show every stored and environment credential, checked live with its server.';
  static description =
    'For each credential: provider, account, base URL, source (environment or storage backend), expiry and whether the server accepts it now; the one in use here is marked (active) with what chose it (--account, a variable, a directory choice or the default). Exit 0 when all are valid, 4 when one was rejected or there is none, 1 when one could not be checked.';
  static examples = [
    { command: '<%= config.bin %> auth status', description: 'Everything latchkey can use.' },
    {
      command: '<%= config.bin %> auth status --provider <id> --json',
      description: 'One provider, as JSON.',
    },
  ];
  static args = { provider: providerArg };
  static flags = {
    json: jsonFlag,
    provider: Flags.string({ char: 'p', description: 'Only this provider.' }),
    account: Flags.string({
      description:
        'Only this stored account, as the one in use. Env: LATCHKEY_<ID>_ACCOUNT (chooses, shows all).',
    }),
  };

  async run(): Promise<{ credentials: CredentialStatus[] }> {
    const { args, flags } = await this.parse(AuthStatus);
    const results = await status(this.runtime, providerArgument(args.provider, flags.provider), {
      ...(flags.account !== undefined ? { account: flags.account } : {}),
      cwd: process.cwd(),
    });
    if (!this.jsonEnabled())
      this.runtime.out(describeStatus(results, resolveConfigDir(this.runtime.env), this.runtime.env.HOME));
    // Set before returning: the envelope's `status` is this exit code.
    process.exitCode = statusExitCode(results);
    return { credentials: results };
  }
}
