import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '@oclif/core';
import { registerSecretPrefixes } from '@latchkey/errors';
import { manifestProblems } from '@latchkey/plugin-kit/manifest';
import { latchkeyDirs } from '@latchkey/storage';
import { bundledProviders } from './bundled-providers.js';
import { cacheFile, readCacheText, writeCacheText, type CacheDebug } from './cache-file.js';
import { configuredPlugin, configuredStaticProviders, type StaticProvider } from './provider-facts.js';

/**
 * The static facts of the providers of user-installed and linked plugins, cached so that `auth token` and
 * `exec` can answer without starting oclif (which costs ~90 ms): latchkey's one start-up cache. The
 * bundled providers' facts are compiled into the build (bundled-providers.ts) and providers.json is read
 * itself (provider-facts.ts): neither comes from here, so with no user-installed plugin (no package.json
 * in oclif's data dir) nothing is cached and the first run is as fast as any. The cache is used only while
 * every file it was built from is unchanged (each plugin's package.json, oclif's list of user-installed
 * plugins), when it passes the cache dir's owner and mode checks (cache-file.ts), and when every provider
 * in it passes the manifest validator the plugins' own manifests pass: a cache that fails any of these is
 * ignored (and rebuilt by the full CLI).
 */
interface ProviderCacheFile {
  version: 2;
  /** Files whose modification time the cache depends on; null = the file did not exist. */
  watch: Array<{ path: string; mtimeMs: number | null }>;
  providers: StaticProvider[];
}

export function providerCachePath(env: NodeJS.ProcessEnv): string {
  return cacheFile(env, 'providers');
}

function mtime(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** Writes the cache when it differs from what is there (called from the full CLI's `auth token`, `exec`). */
export async function writeProviderCache(
  config: Config,
  providers: Map<string, StaticProvider>,
  env: NodeJS.ProcessEnv,
  debug?: CacheDebug,
): Promise<void> {
  const paths = [
    join(config.dataDir, 'package.json'),
    ...[...config.plugins.values()].map((p) => join(p.root, 'package.json')),
  ].sort(); // oclif's plugin order varies from run to run: the same set-up writes the same file
  const bundled = new Set(bundledProviders().map((p) => p.manifest.id));
  const cache: ProviderCacheFile = {
    version: 2,
    watch: paths.map((path) => ({ path, mtimeMs: mtime(path) })),
    providers: [...providers.values()].filter(
      (p) => !bundled.has(p.manifest.id) && p.plugin !== configuredPlugin,
    ),
  };
  const text = JSON.stringify(cache);
  const file = providerCachePath(env);
  if (readCacheText(file) === text) return;
  await writeCacheText(file, text, debug);
}

/** Why the parsed cache cannot be used, or undefined when it can. */
function cacheProblem(cache: unknown): string | undefined {
  const c = cache as Partial<ProviderCacheFile> | null;
  if (typeof c !== 'object' || c === null || c.version !== 2) return 'not a version 2 cache';
  if (!Array.isArray(c.watch) || !Array.isArray(c.providers))
    return 'its structure is not what latchkey writes';
  for (const entry of c.providers as unknown[]) {
    const p = entry as Partial<StaticProvider> | null;
    if (typeof p !== 'object' || p === null || typeof p.plugin !== 'string')
      return 'a provider entry is malformed';
    const problems = manifestProblems(p.manifest);
    if (problems.length > 0) return `a provider fails the manifest check: ${problems.join('; ')}`;
  }
  for (const w of c.watch as unknown[]) {
    const { path, mtimeMs } = (w ?? {}) as { path?: unknown; mtimeMs?: unknown };
    if (typeof path !== 'string' || (mtimeMs !== null && typeof mtimeMs !== 'number'))
      return 'a watched file entry is malformed';
    let now: number | null;
    try {
      now = statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? null;
    } catch {
      return 'stale'; // unreadable or looping: rebuilt by the full CLI
    }
    if (now !== mtimeMs) return 'stale';
  }
  return undefined;
}

/** The providers the fast paths know, and whether that is every provider (a usable cache was read). */
export interface KnownProviders {
  providers: Map<string, StaticProvider>;
  /** False when the cache was missing, stale or refused: other providers may exist (the full CLI knows). */
  complete: boolean;
}

/**
 * The bundled providers (compiled in), the configured ones (providers.json, read with its checks: a
 * corrupt or insecure file throws, as in the full CLI) and those of user-installed plugins: none when
 * oclif's data dir has no package.json (nothing was ever installed or linked), else from a usable cache.
 * A bundled provider comes first, then a plugin's, then a configured one, as in discovery. Their declared
 * token prefixes are registered with redaction, as discovery does, without loading plugin code.
 */
export async function readProviders(env: NodeJS.ProcessEnv, debug?: CacheDebug): Promise<KnownProviders> {
  const providers = new Map<string, StaticProvider>();
  for (const p of bundledProviders()) providers.set(p.manifest.id, p);
  const plugins = readPluginCache(env, debug);
  for (const p of plugins ?? []) if (!providers.has(p.manifest.id)) providers.set(p.manifest.id, p);
  for (const [id, p] of await configuredStaticProviders(env)) if (!providers.has(id)) providers.set(id, p);
  for (const { manifest } of providers.values()) registerSecretPrefixes(manifest.secretPrefixes);
  return { providers, complete: plugins !== undefined };
}

/** The user-installed plugins' providers: [] when there are none, undefined when not known without oclif. */
function readPluginCache(
  env: NodeJS.ProcessEnv,
  debug: CacheDebug | undefined,
): StaticProvider[] | undefined {
  // oclif lists user-installed and linked plugins in its data dir's package.json: none without it.
  let installed;
  try {
    installed = statSync(join(latchkeyDirs(env).data, 'package.json'), { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
  if (installed === undefined) return [];
  // Synchronous on purpose: one read plus a stat per plugin (20 linked plugins: 25 stats) cost less
  // without a promise and a thread-pool round trip each.
  const file = providerCachePath(env);
  const text = readCacheText(file, debug);
  if (text === undefined) return undefined;
  let cache: unknown;
  try {
    cache = JSON.parse(text);
  } catch {
    cache = undefined;
  }
  const problem = cache === undefined ? 'not JSON' : cacheProblem(cache);
  if (problem === undefined) return (cache as ProviderCacheFile).providers;
  if (problem !== 'stale') debug?.(`cache ${file} ignored (rebuilt by the next full run): ${problem}`);
  return undefined;
}
