// The full CLI's side of a plugin's refresh(): load the plugin (the fast paths never do) and bind its
// refresh to a context for the account's server. refresh.ts calls it under the storage lock.
import { providerContext, quietUi, resolveBaseUrl } from '../runtime/context.js';
import { loadProviders } from '../providers/providers.js';
import type { Runtime } from '../runtime/ports.js';
import type { PluginRefresher } from './token-lookup.js';

/** A `PluginRefresher` for this runtime: the provider's `refresh()`, or undefined when it has none. */
export function pluginRefresher(runtime: Runtime): PluginRefresher {
  return async (providerId, baseUrl) => {
    const provider = (await loadProviders(runtime.config, runtime.env)).providers.get(providerId)?.provider;
    const refresh = provider?.refresh;
    if (provider === undefined || refresh === undefined) return undefined;
    const ctx = providerContext(
      runtime,
      provider,
      resolveBaseUrl(runtime, provider, undefined, baseUrl),
      quietUi(runtime),
    );
    return (credential) => refresh.call(provider, credential, ctx);
  };
}
