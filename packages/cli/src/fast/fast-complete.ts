/**
 * `latchkey __complete WORD...` without oclif: bin/run.cjs tries this first, on every <TAB> of the shell
 * scripts (completion/completion.ts). Commands and flags come from the table compiled in at build time,
 * providers as the `auth token` fast path reads them, accounts from the index (accounts.json, and the names
 * of pass entries), read now: no secret, no keychain. When a plugin cannot be read here (other providers may
 * exist) it returns undefined and the full CLI's hidden `__complete` answers with every provider.
 */
import { bundledCommands } from '../completion/command-table.js';
import { completeLine } from '../completion/complete.js';
import { readProviders } from '../providers/installed-providers.js';
import { completionAccounts } from '../runtime/environment.js';
import { printLine } from './fast-shared.js';

export async function fastComplete(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number | undefined> {
  let known;
  try {
    known = await readProviders(env);
  } catch {
    return undefined; // e.g. an unreadable providers.json: the full CLI decides
  }
  if (!known.complete) return undefined;
  const lines = await completeLine(bundledCommands(), args, {
    providers: async () =>
      [...known.providers.values()].map((p) => ({ id: p.manifest.id, title: p.manifest.title })),
    accounts: completionAccounts(env),
  });
  return printLine(`${lines.join('\n')}\n`);
}
