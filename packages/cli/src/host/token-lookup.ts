// The credential lookup behind `auth token`, shared by the full CLI and the fast path: manifests, the
// environment and the store only (no plugin code, no network).
import type { CredentialStore } from '@latchkey/storage';
import { latchkeyEnvName } from '@latchkey/plugin-kit/manifest';
import { envCredential, notSignedIn, type StaticProvider } from './provider-facts.js';

export interface TokenResult {
  provider: string;
  token: string;
  /** `env:NAME` or `stored:<backend>`. */
  source: string;
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
