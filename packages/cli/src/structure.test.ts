/**
 * The shape of the code, checked on every run (docs/architecture.md): no import cycle in any package's
 * production code (type-only imports count: a port must not import what wires the adapters together), and
 * no folder of production code with more than 15 files. dpdm parses the imports with TypeScript.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCircular, parseDependencyTree } from 'dpdm';
import { describe, expect, it } from 'vitest';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const isTest = (name: string) => /\.test\.ts$|\.e2e\.test\.ts$/.test(name);

/** Every package's (and plugin's) src/ directory. */
function sourceRoots(): string[] {
  const roots: string[] = [];
  for (const group of ['packages', 'plugins', 'examples']) {
    let entries;
    try {
      entries = readdirSync(join(repo, group), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const src = join(repo, group, entry.name, 'src');
      if (entry.isDirectory() && readdirSync(join(repo, group, entry.name)).includes('src')) roots.push(src);
    }
  }
  return roots;
}

/** Production .ts files under `dir` (tests, e2e helpers and test fixtures left out). */
function productionFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !isTest(e.name))
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => !/(^|[\\/])(e2e|testing|fixtures)[\\/]/.test(relative(dir, file)));
}

/** The import cycles among `files`, each as a list of repository-relative paths. */
async function cycles(files: string[]): Promise<string[][]> {
  const tree = await parseDependencyTree(files, {
    context: repo,
    transform: false, // type-only imports are imports too
    skipDynamicImports: false,
    include: /[\\/]src[\\/]/,
    exclude: /node_modules|[\\/]dist[\\/]/,
    extensions: ['.ts', '.js'],
  });
  return parseCircular(tree).map((cycle) => cycle.map((file) => relative(repo, resolve(repo, file))));
}

describe('code structure', () => {
  const roots = sourceRoots();

  it('finds every package (the checks below would pass vacuously otherwise)', () => {
    expect(roots.map((r) => relative(repo, r))).toEqual(
      expect.arrayContaining(['packages/cli/src', 'packages/storage/src', 'packages/oauth/src']),
    );
  });

  it('has no import cycle in any package', async () => {
    const files = roots.flatMap(productionFiles);
    expect(files.length).toBeGreaterThan(100);
    expect(await cycles(files)).toEqual([]);
  }, 60_000);

  it('finds a cycle when there is one (the check can fail)', async () => {
    const fixture = join(repo, 'packages/cli/src/testing/cycle-fixture');
    expect(await cycles([join(fixture, 'a.ts')])).toEqual([
      ['packages/cli/src/testing/cycle-fixture/a.ts', 'packages/cli/src/testing/cycle-fixture/b.ts'],
    ]);
  });

  it('has no folder of production code with more than 15 files', () => {
    const counts = new Map<string, number>();
    for (const file of roots.flatMap(productionFiles)) {
      const folder = relative(repo, dirname(file));
      counts.set(folder, (counts.get(folder) ?? 0) + 1);
    }
    expect(counts.size).toBeGreaterThan(10);
    expect([...counts].filter(([, n]) => n > 15)).toEqual([]);
  });
});
