import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '@oclif/core';
import { registerSecretPrefixes } from '@latchkey/errors';
import { manifestProblems } from '@latchkey/plugin-kit/manifest';
import { definitionsPath, resolveConfigDir } from '@latchkey/storage';
import { bundledProviders } from './bundled-providers.js';
import { cacheDebug, cacheFile, readCacheText, writeCacheText, type CacheDebug } from './cache-file.js';
import type { StaticProvider } from './provider-facts.js';

/**
 * The static facts of the providers that are not bundled (user-installed plugins, providers added with
 * `auth providers add`), cached so that `auth token` and `exec` can answer without starting oclif (which
 * costs ~90 ms). The bundled providers' facts are compiled into the build (bundled-providers.ts) and never
 * come from here. The cache is used only while every file it was built from is unchanged (each plugin's
 * package.json, oclif's list of user-installed plugins, providers.json), when it passes the cache dir's
 * owner and mode checks (cache-file.ts), and when every provider in it passes the manifest validator the
 * plugins' own manifests pass: a cache that fails any of these is ignored (and rebuilt by the full CLI).
 */
interface ProviderCacheFile {
  version: 1;
  /** Files whose modification time the cache depends on; null = the file did not exist. */
  watch: Array<{ path: string; mtimeMs: number | null }>;
  providers: StaticProvider[];
}

export function providerCachePath(env: NodeJS.ProcessEnv): string {
  return cacheFile(env, 'providers');
}

async function mtime(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
}

/** Writes the cache when it differs from what is there (called from the full CLI's `auth token`, `exec`). */
export async function writeProviderCache(
  config: Config,
  providers: Map<string, StaticProvider>,
  env: NodeJS.ProcessEnv,
  debug: CacheDebug | undefined = cacheDebug(env),
): Promise<void> {
  const paths = [
    join(config.dataDir, 'package.json'),
    // Providers added with `auth providers add` are in the cache too.
    definitionsPath(resolveConfigDir(env)),
    ...[...config.plugins.values()].map((p) => join(p.root, 'package.json')),
  ].sort(); // oclif's plugin order varies from run to run: the same set-up writes the same file
  const bundled = new Set(bundledProviders().map((p) => p.manifest.id));
  const cache: ProviderCacheFile = {
    version: 1,
    watch: await Promise.all(paths.map(async (path) => ({ path, mtimeMs: await mtime(path) }))),
    providers: [...providers.values()].filter((p) => !bundled.has(p.manifest.id)),
  };
  const text = JSON.stringify(cache);
  const file = providerCachePath(env);
  if (readCacheText(file) === text) return;
  await writeCacheText(file, text, debug);
}

/** Why the parsed cache cannot be used, or undefined when it can. */
function cacheProblem(cache: unknown): string | undefined {
  const c = cache as Partial<ProviderCacheFile> | null;
  if (typeof c !== 'object' || c === null || c.version !== 1) return 'not a version 1 cache';
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
 * The bundled providers (compiled in) and, from a usable cache, the others; a cached provider never
 * replaces a bundled one. Their declared token prefixes are registered with redaction, as discovery does,
 * without loading plugin code.
 */
export function readProviders(
  env: NodeJS.ProcessEnv,
  debug: CacheDebug | undefined = cacheDebug(env),
): KnownProviders {
  const providers = new Map<string, StaticProvider>();
  for (const p of bundledProviders()) providers.set(p.manifest.id, p);
  // Synchronous on purpose: this is the fast path's first step, and one read plus a stat per plugin
  // (20 linked plugins: 25 stats) cost less without a promise and a thread-pool round trip each.
  const file = providerCachePath(env);
  const text = readCacheText(file, debug);
  let complete = false;
  if (text !== undefined) {
    let cache: unknown;
    try {
      cache = JSON.parse(text);
    } catch {
      cache = undefined;
    }
    const problem = cache === undefined ? 'not JSON' : cacheProblem(cache);
    if (problem === undefined) {
      for (const p of (cache as ProviderCacheFile).providers) {
        if (!providers.has(p.manifest.id)) providers.set(p.manifest.id, p);
      }
      complete = true;
    } else if (problem !== 'stale') {
      debug?.(`cache ${file} ignored (rebuilt by the next full run): ${problem}`);
    }
  }
  for (const { manifest } of providers.values()) registerSecretPrefixes(manifest.secretPrefixes);
  return { providers, complete };
}
