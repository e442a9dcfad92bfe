import type { Config } from '@oclif/core';
import { loadProviders } from '../providers/providers.js';
import { readOnlyStore } from '../runtime/environment.js';

/** latchkey's own plugins (bundled or published by the project); everything else is third-party. */
export function isLatchkeyPlugin(name: string): boolean {
  return name.startsWith('@latchkey/') || name.startsWith('@oclif/');
}

/** The warning before installing a third-party plugin, or undefined for latchkey's own. */
export function thirdPartyWarning(name: string): string | undefined {
  if (isLatchkeyPlugin(name)) return undefined;
  return [
    `! ${name} is not one of latchkey's own plugins. A plugin runs with your user's permissions:`,
    '  it can read files you can read, and latchkey hands a provider plugin the credentials it stores for',
    '  that provider. Install only plugins you trust.',
  ].join('\n');
}

/** Lines reporting stored credentials whose provider no installed plugin provides. */
export async function orphanedCredentials(config: Config, env: NodeJS.ProcessEnv): Promise<string[]> {
  const discovery = await loadProviders(config);
  const records = await readOnlyStore(env).list();
  const orphaned = new Map<string, string[]>();
  for (const record of records) {
    if (discovery.providers.has(record.provider)) continue;
    orphaned.set(record.provider, [...(orphaned.get(record.provider) ?? []), record.account]);
  }
  return [...orphaned].map(
    ([provider, accounts]) =>
      `! Credentials for "${provider}" are still stored (${accounts.join(', ')}), but no installed plugin provides it.` +
      ` Reinstall its plugin, or remove them with \`latchkey auth logout --provider ${provider} --all\`.`,
  );
}
