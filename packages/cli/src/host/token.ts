import { ExitCode, LatchkeyError } from '@latchkey/errors';
import { latchkeyEnvName } from '@latchkey/plugin-kit';
import { chooseProvider, envCredential, notSignedIn, staticProviders } from './providers.js';
import { credentialStore, type Runtime } from './runtime.js';

export interface TokenResult {
  provider: string;
  token: string;
  /** `env:NAME` or `stored:<backend>`. */
  source: string;
}

/**
 * `auth token`: the credential for a provider from the environment, else the stored active account. Reads
 * only package.json manifests, the environment and the store: no network, no provider code.
 */
export async function resolveToken(runtime: Runtime, requested?: string): Promise<TokenResult> {
  const providers = staticProviders(runtime.config);
  const store = credentialStore(runtime);
  let candidates: string[] = [];
  if (requested === undefined) {
    const stored = new Set((await store.list()).map((record) => record.provider));
    candidates = [...providers.values()]
      .filter(({ manifest }) => envCredential(manifest, runtime.env) !== undefined || stored.has(manifest.id))
      .map(({ manifest }) => manifest.id);
    if (candidates.length === 0) {
      throw new LatchkeyError({
        code: 'NOT_SIGNED_IN',
        message: 'Not signed in to any provider.',
        action: 'Run `latchkey auth login --provider <id>` (see `latchkey auth providers`).',
        exitCode: ExitCode.Auth,
      });
    }
  }
  const { manifest } = await chooseProvider(runtime, requested, providers, candidates, 'to print a token for');
  const fromEnv = envCredential(manifest, runtime.env);
  if (fromEnv) return { provider: manifest.id, token: fromEnv.token, source: `env:${fromEnv.variable}` };
  const stored = await store.get(manifest.id);
  if (!stored) {
    throw notSignedIn(manifest.title, manifest.id, [...manifest.envVars, latchkeyEnvName(manifest.id, 'TOKEN')]);
  }
  return { provider: manifest.id, token: stored.secret, source: `stored:${stored.record.backend}` };
}
