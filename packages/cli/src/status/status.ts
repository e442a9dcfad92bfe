import {
  ExitCode,
  isLatchkeyError,
  accountLabel,
  registerSecret,
  sanitizeLine,
  type ErrorEnvelope,
} from '@latchkey/errors';
import { sanitizeIdentity, type Identity, type Provider } from '@latchkey/plugin-kit';
import {
  accessTokenDue,
  backendPlace,
  checkEndpointBinding,
  matchAccount,
  unknownAccount,
  type AccountRecord,
  type BackendName,
  type CredentialStore,
} from '@latchkey/storage';
import { isConfiguredProvider } from '../providers/configured-providers.js';
import { latchkeyEnvName } from '@latchkey/plugin-kit/manifest';
import { providerContext, quietUi, resolveBaseUrl } from '../runtime/context.js';
import { httpClient } from '../runtime/runtime.js';
import {
  conflictWarning,
  envCredential,
  loadProviders,
  notSignedIn,
  unknownProvider,
} from '../providers/providers.js';
import { hintForServer, rejectedFromVariable } from '../providers/provider-facts.js';
import { cleanupStore } from '../auth/logout.js';
import { refreshStored } from '../token/refresh.js';
import { localTime } from '../terminal/dates.js';
import { shownDirectory } from '../auth/switch.js';
import type { Runtime } from '../runtime/ports.js';
import { methodWords } from '../auth/sign-in-method.js';

/**
 * The longest one status check waits on a server, retries included (a request may ask for more: status
 * caps it). A server that is down (a refused connection, a host name that does not resolve) is reported
 * at once, without retries; one that accepts the connection and never answers costs this. Every account is
 * checked at the same time, so a whole status run waits at most about this long on the network.
 */
export const statusTimeoutMs = 2000;

/** The provider context of one status check: quiet, bounded by `statusTimeoutMs`, no retry of a dead server. */
function checkContext(runtime: Runtime, provider: Provider, baseUrl: URL, timeoutMs: number) {
  return {
    ...providerContext(runtime, provider, baseUrl, quietUi(runtime)),
    http: httpClient(runtime).with({ maxTimeoutMs: timeoutMs, retryUnreachable: false }),
  };
}

/**
 * valid: the server accepted it; rejected: the server refused it; expired: it expired and cannot be renewed
 * (no refresh token, or the server no longer accepts it: sign in again); unreachable: no answer; error:
 * could not check; orphaned: a stored secret without an index record (a crash left it; `logout --all`
 * removes it).
 */
export type Validity =
  'valid' | 'unchecked' | 'rejected' | 'expired' | 'unreachable' | 'error' | 'not-installed' | 'orphaned';

/** The errors that say a credential expired for good: only a new sign-in helps. */
const expiredCodes = new Set(['SESSION_EXPIRED', 'TOKEN_EXPIRED']);

export interface CredentialStatus {
  provider: string;
  title: string;
  account: string;
  active: boolean;
  /** `env:NAME`, `stored` or `orphaned`. */
  source: string;
  backend?: BackendName;
  /** A pass account: the store that holds it. */
  store?: string;
  baseUrl: string;
  method?: string;
  identity?: Record<string, string | undefined>;
  expiresAt?: string;
  /** A stored account holds an OAuth refresh token: `auth token` renews the access token by itself. */
  refreshable?: boolean;
  validity: Validity;
  /** With `unchecked`: why the server could not be asked. */
  check?: string;
  error?: ErrorEnvelope;
  /** On the credential in use: why it is the one (docs/accounts.md has the order). */
  chosenBy?: ChosenBy;
}

/**
 * flag: `--account`; credential: the provider's credential variable (`detail`); env: `LATCHKEY_<ID>_ACCOUNT`
 * (`detail`); directory: `auth switch --dir` (`detail`: the directory); default: the provider's default.
 */
export interface ChosenBy {
  by: 'flag' | 'credential' | 'env' | 'directory' | 'default';
  detail?: string;
}

export interface StatusOptions {
  /** `--account`: only this account, as the one in use. */
  account?: string;
  /** Where the command runs, for directory choices; default: the process's. */
  cwd?: string;
  /** The longest one check waits on its server; default `statusTimeoutMs`. */
  timeoutMs?: number;
}

