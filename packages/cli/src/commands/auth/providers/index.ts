import { LatchkeyCommand, jsonFlag } from '../../../base-command.js';
import { describeProviders, listProviders, type ProviderListing } from '../../../providers/provider-list.js';

export default class AuthProviders extends LatchkeyCommand {
  static summary = 'List installed providers, their login methods, env vars and plugins.';
  static description =
    'Providers come from plugins: the bundled ones and any added with `latchkey plugins install`. Broken plugins are listed with the reason.';
  static examples = [
    { command: '<%= config.bin %> auth providers', description: 'What latchkey can sign in to.' },
    { command: '<%= config.bin %> auth providers --json', description: 'The same, for scripts.' },
  ];

  static flags = { json: jsonFlag };

  async run(): Promise<ProviderListing> {
    await this.parse(AuthProviders);
    const list = await listProviders(this.runtime);
    // People read these in the table's footer (stdout); scripts get them as warnings too.
    for (const c of list.conflicts)
      this.warnings.push(
        `Provider id "${c.id}" is claimed by ${[c.winner, ...c.ignored].join(' and ')}; using ${c.winner}.`,
      );
    for (const b of list.broken) this.warnings.push(`Plugin ${b.plugin} is broken: ${b.reason}`);
    if (!this.jsonEnabled()) this.runtime.out(describeProviders(list));
    return list;
  }
}
