// The providers the fast paths (`auth token`, `exec` without oclif) know, read from their sources on every
// run: latchkey keeps no start-up cache. The bundled providers' facts are compiled into the build
// (bundled-providers.ts); the plugins a user installed or linked are read from the files oclif itself reads
// (its data dir's package.json lists them, then each plugin's own package.json declares its providers);
// the configured ones come from providers.json with its owner and mode checks. Each declared manifest must
// pass the validator the full CLI applies. Anything this cannot read as plainly as oclif would (an
// unreadable or oversized file, a listed plugin that is missing, a plugin that brings plugins of its own)
// makes the answer incomplete, and the caller hands over to the full CLI, which knows every provider.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { registerSecretPrefixes } from '@latchkey/errors';
import { manifestProblems } from '@latchkey/plugin-kit/manifest';
import { latchkeyDirs } from '@latchkey/storage';
import { bundledProviders } from './bundled-providers.js';
import { configuredStaticProviders, declaredManifests, type StaticProvider } from './provider-facts.js';

/** A package.json larger than this is not read here (the real ones are a few KiB): the full CLI answers. */
export const MAX_PACKAGE_JSON_BYTES = 1024 * 1024;

/** The providers the fast paths know, and whether that is every provider. */
export interface KnownProviders {
  providers: Map<string, StaticProvider>;
  /** False when a plugin could not be read here: other providers may exist (the full CLI knows). */
  complete: boolean;
}

/** A JSON file's object, null when it does not exist, undefined when it cannot be used here. */
function readJsonObject(file: string): Record<string, unknown> | null | undefined {
  try {
    const stat = statSync(file, { throwIfNoEntry: false });
    if (stat === undefined) return null;
    if (!stat.isFile() || stat.size > MAX_PACKAGE_JSON_BYTES) return undefined;
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined; // unreadable, looping or not JSON
  }
}

/**
 * The providers declared by the plugins oclif's data dir lists (user-installed ones under its
 * node_modules, linked ones at their root), in oclif's order (installed, then linked): [] when nothing was
 * ever installed, undefined when one of them cannot be read here.
 */
export function installedProviders(env: NodeJS.ProcessEnv): StaticProvider[] | undefined {
  const data = latchkeyDirs(env).data;
  const list = readJsonObject(join(data, 'package.json'));
  if (list === null) return [];
  if (list === undefined) return undefined;
  const plugins = (list.oclif as { plugins?: unknown } | undefined)?.plugins ?? [];
  if (!Array.isArray(plugins)) return undefined;
  const entries = plugins as Array<{ type?: unknown; name?: unknown; root?: unknown }>;
  const bundled = new Set(bundledProviders().map((p) => p.plugin));
  const found: StaticProvider[] = [];
  for (const type of ['user', 'link']) {
    for (const entry of entries.filter((e) => typeof e === 'object' && e?.type === type)) {
      if (typeof entry.name !== 'string') return undefined;
      if (bundled.has(entry.name)) continue; // oclif keeps the bundled plugin of that name
      const root = type === 'user' ? join(data, 'node_modules', entry.name) : entry.root;
      if (typeof root !== 'string') return undefined;
      const pjson = readJsonObject(join(root, 'package.json'));
      if (!pjson) return undefined;
      // A plugin that brings plugins of its own: oclif resolves those; the full CLI answers.
      const nested = (pjson.oclif as { plugins?: unknown } | undefined)?.plugins;
      if (Array.isArray(nested) && nested.length > 0) return undefined;
      const plugin = typeof pjson.name === 'string' ? pjson.name : entry.name;
      for (const manifest of declaredManifests(pjson)) {
        if (manifestProblems(manifest).length === 0) found.push({ manifest, plugin });
      }
    }
  }
  return found;
}

/**
 * The bundled providers, those of user-installed and linked plugins, and the configured ones
 * (providers.json: a corrupt or insecure file throws, as in the full CLI). A bundled provider comes
 * first, then a plugin's, then a configured one, as in discovery. Their declared token prefixes are
 * registered with redaction, as discovery does, without loading plugin code.
 */
export async function readProviders(env: NodeJS.ProcessEnv): Promise<KnownProviders> {
  const providers = new Map<string, StaticProvider>();
  for (const p of bundledProviders()) providers.set(p.manifest.id, p);
  const plugins = installedProviders(env);
  for (const p of plugins ?? []) if (!providers.has(p.manifest.id)) providers.set(p.manifest.id, p);
  for (const [id, p] of await configuredStaticProviders(env)) if (!providers.has(id)) providers.set(id, p);
  for (const { manifest } of providers.values()) registerSecretPrefixes(manifest.secretPrefixes);
  return { providers, complete: plugins !== undefined };
}
