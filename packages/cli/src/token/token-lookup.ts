// The credential lookup behind `auth token`, shared by the full CLI and the fast path: manifests, the
// environment and the store only (no plugin code; the network only to refresh a due OAuth token).
import {
  accessTokenDue,
  matchAccount,
  unknownAccount,
  type ChosenBy,
  type CredentialStore,
  type StoredCredential,
} from '@latchkey/storage';
import { usageError } from '@latchkey/errors';
import { latchkeyEnvName } from '@latchkey/plugin-kit/manifest';
import { envCredential, notSignedIn, type StaticProvider } from '../providers/provider-facts.js';

/**
 * Renews a stored OAuth token that is due (refresh.ts, or a plugin's own refresh()) and returns it as
 * stored after. Only the full CLI has one (token/refresher.ts): a fast path loads no refresh code and no
 * plugin code, and hands such a run over.
 */
export type Refresher = (
  store: CredentialStore,
  stored: StoredCredential,
  provider: StaticProvider,
) => Promise<StoredCredential>;

/**
 * Thrown where a stored token is due and there is no `Refresher` (the fast paths): not a LatchkeyError,
 * so the fast path hands over to the full CLI, which refreshes it.
 */
export class RefreshNeeded extends Error {
  constructor(readonly provider: string) {
    super(`the ${provider} token is due for a refresh`);
  }
}

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
  refresher?: Refresher,
): Promise<TokenResult> {
  if (request.account !== undefined && request.account.trim() === '') {
    throw usageError(
      '--account needs an account name.',
      'Pass --account NAME (`latchkey auth status` lists them).',
    );
  }
  let candidates: string[] = [];
  if (requested === undefined && request.account !== undefined) {
    // --account alone: the providers that have a stored account of that name (as `auth status --account`).
    candidates = await providersOfAccount(store, request.account, providers);
  } else if (requested === undefined) {
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
  // An OAuth token with under a minute left is refreshed first, by the full CLI (docs/storage.md).
  if (
    (stored.record.refreshable || chosen.plugin === 'configured') &&
    accessTokenDue(stored.record, Date.now())
  ) {
    if (refresher === undefined) throw new RefreshNeeded(manifest.id);
    stored = { ...stored, ...(await refresher(store, stored, chosen)) };
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

/**
 * The ids of the providers (of `known`) with a stored account that `account` names (`matchAccount`, per
 * provider), sorted; none is ACCOUNT_NOT_FOUND (exit 4) listing every stored name.
 */
export async function providersOfAccount(
  store: Pick<CredentialStore, 'list'>,
  account: string,
  known: { has(id: string): boolean },
): Promise<string[]> {
  const records = (await store.list()).filter((r) => known.has(r.provider));
  const ids = [...new Set(records.map((r) => r.provider))].filter((id) => {
    const names = records.filter((r) => r.provider === id).map((r) => r.account);
    return matchAccount(account, names) !== undefined;
  });
  if (ids.length === 0) {
    throw unknownAccount(undefined, account, [...new Set(records.map((r) => r.account))]);
  }
  return ids.sort();
}
