import { readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '@oclif/core';
import { registerSecretPrefixes } from '@latchkey/errors';
import { definitionsPath, resolveConfigDir, writeFileAtomic } from '@latchkey/storage';
import { cacheFile } from './cache-file.js';
import type { StaticProvider } from './provider-facts.js';

/**
 * The providers' static manifests, cached so that `auth token` can answer without starting oclif (which
 * costs ~90 ms). The cache is trusted only while every file it was built from is unchanged: each plugin's
 * package.json and oclif's list of user-installed plugins. Anything else falls back to the full CLI.
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

/** Writes the cache when it differs from what is there (called from the full CLI's `auth token`). */
export async function writeProviderCache(
  config: Config,
  providers: Map<string, StaticProvider>,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const paths = [
    join(config.dataDir, 'package.json'),
    // Providers added with `auth providers add` are in the cache too.
    definitionsPath(resolveConfigDir(env)),
    ...[...config.plugins.values()].map((p) => join(p.root, 'package.json')),
  ].sort(); // oclif's plugin order varies from run to run: the same set-up writes the same file
  const cache: ProviderCacheFile = {
    version: 1,
    watch: await Promise.all(paths.map(async (path) => ({ path, mtimeMs: await mtime(path) }))),
    providers: [...providers.values()],
  };
  const text = JSON.stringify(cache);
  const file = providerCachePath(env);
  if ((await readFile(file, 'utf8').catch(() => '')) === text) return;
  const dir = join(file, '..');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, text);
}

/**
 * The cached providers, or undefined when there is no cache or any file it depends on changed. Their
 * declared token prefixes are registered with redaction, as discovery does, without loading plugin code.
 */
export async function readProviderCache(
  env: NodeJS.ProcessEnv,
): Promise<Map<string, StaticProvider> | undefined> {
  // Synchronous on purpose: this is the fast path's first step, and one read plus a stat per plugin
  // (20 linked plugins: 25 stats) cost less without a promise and a thread-pool round trip each.
  let cache: ProviderCacheFile;
  try {
    cache = JSON.parse(readFileSync(providerCachePath(env), 'utf8')) as ProviderCacheFile;
  } catch {
    return undefined;
  }
  if (cache.version !== 1 || !Array.isArray(cache.watch) || !Array.isArray(cache.providers)) return undefined;
  for (const { path, mtimeMs } of cache.watch) {
    if ((statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? null) !== mtimeMs) return undefined;
  }
  for (const { manifest } of cache.providers) registerSecretPrefixes(manifest.secretPrefixes);
  return new Map(cache.providers.map((p) => [p.manifest.id, p]));
}
