import { Flags } from '@oclif/core';
import { providerArg, providerArgument } from '../../providers/provider-argument.js';
import { LatchkeyCommand, jsonFlag } from '../../base-command.js';
import {
  describeSwitch,
  switchAccount,
  withOptionalDirValue,
  type SwitchOutcome,
} from '../../auth/switch.js';

export default class AuthSwitch extends LatchkeyCommand {
  static summary = "Choose a provider's default account, or the account for one directory tree.";
  static description =
    'Sets the account latchkey uses for a provider: its default, or with --dir the account used in that directory and below (recorded in your latchkey config, never in the directory). --account and LATCHKEY_<ID>_ACCOUNT still win; see `latchkey help accounts`. In a terminal, a left-out provider or account is asked for.';
  static examples = [
    {
      command: '<%= config.bin %> auth switch --provider <id> --account work',
      description: 'Make work the default account.',
    },
    {
      command: '<%= config.bin %> auth switch --provider <id> --account personal --dir',
      description: 'Use personal in the current directory and below.',
    },
    {
      command: '<%= config.bin %> auth switch --provider <id> --dir ~/work/api --unset',
      description: "Remove that directory's choice: the default applies there again.",
    },
  ];
  static args = { provider: providerArg };
  static flags = {
    json: jsonFlag,
    provider: Flags.string({
      char: 'p',
      description: 'Provider id; may be left out when only one provider has stored accounts.',
    }),
    account: Flags.string({ description: 'The stored account to use (see `latchkey auth status`).' }),
    dir: Flags.string({
      description:
        'Only for this directory and below: `--dir` alone is the current directory, or --dir PATH / --dir=PATH (an existing directory; `--dir <provider id>` is the provider and the current directory: write ./NAME for a directory of that name).',
    }),
    unset: Flags.boolean({ description: "With --dir: remove that directory's choice." }),
    force: Flags.boolean({
      description: 'With --dir: record the choice even though PATH is not an existing directory.',
    }),
  };

  async run(): Promise<SwitchOutcome> {
    const { args, flags } = await this.parse(AuthSwitch, withOptionalDirValue(this.argv));
    const outcome = await switchAccount(this.runtime, {
      provider: providerArgument(args.provider, flags.provider),
      account: flags.account,
      ...(flags.dir !== undefined ? { dir: flags.dir } : {}),
      unset: flags.unset,
      force: flags.force,
      cwd: process.cwd(),
    });
    for (const line of describeSwitch(outcome, this.runtime.env.HOME)) this.runtime.say(line);
    return outcome;
  }
}
