import type { ProviderListing } from './provider-list.js';

/** `auth providers`' table, with conflicts and broken plugins under it (a leaf module: the fast path renders it too). */
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