/** `auth status`: every env and stored credential, each re-validated with its server; the one in use marked. */
export async function status(
  runtime: Runtime,
  requested?: string,
  options: StatusOptions = {},
): Promise<CredentialStatus[]> {
  const discovery = await loadProviders(runtime.config, runtime.env);
  const store = cleanupStore(runtime);
  let records = await store.list(requested);
  if (requested !== undefined && !discovery.providers.has(requested) && records.length === 0) {
    throw unknownProvider(requested, [...discovery.providers.keys()]);
  }
  const flag = options.account;
  if (flag !== undefined) {
    // --account: that account only, wherever it is stored (one provider with --provider).
    const named = records.filter((r) => {
      const mine = records.filter((other) => other.provider === r.provider).map((other) => other.account);
      return r.account === matchAccount(flag, mine);
    });
    if (named.length === 0) {
      const title =
        requested !== undefined
          ? (discovery.providers.get(requested)?.provider.title ?? requested)
          : undefined;
      throw unknownAccount(title, flag, [...new Set(records.map((r) => r.account))]);
    }
    records = named;
  }
  const ids = new Set<string>(
    flag !== undefined
      ? records.map((r) => r.provider)
      : requested !== undefined
        ? [requested]
        : [...discovery.providers.keys(), ...records.map((r) => r.provider)],
  );
  const cwd = options.cwd ?? process.cwd();
  const timeoutMs = options.timeoutMs ?? statusTimeoutMs;
  const checks: Array<Promise<CredentialStatus>> = [];
  for (const id of ids) {
    const provider = discovery.providers.get(id)?.provider;
    // The order: --account > the provider's credential variable > LATCHKEY_<ID>_ACCOUNT > directory > default.
    const fromEnv = flag === undefined && provider ? envCredential(provider, runtime.env) : undefined;
    if (fromEnv) {
      checks.push(
        checkEnv(runtime, provider!, fromEnv.token, fromEnv.variable, timeoutMs).then((entry) => ({
          ...entry,
          chosenBy: { by: 'credential', detail: fromEnv.variable },
        })),
      );
    }
    const variable = latchkeyEnvName(id, 'ACCOUNT');
    const envAccount = runtime.env[variable]?.trim();
    const chosen = fromEnv
      ? undefined
      : await store.choose(id, {
          ...(flag !== undefined && { flag }),
          ...(envAccount ? { envAccount: { variable, value: envAccount } } : {}),
          cwd,
        });
    for (const record of records.filter((r) => r.provider === id)) {
      const inUse = chosen?.record.account === record.account;
      const check = checkStored(runtime, store, provider, { ...record, active: inUse }, timeoutMs);
      checks.push(
        inUse
          ? check.then((entry) => ({
              ...entry,
              chosenBy: {
                by: chosen.chosenBy,
                ...(chosen.detail !== undefined && { detail: chosen.detail }),
              },
            }))
          : check,
      );
    }
  }
  for (const id of ids) {
    const conflict = conflictWarning(discovery, id);
    if (conflict) runtime.warn(conflict);
  }
  const results = await Promise.all(checks);
  results.push(...(await orphaned(store, discovery, requested)));
  // Keep each provider's rows together (orphans come after its checked credentials).
  const order = new Map<string, number>();
  for (const r of results) if (!order.has(r.provider)) order.set(r.provider, order.size);
  results.sort((a, b) => order.get(a.provider)! - order.get(b.provider)!);
  if (results.length === 0) {
    const provider = requested !== undefined ? discovery.providers.get(requested)?.provider : undefined;
    throw provider
      ? notSignedIn(provider.title, provider.id, provider.envVars)
      : notSignedIn('any provider', '<id>', []);
  }
  return results;
}

/** Secrets without an index record; no secret is read. Shown, never checked with a server. */
async function orphaned(
  store: CredentialStore,
  discovery: Awaited<ReturnType<typeof loadProviders>>,
  requested: string | undefined,
): Promise<CredentialStatus[]> {
  // A storage problem here is reported by the checks of the stored accounts themselves.
  // The keychain is searched only when it is in use: a file-only user never waits on it here.
  const orphans = await store.orphans({ keychain: 'if-used' }).catch(() => []);
  return orphans
    .filter((o) => requested === undefined || o.provider === requested)
    .map((o) => ({
      provider: o.provider,
      title: discovery.providers.get(o.provider)?.provider.title ?? o.provider,
      account: o.account,
      active: false,
      source: 'orphaned',
      backend: o.backend,
      baseUrl: '',
      validity: 'orphaned' as const,
      error: {
        code: 'CREDENTIAL_ORPHANED',
        message:
          'A stored secret without an entry in accounts.json (an interrupted write left it); it is never used.',
        action: 'Delete it: latchkey auth logout --all',
        retryable: false,
      },
    }));
}

