import { latchkeyEnvName, type Discovery, type LoginOption } from '@latchkey/plugin-kit';
import { describePlugin, loadProviders } from './providers.js';
import type { Runtime } from '../runtime/ports.js';

export interface ProviderListing {
  providers: Array<{
    id: string;
    title: string;
    methods: string[];
    envVars: string[];
    defaultBaseUrl: string;
    /** The login options the provider declares (`--option flag=value`). */
    loginOptions: LoginOption[];
    plugin: string;
  }>;
  broken: Array<{ plugin: string; reason: string }>;
  conflicts: Array<{ id: string; winner: string; ignored: string[] }>;
}

/** `auth providers`: every provider the installed plugins offer, and the plugins that failed. */
export async function listProviders(runtime: Runtime): Promise<ProviderListing> {
  return listingOf(await loadProviders(runtime.config, runtime.env));
}

/** The listing of what discovery found, sorted by id. */
export function listingOf(discovery: Discovery): ProviderListing {
  return {
    providers: [...discovery.providers.values()]
      .sort((a, b) => a.provider.id.localeCompare(b.provider.id))
      .map((entry) => ({
        id: entry.provider.id,
        title: entry.provider.title,
        methods: entry.provider.methods,
        envVars: [...entry.provider.envVars, latchkeyEnvName(entry.provider.id, 'TOKEN')],
        defaultBaseUrl: entry.provider.defaultBaseUrl,
        loginOptions: entry.provider.loginOptions ?? [],
        plugin: describePlugin(entry),
      })),
    broken: discovery.broken,
    conflicts: discovery.conflicts,
  };
}

/** `auth providers`' table, with conflicts and broken plugins under it. */
export function describeProviders(listing: ProviderListing): string {
  const rows = listing.providers.map((p) => [
    p.id,
    p.title,
    p.methods.join(', '),
    p.envVars.join(', '),
    p.plugin,
  ]);
  const header = ['ID', 'PROVIDER', 'LOGIN', 'ENV', 'PLUGIN'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  for (const c of listing.conflicts) {
    out.push(
      '',
      `! Provider id "${c.id}" is claimed by ${[c.winner, ...c.ignored].join(' and ')}; using ${c.winner}.`,
    );
  }
  for (const b of listing.broken) out.push('', `! Plugin ${b.plugin} is broken: ${b.reason}`);
  return `${out.join('\n')}\n`;
}
