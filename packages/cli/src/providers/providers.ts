import type { Config } from '@oclif/core';
import { isLatchkeyError, registerSecretPrefixes } from '@latchkey/errors';
import {
  discoverProviders,
  manifestProblems,
  type DiscoveredProvider,
  type Discovery,
  type RunHook,
} from '@latchkey/plugin-kit';
import { declaredManifests, type StaticProvider } from './provider-facts.js';
import { configuredPlugin, configuredProvider, configuredStaticProviders } from './configured-providers.js';
import { readProviderDefinitions, resolveConfigDir } from '@latchkey/storage';

export {
  chooseProvider,
  envCredential,
  notSignedIn,
  unknownProvider,
  type StaticProvider,
} from './provider-facts.js';

/** Providers as the plugins' package.json files declare them: enough for `auth token`, at no import cost. */
export function staticProviders(config: Config): Map<string, StaticProvider> {
  const found = new Map<string, StaticProvider>();
  for (const plugin of bundledFirst(config)) {
    for (const manifest of declaredManifests(plugin.pjson)) {
      if (manifestProblems(manifest).length > 0 || found.has(manifest.id)) continue;
      registerSecretPrefixes(manifest.secretPrefixes);
      found.set(manifest.id, { manifest, plugin: plugin.name });
    }
  }
  return found;
}

/**
 * `staticProviders` and the providers added by configuration (providers.json); an installed provider keeps
 * its id if a definition has the same name.
 */
export async function allStaticProviders(
  config: Config,
  env: NodeJS.ProcessEnv,
): Promise<Map<string, StaticProvider>> {
  const found = staticProviders(config);
  for (const [id, entry] of await configuredStaticProviders(env)) if (!found.has(id)) found.set(id, entry);
  return found;
}

function bundledFirst(config: Config) {
  const plugins = [...config.plugins.values()];
  return [...plugins.filter((p) => p.type === 'core'), ...plugins.filter((p) => p.type !== 'core')];
}

const hookTimeoutMs = 3000;

/**
 * Asks every plugin for its provider through the `latchkey:provider` hook (timeout, errors captured), and
 * adds the providers defined in providers.json (an unreadable file is listed as broken).
 */
export async function loadProviders(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
  options: { listInsecure?: boolean } = {},
): Promise<Discovery> {
  const runHook: RunHook = (event, options, timeoutMs, captureErrors) =>
    config.runHook(event, options, timeoutMs, captureErrors);
  const preferred = new Set([...config.plugins.values()].filter((p) => p.type === 'core').map((p) => p.name));
  // oclif's hook timeout timer is unref'd: a hook that hangs on a promise holding no handle would let the
  // process run out of work and exit mid-discovery. This timer keeps it alive until that timeout fires.
  const keepAlive = setTimeout(() => undefined, hookTimeoutMs + 1000);
  try {
    const discovery = await discoverProviders(runHook, { timeoutMs: hookTimeoutMs, preferred });
    // Providers declare their token shapes; redaction knows them before any provider code runs.
    for (const { provider } of discovery.providers.values()) registerSecretPrefixes(provider.secretPrefixes);
    await addConfigured(discovery, env, options.listInsecure ?? false);
    return discovery;
  } finally {
    clearTimeout(keepAlive);
  }
}

export function describePlugin(entry: DiscoveredProvider): string {
  if (entry.plugin === configuredPlugin) return `${configuredPlugin} (${entry.provider.defaultBaseUrl})`;
  return entry.pluginVersion ? `${entry.plugin}@${entry.pluginVersion}` : entry.plugin;
}

/** A warning when another plugin also claims this provider id (the bundled one is used). */
export function conflictWarning(discovery: Discovery, id: string): string | undefined {
  const conflict = discovery.conflicts.find((c) => c.id === id);
  if (!conflict) return undefined;
  return `Provider id "${id}" is claimed by ${[conflict.winner, ...conflict.ignored].join(' and ')}; using ${conflict.winner}. Uninstall the other plugin to silence this.`;
}

/**
 * A providers.json that others may read or replace is STORAGE_INSECURE (exit 1), as the credential files
 * are, never "Unknown provider" (`listInsecure`: listed as broken instead, for `doctor`); one that cannot be
 * parsed is listed as broken and the other providers still work.
 */
async function addConfigured(
  discovery: Discovery,
  env: NodeJS.ProcessEnv,
  listInsecure: boolean,
): Promise<void> {
  try {
    for (const [name, definition] of await readProviderDefinitions(resolveConfigDir(env))) {
      if (discovery.providers.has(name)) continue;
      discovery.providers.set(name, {
        provider: configuredProvider(name, definition, env),
        plugin: configuredPlugin,
      });
    }
  } catch (error) {
    if (!listInsecure && isLatchkeyError(error) && error.code === 'STORAGE_INSECURE') throw error;
    discovery.broken.push({
      plugin: 'providers.json',
      reason: error instanceof Error ? error.message : String(error),
    });
  }
}
