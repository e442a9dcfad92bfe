// The credential lookup behind `auth token`, shared by the full CLI and the fast path: manifests, the
// environment and the store only (no plugin code; the network only to refresh a due OAuth token).
import { accessTokenDue, type ChosenBy, type CredentialStore } from '@latchkey/storage';
import { usageError } from '@latchkey/errors';
import { latchkeyEnvName } from '@latchkey/plugin-kit/manifest';
import { envCredential, notSignedIn, type StaticProvider } from '../providers/provider-facts.js';

export interface TokenResult {
  provider: string;
  token: string;
  /** `env:NAME` or `stored:<backend>`. */
  source: string;
  /** A stored account: its name, and why it is the one in use (`--account`, `LATCHKEY_<ID>_ACCOUNT`, ...). */
  account?: string;
  chosenBy?: ChosenBy;
  /** The variable (env) or directory (directory) that chose it. */
  detail?: string;
}

/** Which account `auth token` was asked for: `--account`, and the directory it runs in. */
export interface AccountRequest {
  /** `--account NAME`. */
  account?: string | undefined;
  /** The working directory: the nearest directory choice (`auth switch --dir`) at or above it applies. */
  cwd: string;
}

/**
 * The credential for a provider, in the one resolution order: `--account`, then the provider's environment
 * credential, then `LATCHKEY_<ID>_ACCOUNT`, then the nearest directory choice, then the default account.
 * A named account that is not stored is ACCOUNT_NOT_FOUND (exit 4) listing the stored names. Reads only
 * the manifests, the environment and the store, and no provider code; the one network call is the refresh
 * of a stored OAuth token that can be refreshed and is due (under a minute left).
 */
export async function resolveTokenFrom(
  providers: Map<string, StaticProvider>,
  env: NodeJS.ProcessEnv,
  store: CredentialStore,
  requested: string | undefined,
  choose: (candidates: string[]) => Promise<StaticProvider>,
  request: AccountRequest,
): Promise<TokenResult> {
  if (request.account !== undefined && request.account.trim() === '') {
    throw usageError(
      '--account needs an account name.',
      'Pass --account NAME (`latchkey auth status` lists them).',
    );
  }
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
  const chosen = await choose(candidates);
  const { manifest } = chosen;
  const flag = request.account;
  const fromEnv = flag === undefined ? envCredential(manifest, env) : undefined;
  if (fromEnv) return { provider: manifest.id, token: fromEnv.token, source: `env:${fromEnv.variable}` };
  const variable = latchkeyEnvName(manifest.id, 'ACCOUNT');
  const value = env[variable]?.trim();
  let stored = await store.chooseCredential(manifest.id, {
    ...(flag !== undefined && { flag }),
    ...(value && { envAccount: { variable, value } }),
    cwd: request.cwd,
  });
  if (!stored) {
    throw notSignedIn(manifest.title, manifest.id, [
      ...manifest.envVars,
      latchkeyEnvName(manifest.id, 'TOKEN'),
    ]);
  }
  // An OAuth token with under a minute left is refreshed first; that code loads only then (docs/storage.md).
  if (
    (stored.record.refreshable || chosen.plugin === 'configured') &&
    accessTokenDue(stored.record, Date.now())
  ) {
    const { refreshStored } = await import('./refresh.js');
    stored = { ...stored, ...(await refreshStored(store, stored, env)) };
  }
  return {
    provider: manifest.id,
    token: stored.secret,
    source: `stored:${stored.record.backend}`,
    account: stored.record.account,
    chosenBy: stored.chosenBy,
    ...(stored.detail !== undefined && { detail: stored.detail }),
  };
}
