// The credential lookup behind `auth token`, shared by the full CLI and the fast path: manifests, the
// environment and the store only (no plugin code; the network only to refresh a due OAuth token).
import {
  accessTokenDue,
  matchAccount,
  unknownAccount,
  type ChosenBy,
  type CredentialStore,
} from '@latchkey/storage';
import { ExitCode, LatchkeyError, usageError } from '@latchkey/errors';
import { latchkeyEnvName } from '@latchkey/plugin-kit/manifest';
import { envCredential, notSignedIn, type StaticProvider } from '../providers/provider-facts.js';

/** A plugin provider's refresh, bound to its context (see `PluginRefresher`). */
export type PluginRefresh = (credential: { token: string; refreshToken: string }) => Promise<{
  token: string;
  refreshToken?: string;
  expiresAt?: string;
}>;

/**
 * Loads a plugin provider's code and returns its `refresh()` bound to a context for the account's base
 * URL (undefined: it has none). Only the full CLI has one: the fast paths load no plugin code.
 */
export type PluginRefresher = (
  providerId: string,
  baseUrl: string | undefined,
) => Promise<PluginRefresh | undefined>;

/**
 * Thrown where a stored plugin token is due and only the plugin's own code can renew it, on a path that
 * loads no plugin code (the fast paths): not a LatchkeyError, so the fast path hands over to the full CLI.
 */
export class PluginCodeNeeded extends Error {
  constructor(readonly provider: string) {
    super(`the ${provider} plugin's refresh() is needed`);
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
  pluginRefresher?: PluginRefresher,
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
  // An OAuth token with under a minute left is refreshed first; that code loads only then (docs/storage.md).
  if (
    (stored.record.refreshable || chosen.plugin === 'configured') &&
    accessTokenDue(stored.record, Date.now())
  ) {
    let pluginRefresh: PluginRefresh | undefined;
    if (chosen.plugin !== 'configured') {
      // A plugin's token: its own refresh() renews it, under the same lock and rules (refresh.ts).
      if (pluginRefresher === undefined) throw new PluginCodeNeeded(manifest.id);
      pluginRefresh = await pluginRefresher(manifest.id, stored.record.baseUrl);
      if (pluginRefresh === undefined) throw cannotRenew(manifest.id, manifest.title, stored.record.account);
    }
    const { refreshStored } = await import('./refresh.js');
    stored = {
      ...stored,
      ...(await refreshStored(store, stored, env, pluginRefresh ? { pluginRefresh } : {})),
    };
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

/** A due plugin token whose plugin has no refresh() (any more): exit 4, sign in again. */
function cannotRenew(id: string, title: string, account: string): LatchkeyError {
  return new LatchkeyError({
    code: 'TOKEN_EXPIRED',
    message: `The ${title} access token of ${account} has expired and the installed ${id} plugin cannot renew it.`,
    action: `Sign in again: latchkey auth login --provider ${id}`,
    exitCode: ExitCode.Auth,
  });
}
