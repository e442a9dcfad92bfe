import { latchkeyEnvName } from '@latchkey/plugin-kit';
import type { CredentialStore } from '@latchkey/storage';
import { writeProviderCache } from './provider-cache.js';
import {
  chooseProvider,
  envCredential,
  loadProviders,
  notSignedIn,
  staticProviders,
  type StaticProvider,
} from './providers.js';
import { readOnlyStore, type Runtime } from './runtime.js';

export interface TokenResult {
  provider: string;
  token: string;
  /** `env:NAME` or `stored:<backend>`. */
  source: string;
}

/**
 * `auth token` with the full CLI: providers from the plugins' package.json manifests (refreshing the
 * cache the fast path reads), then the lookup below.
 */
export async function resolveToken(runtime: Runtime, requested?: string): Promise<TokenResult> {
  const providers = staticProviders(runtime.config);
  await writeProviderCache(runtime.config, providers, runtime.env).catch(() => undefined);
  if (requested !== undefined && !providers.has(requested)) {
    // A plugin without a static manifest: ask its hook (slower, but still no network and no login code).
    const found = (await loadProviders(runtime.config)).providers.get(requested);
    if (found) providers.set(requested, { manifest: found.provider, plugin: found.plugin });
  }
  return resolveTokenFrom(
    providers,
    runtime.env,
    readOnlyStore(runtime.env, runtime.keychain),
    requested,
    (candidates) => chooseProvider(runtime, requested, providers, candidates, 'to print a token for'),
  );
}

/**
 * The credential for a provider from the environment, else the stored active account. Reads only the
 * manifests, the environment and the store: no network, no provider code.
 */
export async function resolveTokenFrom(
  providers: Map<string, StaticProvider>,
  env: NodeJS.ProcessEnv,
  store: CredentialStore,
  requested: string | undefined,
  choose: (candidates: string[]) => Promise<StaticProvider>,
): Promise<TokenResult> {
  let candidates: string[] = [];
  if (requested === undefined) {
    const stored = new Set((await store.list()).map((record) => record.provider));
    candidates = [...providers.values()]
      .filter(({ manifest }) => envCredential(manifest, env) !== undefined || stored.has(manifest.id))
      .map(({ manifest }) => manifest.id);
    if (candidates.length === 0) {
      throw notSignedIn({
        message: 'Not signed in to any provider.',
        action: 'Run `latchkey auth login --provider <id>` (see `latchkey auth providers`).',
      });
    }
  }
  const { manifest } = await choose(candidates);
  const fromEnv = envCredential(manifest, env);
  if (fromEnv) return { provider: manifest.id, token: fromEnv.token, source: `env:${fromEnv.variable}` };
  const stored = await store.get(manifest.id);
  if (!stored) {
    throw notSignedIn(manifest.title, manifest.id, [
      ...manifest.envVars,
      latchkeyEnvName(manifest.id, 'TOKEN'),
    ]);
  }
  return { provider: manifest.id, token: stored.secret, source: `stored:${stored.record.backend}` };
}
