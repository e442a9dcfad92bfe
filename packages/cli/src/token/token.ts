import { allStaticProviders, chooseProvider, loadProviders } from '../providers/providers.js';
import type { Runtime } from '../runtime/ports.js';
import { readOnlyStore } from '../runtime/environment.js';
import { passphraseAsker } from '../runtime/runtime.js';
import { resolveTokenFrom, type AccountRequest, type TokenResult } from './token-lookup.js';
import { tokenRefresher } from './refresher.js';

export { resolveTokenFrom, type AccountRequest, type TokenResult } from './token-lookup.js';

/**
 * `auth token` with the full CLI: providers from the plugins' package.json manifests, then the lookup below (`--account` and the working directory in `request`).
 */
export async function resolveToken(
  runtime: Runtime,
  requested?: string,
  request: AccountRequest = { cwd: process.cwd() },
): Promise<TokenResult> {
  const providers = await allStaticProviders(runtime.config, runtime.env);
  if (requested !== undefined && !providers.has(requested)) {
    // A plugin without a static manifest: ask its hook (slower, but still no network and no login code).
    const found = (await loadProviders(runtime.config, runtime.env)).providers.get(requested);
    if (found) providers.set(requested, { manifest: found.provider, plugin: found.plugin });
  }
  return resolveTokenFrom(
    providers,
    runtime.env,
    readOnlyStore(runtime.env, { keychain: runtime.keychain, askPassphrase: passphraseAsker(runtime) }),
    requested,
    (candidates) => chooseProvider(runtime, requested, providers, candidates, 'to print a token for'),
    request,
    tokenRefresher(runtime),
  );
}
