import { isLatchkeyError, registerSecret, usageError, type ErrorEnvelope } from '@latchkey/errors';
import { latchkeyEnvName } from '@latchkey/plugin-kit/manifest';
import type { Provider } from '@latchkey/plugin-kit';
import {
  backendPlace,
  checkEndpointBinding,
  CredentialStore,
  resolveConfigDir,
  resolveStoragePreference,
  type AccountRecord,
  type OrphanedSecret,
  type StoredCredential,
} from '@latchkey/storage';
import { isConfiguredProvider } from '../providers/configured-providers.js';
import { providerContext, quietUi, resolveBaseUrl } from '../runtime/context.js';
import { envCredential, loadProviders, notSignedIn } from '../providers/providers.js';
import { chooseStoredAccount, chooseStoredProvider, type StoredRecord } from './stored-accounts.js';
import { isDefaultServer } from '../providers/provider-facts.js';
import type { Runtime } from '../runtime/ports.js';
import { lockWaitNotice, passphraseAsker } from '../runtime/runtime.js';

export interface LogoutRequest {
  provider?: string;
  account?: string;
  all: boolean;
}

export interface LoggedOut {
  provider: string;
  title: string;
  account: string;
  /** true: revoked on the server; false: the revoke failed (see error); undefined: the provider has no revoke. */
  revoked?: boolean;
  revokeError?: ErrorEnvelope;
  /** Where to revoke by hand, when the server could not do it. */
  tokenUrl?: string;
  /** The server that issued it, when not the provider's default (where to revoke it by hand). */
  server?: string;
  /** The server asked to revoke (host[:port]). */
  revokeHost?: string;
}

export interface LogoutOutcome {
  removed: LoggedOut[];
  /** With --all: secrets that had no index record (left by a crash), now deleted. */
  orphansRemoved: OrphanedSecret[];
  /** Env variables that still hold a credential for a provider that was logged out. */
  envStillSet: string[];
}

/**
 * `auth logout`: revokes on the server where the provider can, then deletes locally. A failed revoke is
 * reported and the local delete still happens.
 */
export async function logout(runtime: Runtime, request: LogoutRequest): Promise<LogoutOutcome> {
  const store = cleanupStore(runtime);
  const records = await store.list();
  const discovery = await loadProviders(runtime.config, runtime.env);
  const nothing = {
    notStored: (provider: Provider) =>
      notSignedIn({
        message: `No stored credential for ${provider.title}.`,
        action: envCredential(provider, runtime.env)
          ? `The credential comes from ${envCredential(provider, runtime.env)!.variable}: unset it to sign out.`
          : 'Nothing to do; `latchkey auth status` shows what is stored.',
      }),
    none: () =>
      notSignedIn({
        message: 'No stored credentials.',
        action: 'Nothing to do; `latchkey auth status` shows what is stored.',
      }),
  };
  let targets: StoredRecord[];
  if (request.provider === undefined && request.all) {
    targets = records;
  } else {
    const manifest = await chooseStoredProvider(
      runtime,
      records,
      discovery,
      request.provider,
      'to log out of',
      nothing,
    );
    const ofProvider = records.filter((r) => r.provider === manifest.id);
    targets = request.all
      ? ofProvider
      : [await chooseAccountToRemove(runtime, manifest, ofProvider, request)];
  }

  // Before anything is sent or deleted: a configured OAuth provider whose providers.json no longer names the
  // endpoints a target's tokens were issued by stops the logout (STORAGE_TAMPERED), so the tokens are not
  // sent to the new ones and the user can restore the definition and log out with revocation.
  const read = new Map<AccountRecord, StoredCredential | undefined>();
  for (const record of targets) {
    const provider = discovery.providers.get(record.provider)?.provider;
    if (provider === undefined || !isConfiguredProvider(provider)) continue;
    const stored = await store.get(record.provider, record.account).catch(() => undefined);
    if (stored !== undefined) checkEndpointBinding(store.configDir, stored, provider.definition);
    read.set(record, stored);
  }

  const removed: LoggedOut[] = [];
  for (const record of targets) {
    const provider = discovery.providers.get(record.provider)?.provider;
    const entry: LoggedOut = {
      provider: record.provider,
      title: provider?.title ?? record.provider,
      account: record.account,
    };
    // The provider's token page is its public server's: a credential issued by another server is revoked there.
    if (provider !== undefined && record.baseUrl !== undefined && !isDefaultServer(provider, record.baseUrl))
      entry.server = new URL(record.baseUrl).host;
    else if (provider?.tokenUrl !== undefined) entry.tokenUrl = provider.tokenUrl;
    if (provider?.revoke) await revokeInto(runtime, store, provider, record, entry, read.get(record));
    await store.remove(record.provider, record.account);
    removed.push(entry);
  }
  // --all also clears what a crash left: secrets without an index record, temp files, an unused key.
  const orphansRemoved = request.all ? await store.removeOrphans(request.provider) : [];
  // Nothing at all to log out of is the same outcome with --all as without (exit 4), as `gh auth logout`.
  if (removed.length === 0 && orphansRemoved.length === 0) throw nothing.none();
  const envStillSet: string[] = [];
  for (const id of new Set(removed.map((r) => r.provider))) {
    const provider = discovery.providers.get(id)?.provider;
    const fromEnv = provider ? envCredential(provider, runtime.env) : undefined;
    if (fromEnv) envStillSet.push(fromEnv.variable);
  }
  return { removed, orphansRemoved, envStillSet };
}

