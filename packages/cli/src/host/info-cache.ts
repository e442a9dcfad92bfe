/**
 * What `latchkey --version`, `--help`, `auth providers` and `auth status` (nothing stored) print depends
 * only on the installed plugins, so the full CLI remembers it here (`info.json` next to the provider
 * cache) and `src/fast-info.ts` answers those plain forms from it without starting oclif. Like the
 * provider cache, it is trusted only while every file it was built from is unchanged: each plugin's
 * package.json and oclif.manifest.json, oclif's list of user-installed plugins, and the configured
 * providers file. This module's reader loads nothing but node: built-ins.
 */
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '@oclif/core';
import { cacheDebug, cacheFile, readCacheText, writeCacheText, type CacheDebug } from './cache-file.js';
import type { ProviderListing } from './provider-list.js';

export interface InfoCache {
  version: 1;
  /** Files whose modification time the cache depends on; null = the file did not exist. */
  watch: Array<{ path: string; mtimeMs: number | null }>;
  /** The configuration directory the configured providers were read from. */
  configDir: string;
  /** A plugin has an `init` hook: oclif runs it before anything, so nothing is answered without oclif. */
  initHooks: boolean;
  /** oclif's `--version` line (`@latchkey/cli/0.1.0 linux-x64 node-v22.0.0`), without its newline. */
  userAgent?: string;
  /** The root help page as oclif wrote it to stdout, by `helpKey`. */
  help?: Record<string, string>;
  /** Every provider, as `auth providers` lists them (written only when no plugin was broken). */
  providers?: ProviderListing;
}

/** At most this many help pages are kept (terminal widths, colour settings). */
const maxHelpPages = 8;

export function infoCachePath(env: NodeJS.ProcessEnv): string {
  return cacheFile(env, 'info');
}

/**
 * What the root help page's bytes depend on besides the plugins: the width oclif wraps to (80 on a pipe,
 * the terminal's width, or OCLIF_COLUMNS) and whatever decides colour.
 */
export function helpKey(env: NodeJS.ProcessEnv, stdout: { isTTY?: boolean; columns?: number }): string {
  const width = stdout.isTTY ? `tty:${stdout.columns ?? 0}` : 'pipe';
  const vars = ['OCLIF_COLUMNS', 'NO_COLOR', 'FORCE_COLOR', 'TERM', 'COLORTERM', 'CI'].map(
    (name) => `${name}=${env[name] ?? ''}`,
  );
  return [width, ...vars].join(' ');
}

/**
 * The cache, or undefined when there is none, it fails the cache dir's owner and mode checks (cache-file.ts),
 * or a file it depends on changed. Its text is printed through the terminal sanitizer (fast-info.ts).
 */
export function readInfoCache(
  env: NodeJS.ProcessEnv,
  configDir: string,
  debug: CacheDebug | undefined = cacheDebug(env),
): InfoCache | undefined {
  const text = readCacheText(infoCachePath(env), debug);
  if (text === undefined) return undefined;
  let cache: InfoCache;
  try {
    cache = JSON.parse(text) as InfoCache;
  } catch {
    return undefined;
  }
  if (cache?.version !== 1 || !Array.isArray(cache.watch) || cache.configDir !== configDir) return undefined;
  if (cache.initHooks !== false) return undefined;
  for (const { path, mtimeMs } of cache.watch) {
    try {
      if ((statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? null) !== mtimeMs) return undefined;
    } catch {
      return undefined; // unreadable or looping: rebuilt by the full CLI
    }
  }
  return cache;
}

async function mtime(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
}

/** The files the answers depend on (see the module comment). */
export function watchedFiles(config: Config, configDir: string): string[] {
  // Sorted: oclif loads plugins concurrently, so their order differs from run to run, and a list in another
  // order would look like another set-up (starting the cache afresh, forgetting the other answers).
  return [
    join(config.dataDir, 'package.json'),
    join(configDir, 'providers.json'),
    ...[...config.plugins.values()].flatMap((p) => [
      join(p.root, 'package.json'),
      join(p.root, 'oclif.manifest.json'),
    ]),
  ].sort();
}

/**
 * Merges `update` into the cache (a cache built from other files is started afresh) and writes it when it
 * changed. Never fails the command: a cache that cannot be written only means the next run is slower.
 */
export async function updateInfoCache(
  config: Config,
  env: NodeJS.ProcessEnv,
  configDir: string,
  update: (cache: InfoCache) => void | Promise<void>,
): Promise<void> {
  try {
    const watch = await Promise.all(
      watchedFiles(config, configDir).map(async (path) => ({ path, mtimeMs: await mtime(path) })),
    );
    const file = infoCachePath(env);
    const before = readCacheText(file) ?? '';
    let cache: InfoCache | undefined;
    try {
      cache = JSON.parse(before) as InfoCache;
    } catch {
      cache = undefined;
    }
    const initHooks = [...config.plugins.values()].some((p) => (p.hooks?.init?.length ?? 0) > 0);
    if (
      cache?.version !== 1 ||
      cache.configDir !== configDir ||
      cache.initHooks !== initHooks ||
      JSON.stringify(cache.watch) !== JSON.stringify(watch)
    ) {
      cache = { version: 1, watch, configDir, initHooks };
    }
    await update(cache);
    if (cache.help) {
      const keys = Object.keys(cache.help);
      for (const key of keys.slice(0, Math.max(0, keys.length - maxHelpPages))) delete cache.help[key];
    }
    const text = JSON.stringify(cache);
    if (text === before) return;
    await writeCacheText(file, text, cacheDebug(env));
  } catch {
    // The cache is an optimisation only.
  }
}