async function checkEnv(
  runtime: Runtime,
  provider: Provider,
  token: string,
  variable: string,
  timeoutMs: number,
): Promise<CredentialStatus> {
  registerSecret(token);
  const baseUrl = resolveBaseUrl(runtime, provider);
  const entry: CredentialStatus = {
    provider: provider.id,
    title: provider.title,
    account: accountLabel(token),
    active: true,
    source: `env:${variable}`,
    baseUrl: baseUrl.toString().replace(/\/$/, ''),
    validity: 'valid',
  };
  return verifyInto(entry, () =>
    provider.verify(token, checkContext(runtime, provider, baseUrl, timeoutMs)).catch((error: unknown) => {
      throw rejectedFromVariable(error, variable);
    }),
  );
}

async function checkStored(
  runtime: Runtime,
  store: CredentialStore,
  provider: Provider | undefined,
  record: AccountRecord & { active: boolean },
  timeoutMs: number,
): Promise<CredentialStatus> {
  const entry: CredentialStatus = {
    provider: record.provider,
    title: provider?.title ?? record.provider,
    account: record.account,
    active: record.active,
    source: 'stored',
    backend: record.backend,
    ...(record.store !== undefined && { store: record.store }),
    baseUrl: record.baseUrl ?? provider?.defaultBaseUrl ?? '',
    validity: 'valid',
  };
  if (record.method !== undefined) entry.method = record.method;
  if (record.identity !== undefined && Object.keys(record.identity).length > 0) {
    entry.identity = { ...record.identity };
  }
  if (record.expiresAt !== undefined) entry.expiresAt = record.expiresAt;
  entry.refreshable = record.refreshable === true;
  if (!provider) {
    entry.validity = 'not-installed';
    entry.error = {
      code: 'PROVIDER_NOT_INSTALLED',
      message: `No installed plugin provides "${record.provider}", so this credential cannot be checked.`,
      action: `Reinstall its plugin, or remove it with \`latchkey auth logout --provider ${record.provider} --all\`.`,
      retryable: false,
    };
    return entry;
  }
  return verifyInto(entry, async () => {
    let stored = await store.get(record.provider, record.account);
    if (!stored) throw notSignedIn(provider.title, provider.id, provider.envVars);
    registerSecret(stored.secret);
    // A pass account's record comes with its entry (the store is its index): show what it says.
    if (record.backend === 'pass') {
      const full = stored.record;
      entry.baseUrl = full.baseUrl ?? provider.defaultBaseUrl;
      if (full.method !== undefined) entry.method = full.method;
      if (full.identity !== undefined && Object.keys(full.identity).length > 0) {
        entry.identity = { ...full.identity };
      }
      if (full.expiresAt !== undefined) entry.expiresAt = full.expiresAt;
      entry.refreshable = full.refreshable === true;
    }
    // A configured OAuth provider's token goes only to the endpoints that issued it (STORAGE_TAMPERED).
    if (isConfiguredProvider(provider)) checkEndpointBinding(store.configDir, stored, provider.definition);
    if (stored.record.refreshable && accessTokenDue(stored.record, runtime.clock.now())) {
      // An expired OAuth access token is renewed first, as `auth token` would, so the check is of a live one.
      // The refresh gets its own (longer) limit, not the status one: a refresh cut short after the server
      // rotated the refresh token would leave only a dead one stored, signing the user out.
      const plugin = provider.refresh;
      stored = await refreshStored(store, stored, runtime.env, {
        version: runtime.version,
        ...(!isConfiguredProvider(provider) &&
          plugin !== undefined && {
            pluginRefresh: (credential) =>
              plugin.call(
                provider,
                credential,
                checkContext(
                  runtime,
                  provider,
                  resolveBaseUrl(runtime, provider, undefined, record.baseUrl),
                  timeoutMs,
                ),
              ),
          }),
      });
      if (stored.record.expiresAt !== undefined) entry.expiresAt = stored.record.expiresAt;
    }
    const baseUrl = resolveBaseUrl(runtime, provider, undefined, stored.record.baseUrl);
    return provider
      .verify(stored.secret, checkContext(runtime, provider, baseUrl, timeoutMs))
      .catch((error: unknown) => {
        throw hintForServer(error, provider, baseUrl);
      });
  });
}

