import { Flags } from '@oclif/core';
import { providerArg, providerArgument } from '../../providers/provider-argument.js';
import { LatchkeyCommand, jsonFlag } from '../../base-command.js';
import { describeLogout, logout, type LogoutOutcome } from '../../auth/logout.js';

export default class AuthLogout extends LatchkeyCommand {
  static summary = 'Delete a stored credential (and revoke it where the provider can).';
  static description =
    'Revokes the credential on the server when the provider supports it, then deletes it locally; a failed revoke is reported and the local copy is deleted anyway. Credentials in environment variables are not touched.';
  static examples = [
    {
      command: '<%= config.bin %> auth logout --provider <id>',
      description: "Forget the provider's account (asks which, or --account, when there are several).",
    },
    {
      command: '<%= config.bin %> auth logout --provider <id> --account work',
      description: 'Forget one of several accounts.',
    },
    { command: '<%= config.bin %> auth logout --all', description: 'Forget every stored credential.' },
  ];
  static args = { provider: providerArg };
  static flags = {
    json: jsonFlag,
    provider: Flags.string({
      char: 'p',
      description: 'Provider id; may be left out when only one provider has stored credentials.',
    }),
    account: Flags.string({
      description:
        'The stored account (see `latchkey auth status`); needed without a terminal when there are several. Env: LATCHKEY_<ID>_ACCOUNT.',
    }),
    all: Flags.boolean({
      description: 'Every account of the provider, or of every provider when --provider is left out.',
    }),
  };

  async run(): Promise<LogoutOutcome> {
    const { args, flags } = await this.parse(AuthLogout);
    const outcome = await logout(this.runtime, {
      provider: providerArgument(args.provider, flags.provider),
      account: flags.account,
      all: flags.all,
    });
    for (const line of describeLogout(outcome)) this.runtime.say(line);
    return outcome;
  }
}
