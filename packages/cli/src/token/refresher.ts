// The full CLI's refresh of a due stored token (the fast paths have none and hand such a run over):
// refresh.ts at the provider's token endpoint, or, for a plugin's token, the plugin's own refresh() bound
// to a context for the account's server. refresh.ts runs either under the storage lock.
import { ExitCode, LatchkeyError } from '@latchkey/errors';
import { providerContext, quietUi, resolveBaseUrl } from '../runtime/context.js';
import { loadProviders } from '../providers/providers.js';
import type { Runtime } from '../runtime/ports.js';
import type { PluginRefresh } from './refresh.js';
import type { Refresher } from './token-lookup.js';

/** The `Refresher` of this runtime. The refresh code (HTTP client, OAuth) loads only when a token is due. */
export function tokenRefresher(runtime: Runtime): Refresher {
  return refresherWith(runtime.env, (id, baseUrl) => pluginRefreshFor(runtime, id, baseUrl));
}

/** A `Refresher` that finds a plugin's bound refresh() with `pluginRefreshOf` (undefined: it has none). */
export function refresherWith(
  env: NodeJS.ProcessEnv,
  pluginRefreshOf: (providerId: string, baseUrl: string | undefined) => Promise<PluginRefresh | undefined>,
): Refresher {
  return async (store, stored, { manifest, plugin }) => {
    let pluginRefresh: PluginRefresh | undefined;
    if (plugin !== 'configured') {
      pluginRefresh = await pluginRefreshOf(manifest.id, stored.record.baseUrl);
      if (pluginRefresh === undefined) throw cannotRenew(manifest.id, manifest.title, stored.record.account);
    }
    const { refreshStored } = await import('./refresh.js');
    return refreshStored(store, stored, env, pluginRefresh ? { pluginRefresh } : {});
  };
}

/** The provider's `refresh()` bound to a context for `baseUrl`, or undefined when it has none. */
async function pluginRefreshFor(
  runtime: Runtime,
  providerId: string,
  baseUrl: string | undefined,
): Promise<PluginRefresh | undefined> {
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
}

/** A due plugin token whose plugin has no refresh() (any more): exit 4, sign in again. */
function cannotRenew(id: string, title: string, account: string): LatchkeyError {
  return new LatchkeyError({
    code: 'TOKEN_EXPIRED',
    message: `The ${title} access token of ${account} has expired and the installed ${id} plugin cannot renew it.`,
    action: `Sign in again: latchkey auth login --provider ${id}`,
    exitCode: ExitCode.Auth,
  });
}
