import type { Config } from '@oclif/core';
import { ExitCode, LatchkeyError, registerSecretPrefixes, usageError } from '@latchkey/errors';
import {
  checkTokenInput,
  discoverProviders,
  latchkeyEnvName,
  manifestProblems,
  type DiscoveredProvider,
  type Discovery,
  type ProviderManifest,
  type RunHook,
} from '@latchkey/plugin-kit';
import type { Runtime } from './runtime.js';

/** A provider's static facts as declared in its plugin's package.json, read without loading its code. */
export interface StaticProvider {
  manifest: ProviderManifest;
  plugin: string;
}

/** Providers as the plugins' package.json files declare them: enough for `auth token`, at no import cost. */
export function staticProviders(config: Config): Map<string, StaticProvider> {
  const found = new Map<string, StaticProvider>();
  for (const plugin of bundledFirst(config)) {
    const declared = (plugin.pjson as { latchkey?: { provider?: unknown } }).latchkey?.provider;
    const list = Array.isArray(declared) ? declared : declared === undefined ? [] : [declared];
    for (const manifest of list as ProviderManifest[]) {
      if (manifestProblems(manifest).length > 0 || found.has(manifest.id)) continue;
      registerSecretPrefixes(manifest.secretPrefixes);
      found.set(manifest.id, { manifest, plugin: plugin.name });
    }
  }
  return found;
}

function bundledFirst(config: Config) {
  const plugins = [...config.plugins.values()];
  return [...plugins.filter((p) => p.type === 'core'), ...plugins.filter((p) => p.type !== 'core')];
}

const hookTimeoutMs = 3000;

/** Asks every plugin for its provider through the `latchkey:provider` hook (timeout, errors captured). */
export async function loadProviders(config: Config): Promise<Discovery> {
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
    return discovery;
  } finally {
    clearTimeout(keepAlive);
  }
}

/**
 * The credential in the environment for a provider, if any: its own variables, then `LATCHKEY_<ID>_TOKEN`.
 * Reading `token` checks the value like every token input (a usage error naming the variable, before any
 * provider code or request); callers that only name the variable (logout's "unset it") are not stopped.
 */
export function envCredential(
  manifest: ProviderManifest,
  env: NodeJS.ProcessEnv,
): { readonly token: string; readonly variable: string } | undefined {
  for (const variable of [...manifest.envVars, latchkeyEnvName(manifest.id, 'TOKEN')]) {
    const value = env[variable]?.trim();
    if (!value) continue;
    return {
      variable,
      get token() {
        checkTokenInput(value, variable);
        return value;
      },
    };
  }
  return undefined;
}

/**
 * Chooses the provider a command applies to: the one named by `--provider`, else the only candidate, else
 * a question in a terminal, else a usage error that lists the choices.
 */
export async function chooseProvider<T extends { manifest: { id: string; title: string } }>(
  runtime: Pick<Runtime, 'interactive'> & Partial<Pick<Runtime, 'prompter'>>,
  requested: string | undefined,
  all: Map<string, T>,
  candidates: string[],
  what: string,
): Promise<T> {
  if (requested !== undefined) {
    const chosen = all.get(requested);
    if (chosen) return chosen;
    throw unknownProvider(requested, [...all.keys()]);
  }
  if (candidates.length === 1) return all.get(candidates[0]!)!;
  // Plugins' hooks answer in whatever order they finish: list the choices by id, the same every run.
  const ordered = [...candidates].sort();
  if (ordered.length > 1 && runtime.interactive && runtime.prompter) {
    const id = await runtime.prompter.select(
      `Which provider ${what}?`,
      ordered.map((c) => ({ name: `${all.get(c)!.manifest.title} (${c})`, value: c })),
    );
    return all.get(id)!;
  }
  const listed = ordered.length > 0 ? ordered : [...all.keys()].sort();
  throw usageError(
    candidates.length === 0
      ? `--provider is required: no provider applies ${what}.`
      : `--provider is required: more than one provider applies ${what}.`,
    `Pass --provider with one of: ${listed.join(', ') || '(none installed)'}.`,
  );
}

export function describePlugin(entry: DiscoveredProvider): string {
  return entry.pluginVersion ? `${entry.plugin}@${entry.pluginVersion}` : entry.plugin;
}

/**
 * NOT_SIGNED_IN (exit 4), the one place it is built: a stored credential is missing or was rejected. With a
 * provider, the message and action are made from its title, id and variables; `detail` gives them instead.
 */
export function notSignedIn(title: string, id: string, envVars: string[]): LatchkeyError;
export function notSignedIn(detail: { message: string; action: string }): LatchkeyError;
export function notSignedIn(
  about: string | { message: string; action: string },
  id?: string,
  envVars: string[] = [],
): LatchkeyError {
  const { message, action } =
    typeof about === 'string'
      ? {
          message: `Not signed in to ${about}.`,
          action: `Run \`latchkey auth login --provider ${id}\`${envVars.length ? ` or set ${envVars.join(' or ')}` : ''}.`,
        }
      : about;
  return new LatchkeyError({ code: 'NOT_SIGNED_IN', message, action, exitCode: ExitCode.Auth });
}

/** `--provider` names nothing installed (exit 2). */
export function unknownProvider(requested: string, known: string[]): LatchkeyError {
  return usageError(
    `Unknown provider ${JSON.stringify(requested)}.`,
    `Choose one of: ${[...known].sort().join(', ') || '(none installed)'}; \`latchkey auth providers\` lists them.`,
  );
}

/** A warning when another plugin also claims this provider id (the bundled one is used). */
export function conflictWarning(discovery: Discovery, id: string): string | undefined {
  const conflict = discovery.conflicts.find((c) => c.id === id);
  if (!conflict) return undefined;
  return `Provider id "${id}" is claimed by ${[conflict.winner, ...conflict.ignored].join(' and ')}; using ${conflict.winner}. Uninstall the other plugin to silence this.`;
}
