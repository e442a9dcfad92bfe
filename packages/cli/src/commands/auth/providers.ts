import { LatchkeyCommand, jsonFlag } from '../../base-command.js';
import { describeProviders, listProviders } from '../../host/provider-list.js';

export default class AuthProviders extends LatchkeyCommand {
  static summary = 'List installed providers, their login methods, env vars and plugins.';
  static description =
    'Providers come from plugins: the bundled ones and any added with `latchkey plugins install`. Broken plugins are listed with the reason.';
  static examples = [
    { command: '<%= config.bin %> auth providers', description: 'What latchkey can sign in to.' },
    { command: '<%= config.bin %> auth providers --json', description: 'The same, for scripts.' },
  ];

  static flags = { json: jsonFlag };

  async run(): Promise<void> {
    await this.parse(AuthProviders);
    const list = await listProviders(this.runtime);
    if (this.jsonMode) this.printJson(list);
    else this.runtime.out(describeProviders(list));
  }
}
