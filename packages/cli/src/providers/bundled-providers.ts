// The static facts of the providers latchkey ships with (the @latchkey/ plugins in @latchkey/cli's
// `oclif.plugins`), for the fast paths. scripts/bundle.mjs reads them at build time with
// `readBundledProviders()` below, checks them with the manifest validator (a bundled plugin whose manifest
// fails it fails the build) and compiles them into each bundle in place of this module, so `auth token` and `exec` for a bundled
// provider need no cache, also not on the first run after an install. Outside a bundle (unit tests) they are
// read from the same package.json files when first asked for.
import { readFileSync } from 'node:fs';
import { findPackageJSON } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { manifestProblems } from '@latchkey/plugin-kit/manifest';
import { declaredManifests, type StaticProvider } from './provider-facts.js';

/**
 * Reads the bundled plugins' declared providers from @latchkey/cli's package.json at `cliRoot` and theirs.
 * Throws when a manifest fails the validator (the build must not ship facts the full CLI would refuse).
 */
export function readBundledProviders(cliRoot: string): StaticProvider[] {
  const cli = JSON.parse(readFileSync(join(cliRoot, 'package.json'), 'utf8')) as {
    oclif?: { plugins?: string[] };
  };
  const found: StaticProvider[] = [];
  for (const plugin of cli.oclif?.plugins ?? []) {
    if (!plugin.startsWith('@latchkey/')) continue;
    const file = findPackageJSON(plugin, pathToFileURL(join(cliRoot, 'package.json')));
    if (file === undefined) throw new Error(`bundled plugin ${plugin} not found from ${cliRoot}`);
    const pjson: unknown = JSON.parse(readFileSync(file, 'utf8'));
    for (const manifest of declaredManifests(pjson)) {
      const problems = manifestProblems(manifest);
      if (problems.length > 0) throw new Error(`${plugin}: ${problems.join('; ')}`);
      if (found.some((p) => p.manifest.id === manifest.id))
        throw new Error(`${plugin}: ${manifest.id} twice`);
      found.push({ manifest, plugin });
    }
  }
  return found;
}

let fromPackages: StaticProvider[] | undefined;

/**
 * The bundled providers, read once from the package.json files. In a bundle, scripts/bundle.mjs replaces
 * this whole module with one function returning the facts it read at build time.
 */
export function bundledProviders(): StaticProvider[] {
  return (fromPackages ??= readBundledProviders(join(dirname(fileURLToPath(import.meta.url)), '..', '..')));
}
