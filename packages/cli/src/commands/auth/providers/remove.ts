import { Args, Flags } from '@oclif/core';
import { LatchkeyCommand, jsonFlag } from '../../../base-command.js';
import { removeProvider, type RemovedProvider } from '../../../providers/configured-providers-edit.js';
import { describeLogout } from '../../../auth/logout.js';

export default class AuthProvidersRemove extends LatchkeyCommand {
  static summary = 'Remove a provider added with `auth providers add`.';
  static description =
    'Refuses while accounts of it are stored, unless --force, which logs them out first (revoking them where the server can).';
  static examples = [
    { command: '<%= config.bin %> auth providers remove acme-idp', description: 'Forget the definition.' },
    {
      command: '<%= config.bin %> auth providers remove acme-idp --force',
      description: 'Log its accounts out, then forget it.',
    },
  ];
  static args = {
    name: Args.string({ description: 'The configured provider to remove.', required: true }),
  };
  static flags = {
    json: jsonFlag,
    force: Flags.boolean({ description: 'Log out its stored accounts first.' }),
  };

  async run(): Promise<RemovedProvider> {
    const { args, flags } = await this.parse(AuthProvidersRemove);
    const removed = await removeProvider(this.runtime, args.name, flags.force);
    for (const line of describeLogout({ removed: removed.loggedOut, orphansRemoved: [], envStillSet: [] }))
      this.runtime.say(line);
    this.runtime.say(`✓ Removed provider ${removed.name}`);
    return removed;
  }
}
