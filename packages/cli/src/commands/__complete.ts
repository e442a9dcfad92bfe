import { Command } from '@oclif/core';
import { commandTable } from '../completion/command-table.js';
import { completeLine } from '../completion/complete.js';
import { loadProviders } from '../providers/providers.js';
import { completionAccounts } from '../runtime/environment.js';

/**
 * `latchkey __complete -- WORD...`: what the shell scripts offer at <TAB> (docs/completion.md). The fast entry
 * (src/fast/fast-complete.ts) answers unless a plugin cannot be read without oclif; then this does, with
 * every provider discovery finds and every command the loaded plugins bring. Never fails: a problem is no
 * completion, not an error on the user's command line.
 */
export default class Complete extends Command {
  static hidden = true;
  static strict = false;
  static summary = 'Shell completion (used by the scripts of `latchkey autocomplete`).';

  async run(): Promise<void> {
    const words = this.argv[0] === '--' ? this.argv.slice(1) : this.argv;
    let providers: Array<{ id: string; title: string }> = [];
    try {
      const discovery = await loadProviders(this.config);
      providers = [...discovery.providers.values()].map(({ provider }) => ({
        id: provider.id,
        title: provider.title,
      }));
    } catch {
      // No providers to offer; commands and flags still complete.
    }
    const lines = await completeLine(commandTable(this.config.commands, this.config.topics), words, {
      providers: async () => providers,
      accounts: completionAccounts(process.env),
    });
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
