import { validateProvider, type Provider } from './provider.js';

/** The custom oclif hook every provider plugin implements: it returns the plugin's provider(s). */
export const providerHookEvent = 'latchkey:provider';

/**
 * The hooks latchkey defines, the way oclif types its own (`{options, return}` per event). A host passes it
 * to oclif's `Hook<'latchkey:provider', LatchkeyHooks>` and `runHook`; a plugin types its hook as `ProviderHook`.
 */
export interface LatchkeyHooks {
  'latchkey:provider': { options: Record<string, never>; return: Provider | Provider[] };
}

/** A plugin's `latchkey:provider` hook (its package.json `oclif.hooks` entry points at it). */
export type ProviderHook = (
  this: unknown,
  options: LatchkeyHooks['latchkey:provider']['options'],
) => Promise<LatchkeyHooks['latchkey:provider']['return']>;

/**
 * What oclif's `config.runHook(event, options, timeout, captureErrors)` resolves to (structurally). A plugin
 * is untrusted, so what its hook answered is checked by discovery, not believed from the type.
 */
export interface HookRunResult {
  successes: Array<{ result: unknown; plugin: { name: string; version?: string } }>;
  failures: Array<{ error: unknown; plugin: { name: string; version?: string } }>;
}

/** oclif's `config.runHook` for latchkey's hooks, as discovery calls it (with a timeout and errors captured). */
export type RunHook = <E extends keyof LatchkeyHooks>(
  event: E,
  options: LatchkeyHooks[E]['options'],
  timeoutMs: number,
  captureErrors: true,
) => Promise<HookRunResult>;

/** A provider and the plugin it came from. */
export interface DiscoveredProvider {
  provider: Provider;
  plugin: string;
  pluginVersion?: string;
}

/** A plugin whose hook threw, timed out or answered something that is not a provider. */
export interface BrokenPlugin {
  plugin: string;
  reason: string;
}

/** Two or more plugins claiming one provider id. */
export interface ProviderConflict {
  id: string;
  /** The plugin whose provider is used. */
  winner: string;
  /** Plugins whose provider with the same id was ignored. */
  ignored: string[];
}

/** Everything discovery found: usable providers by id, broken plugins, and id conflicts. */
export interface Discovery {
  providers: Map<string, DiscoveredProvider>;
  broken: BrokenPlugin[];
  conflicts: ProviderConflict[];
}

/**
 * Asks every installed plugin for its providers through the `latchkey:provider` hook, with a timeout and
 * errors captured: a plugin that throws, hangs or returns garbage is listed as broken and the rest still
 * work. Two providers with one id: the one from a plugin in `preferred` (the bundled ones) wins, and the
 * conflict names both plugins.
 */
export async function discoverProviders(
  runHook: RunHook,
  options: { timeoutMs?: number; preferred?: ReadonlySet<string> } = {},
): Promise<Discovery> {
  const result = await runHook(providerHookEvent, {}, options.timeoutMs ?? 3000, true);
  const providers = new Map<string, DiscoveredProvider>();
  const broken: BrokenPlugin[] = [];
  const conflicts = new Map<string, ProviderConflict>();
  const preferred = options.preferred ?? new Set<string>();

  for (const failure of result.failures) {
    broken.push({ plugin: failure.plugin.name, reason: describeFailure(failure.error) });
  }
  for (const success of result.successes) {
    const plugin = success.plugin.name;
    const answered = success.result;
    if (answered === undefined || answered === null) continue;
    const list = Array.isArray(answered) ? answered : [answered];
    for (const candidate of list) {
      const problems = validateProvider(candidate);
      if (problems.length > 0) {
        broken.push({ plugin, reason: `its provider is not valid: ${problems.join('; ')}` });
        continue;
      }
      const provider = candidate as Provider;
      const entry: DiscoveredProvider = { provider, plugin };
      if (success.plugin.version !== undefined) entry.pluginVersion = success.plugin.version;
      const existing = providers.get(provider.id);
      if (!existing) {
        providers.set(provider.id, entry);
        continue;
      }
      const keepNew = preferred.has(plugin) && !preferred.has(existing.plugin);
      const winner = keepNew ? entry : existing;
      const loser = keepNew ? existing : entry;
      providers.set(provider.id, winner);
      const conflict = conflicts.get(provider.id) ?? { id: provider.id, winner: winner.plugin, ignored: [] };
      conflict.winner = winner.plugin;
      conflict.ignored = [...conflict.ignored.filter((p) => p !== winner.plugin), loser.plugin];
      conflicts.set(provider.id, conflict);
    }
  }
  return { providers, broken, conflicts: [...conflicts.values()] };
}

function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/timed out/i.test(message)) return `its provider hook did not answer in time (${message})`;
  return `its provider hook failed: ${message}`;
}