async function verifyInto(
  entry: CredentialStatus,
  verify: () => Promise<Identity>,
): Promise<CredentialStatus> {
  try {
    const identity = sanitizeIdentity(await verify());
    const shown = { ...entry.identity, ...identity.details };
    if (identity.name !== undefined) shown.name = identity.name;
    if (identity.email !== undefined) shown.email = identity.email;
    if (identity.permission !== undefined) shown.permission = identity.permission;
    if (Object.keys(shown).length > 0) entry.identity = shown;
    if (identity.expiresAt !== undefined) entry.expiresAt = identity.expiresAt;
    entry.validity = identity.notChecked === undefined ? 'valid' : 'unchecked';
    if (identity.notChecked !== undefined) entry.check = identity.notChecked;
  } catch (error) {
    if (!isLatchkeyError(error)) throw error;
    if (error.code === 'CANCELLED') throw error;
    entry.error = error.toEnvelope();
    entry.validity =
      error.exitCode === ExitCode.Auth
        ? expiredCodes.has(error.code)
          ? 'expired'
          : 'rejected'
        : ['NETWORK_ERROR', 'TIMEOUT', 'UNEXPECTED_RESPONSE', 'RATE_LIMITED'].includes(error.code)
          ? 'unreachable'
          : 'error';
  }
  return entry;
}

/**
 * 0 when everything shown is valid; 4 when a credential was rejected or has expired, or there are only
 * orphans; 1 when one could not be checked. Orphans alone don't change the code.
 */
export function statusExitCode(all: CredentialStatus[]): number {
  const results = all.filter((r) => r.validity !== 'orphaned');
  if (results.length === 0) return ExitCode.Auth;
  if (results.some((r) => r.validity === 'rejected' || r.validity === 'expired')) return ExitCode.Auth;
  if (results.some((r) => r.validity !== 'valid' && r.validity !== 'unchecked')) return ExitCode.Failure;
  return ExitCode.Ok;
}

const marks: Record<Validity, string> = {
  valid: '✓',
  unchecked: '-',
  rejected: '✗',
  expired: '✗',
  unreachable: '?',
  error: '!',
  'not-installed': '?',
  orphaned: '!',
};

const words: Record<Validity, string> = {
  valid: 'valid',
  unchecked: 'not checked',
  rejected: 'rejected by the server',
  expired: 'expired (sign in again)',
  unreachable: 'could not be checked (server unreachable)',
  error: 'could not be checked',
  'not-installed': 'provider not installed',
  orphaned: 'orphaned secret, not in the index (never used)',
};

/** The human form of `auth status` (stdout). */
export function describeStatus(results: CredentialStatus[], configDir: string, home?: string): string {
  const lines: string[] = [];
  let last = '';
  for (const r of results) {
    if (r.provider !== last) {
      if (lines.length > 0) lines.push('');
      lines.push(`${r.title} (${r.provider})`);
      last = r.provider;
    }
    lines.push(`  ${marks[r.validity]} ${r.account}${r.active ? ' (active)' : ''}: ${words[r.validity]}`);
    const where = backendPlace(r.backend ?? 'file', r.backend === 'pass' ? r.store : configDir);
    const source = r.source.startsWith('env:')
      ? `environment variable ${r.source.slice(4)} (not stored)`
      : r.validity === 'orphaned'
        ? `left in ${where}`
        : `stored in ${where}`;
    // Values may come from a server: one line each, whatever they contain.
    const row = (label: string, value: string) =>
      lines.push(`    ${`${label}:`.padEnd(12)}${sanitizeLine(value)}`);
    row('Source', source);
    if (r.chosenBy) row('Chosen by', chosenByText(r.chosenBy, home));
    if (r.validity !== 'orphaned') {
      row('Base URL', r.baseUrl);
      for (const [key, value] of Object.entries(r.identity ?? {})) {
        if (value !== undefined) row(`${key[0]!.toUpperCase()}${key.slice(1)}`, value);
      }
      // "never" only for a credential the server accepted: a rejected one has no expiry worth showing.
      if (r.check !== undefined) row('Check', `not checked: ${r.check}`);
      if (r.expiresAt !== undefined) row('Expires', localTime(r.expiresAt));
      else if (r.validity === 'valid') row('Expires', 'never');
      const how = methodWords(r.method);
      if (how !== undefined) row('Signed in', `with ${how}`);
      if (r.refreshable)
        row('Refresh', 'a refresh token is held: the access token is renewed when it expires');
    }
    if (r.error) {
      row('Problem', r.error.message);
      if (r.error.action) lines.push(`${' '.repeat(16)}${sanitizeLine(r.error.action)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export { localTime } from '../terminal/dates.js';

/** "--account", "ACME_API_KEY", "LATCHKEY_ACME_ACCOUNT", "directory ~/work/api", "default". */
export function chosenByText(chosen: ChosenBy, home: string | undefined): string {
  switch (chosen.by) {
    case 'flag':
      return '--account';
    case 'credential':
    case 'env':
      return chosen.detail ?? chosen.by;
    case 'directory':
      return `directory ${shownDirectory(chosen.detail ?? '', home)} (auth switch --dir)`;
    case 'default':
      return 'default';
  }
}
