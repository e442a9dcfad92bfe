import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Nothing provider-specific below plugins/: the host and the shared packages know providers only from what
// their manifests declare (names, variables, token prefixes, login options, env-login rule).
const root = fileURLToPath(new URL('../../../', import.meta.url));
const productionDirs = [
  'packages/cli/src',
  'packages/cli/bin',
  ...['errors', 'http', 'polling', 'storage', 'plugin-kit', 'oauth', 'clock', 'conformance'].map(
    (p) => `packages/${p}/src`,
  ),
];
/** The bundled providers' names, ids, hosts and token prefixes. */
const providerSpecific = /nano-?gpt|kaneo|nanoterm|nanoctl|nanoservices|sk-nano|(?<![A-Za-z0-9])nt_/i;
const isTest = (path: string) => /\.test\.ts$/.test(path) || /(^|\/)(e2e|testing|test-support)\//.test(path);

function sourceFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return []; // a package that does not exist (yet)
  }
  return names
    .map((name) => join(dir, name))
    .filter(
      (path) => /\.(ts|js|mjs)$/.test(path) && statSync(path).isFile() && !isTest(relative(root, path)),
    );
}

function providerSpecificLines(dirs: readonly string[]): string[] {
  const hits: string[] = [];
  for (const dir of dirs) {
    for (const file of sourceFiles(join(root, dir))) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (providerSpecific.test(line)) hits.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
        });
    }
  }
  return hits;
}

describe('provider-neutral host and shared packages', () => {
  it('production code names no bundled provider, host or token prefix', () => {
    expect(providerSpecificLines(productionDirs)).toEqual([]);
  });

  it('the check finds them where they belong (plugins/), so it is not vacuous', () => {
    const hits = providerSpecificLines(['plugins/nanogpt/src', 'plugins/nanoterm/src']);
    expect(hits.some((h) => h.startsWith('plugins/nanogpt/src/provider.ts'))).toBe(true);
    expect(providerSpecific.test('sk-nano-abc')).toBe(true);
    expect(providerSpecific.test('"nt_live_abc"')).toBe(true);
    expect(providerSpecific.test('client_id grant_type')).toBe(false);
  });
});
