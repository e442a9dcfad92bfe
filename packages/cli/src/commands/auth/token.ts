import { providerArg, providerArgument } from '../../providers/provider-argument.js';
import { LatchkeyCommand } from '../../base-command.js';
import { resolveToken } from '../../token/token.js';
import { tokenFlags } from '../../command-flags.js';
import { oclifFlags } from '../../oclif-flags.js';

export default class AuthToken extends LatchkeyCommand {
  static summary = 'Print the raw credential for scripts.';
  static description =
    "Prints exactly the token and one newline on stdout. Order: --account, then the provider's environment variables and LATCHKEY_<ID>_TOKEN, then LATCHKEY_<ID>_ACCOUNT, then the account chosen for this directory (`auth switch --dir`), then the default account. Network: none, except when the stored credential is an OAuth access token that can be refreshed and is due (it expires within a minute, or has used half of a lifetime of a minute or less): it is refreshed at its server first, stored, and the new one printed. An environment credential, an API key or a token with time left is printed without any network call. --account without a provider picks the provider that has that account. Exit 4 when there is no credential or the named account is not stored.";
  static examples = [
    {
      command:
        'curl -H "Authorization: Bearer $(<%= config.bin %> auth token --provider <id>)" https://api.example.com/v1/models',
      description: "Use a provider's credential in a request (`auth providers` lists the ids).",
    },
    {
      command: '<%= config.bin %> auth token --provider <id> --account alice@example.com',
      description: 'The token of one stored account (`auth status` lists them).',
    },
  ];
  static args = { provider: providerArg };
  // Defined once, in command-flags.ts: the fast path (src/fast/fast-token.ts) reads the same list.
  static flags = oclifFlags(tokenFlags);
  /** The output is the raw token: no `--json` (passing it is an unknown flag, exit 2). */
  static enableJsonFlag = false;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AuthToken);
    const result = await resolveToken(this.runtime, providerArgument(args.provider, flags.provider), {
      account: flags.account,
      cwd: process.cwd(),
    });
    process.stdout.write(`${result.token}\n`);
  }
}