/**
 * The one account to log out of: `--account`, else `LATCHKEY_<ID>_ACCOUNT`, else the only one stored; with
 * several, a question in a terminal and a usage error listing them in a pipe (never a guess).
 */
async function chooseAccountToRemove(
  runtime: Runtime,
  provider: { id: string; title: string },
  stored: StoredRecord[],
  request: LogoutRequest,
): Promise<StoredRecord> {
  const variable = latchkeyEnvName(provider.id, 'ACCOUNT');
  return chooseStoredAccount(
    runtime,
    provider,
    stored,
    request.account ?? (runtime.env[variable]?.trim() || undefined),
    {
      question: `Which ${provider.title} account to log out of?`,
      onlyOne: true,
      required: (names) =>
        usageError(
          `--account is required: ${provider.title} has ${stored.length} stored accounts.`,
          `Pass --account with one of: ${names.join(', ')} (or --all for every one).`,
        ),
    },
  );
}

/**
 * The store for reading, removing and looking for orphans. Each record names its backend; the storage
 * preference only decides whether orphaned keychain items are searched for (only with auto and keychain).
 */
export function cleanupStore(runtime: Runtime): CredentialStore {
  return new CredentialStore({
    configDir: resolveConfigDir(runtime.env),
    // Every command has checked LATCHKEY_STORAGE before it runs (base-command.ts).
    preference: resolveStoragePreference(undefined, runtime.env),
    onLockWait: lockWaitNotice(runtime),
    env: runtime.env,
    ...(runtime.keychain && { keychain: runtime.keychain }),
    ...(runtime.interactive && { askPassphrase: passphraseAsker(runtime) }),
  });
}

async function revokeInto(
  runtime: Runtime,
  store: CredentialStore,
  provider: Provider,
  record: AccountRecord,
  entry: LoggedOut,
  checked: StoredCredential | undefined,
): Promise<void> {
  try {
    const stored = checked ?? (await store.get(record.provider, record.account));
    if (!stored) return;
    registerSecret(stored.secret);
    const baseUrl = resolveBaseUrl(runtime, provider, undefined, record.baseUrl);
    const ctx = providerContext(runtime, provider, baseUrl, quietUi(runtime));
    entry.revokeHost =
      isConfiguredProvider(provider) && provider.definition.revocationUrl !== undefined
        ? new URL(provider.definition.revocationUrl).host
        : baseUrl.host;
    // A configured OAuth provider revokes the refresh token too (RFC 7009), before the access token.
    const revoked = isConfiguredProvider(provider)
      ? await provider.revokeSession(
          {
            accessToken: stored.secret,
            ...(stored.refreshToken !== undefined && { refreshToken: stored.refreshToken }),
          },
          ctx,
        )
      : await provider.revoke!(stored.secret, ctx);
    if (revoked) entry.revoked = true;
  } catch (error) {
    if (isLatchkeyError(error) && error.code === 'CANCELLED') throw error;
    entry.revoked = false;
    entry.revokeError = isLatchkeyError(error)
      ? error.toEnvelope()
      : { code: 'REVOKE_FAILED', message: String(error), retryable: false };
  }
}

/** The human summary of a logout, for stderr. */
export function describeLogout(outcome: LogoutOutcome): string[] {
  const lines: string[] = [];
  for (const r of outcome.removed) {
    lines.push(`✓ Logged out of ${r.title} (${r.account})`);
    if (r.revoked === true) lines.push('  The credential was revoked on the server.');
    if (r.revoked === false) {
      const at = r.revokeHost ? ` (${r.revokeHost})` : '';
      const reason = (r.revokeError?.message ?? 'unknown error').replace(/\.$/, '');
      lines.push(
        `! Could not revoke it on the server${at}: ${reason}; the local copy was deleted here anyway.`,
      );
      if (r.tokenUrl) lines.push(`  Revoke it by hand at ${r.tokenUrl}.`);
      else if (r.server) lines.push(`  Revoke it by hand at the server that issued it (${r.server}).`);
      else if (r.revokeError?.action) lines.push(`  ${r.revokeError.action}`);
    }
    if (r.revoked === undefined) {
      lines.push(
        `  The credential itself still works until you revoke it${r.tokenUrl ? ` at ${r.tokenUrl}` : r.server ? ` at the server that issued it (${r.server})` : ` in ${r.title}`}.`,
      );
    }
  }
  for (const o of outcome.orphansRemoved) {
    lines.push(`✓ Deleted an orphaned ${o.provider} secret (${o.account}) from ${backendPlace(o.backend)}`);
  }
  for (const variable of outcome.envStillSet) {
    lines.push(
      `! ${variable} is still set in your environment; latchkey will keep using it until you unset it.`,
    );
  }
  return lines;
}
