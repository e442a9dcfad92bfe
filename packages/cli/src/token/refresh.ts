// Refresh on the token path (`auth token`, exec, inject, references): loaded with a dynamic import only when
// the stored access token is due, so the usual `auth token` never loads the HTTP or OAuth code.
import {
  ExitCode,
  LatchkeyError,
  redact,
  registerSecret,
  sanitizeLine,
  toLatchkeyError,
} from '@latchkey/errors';
import { HttpClient } from '@latchkey/http';
import { refreshAccessToken } from '@latchkey/oauth';
import {
  accessTokenDue,
  checkEndpointBinding,
  readProviderDefinitions,
  type AccountRecord,
  type CredentialStore,
  type RefreshFailure,
  type StoredCredential,
} from '@latchkey/storage';
import { endpointsOf, oauthClient, signInAgain } from '../providers/configured-providers.js';

/**
 * The refresh request's time limit. The process sending it holds the storage lock until the answer is
 * stored (an answer may rotate the refresh token: giving up on it would lose the session), and the others
 * wait for it: `LOCK_WAIT_MS` (30 s, @latchkey/storage) per holder, this plus 15 s for a busy machine.
 */
export const REFRESH_TIMEOUT_MS = 15_000;
/** After a failed refresh, nobody sends that refresh token again for this long (or a longer Retry-After). */
export const REFRESH_BACKOFF_MS = 10_000;
/** The longest back-off a server's Retry-After can ask for. */
export const REFRESH_BACKOFF_MAX_MS = 5 * 60_000;
/** How much of a recorded message or action is kept (the index validator's bound). */
const FAILURE_TEXT_MAX = 500;

export interface RefreshDeps {
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  /** Sent in User-Agent. */
  version?: string;
  /** The refresh request's time limit; default (and at most) `REFRESH_TIMEOUT_MS`. */
  timeoutMs?: number;
  /**
   * A plugin provider's own `refresh()`, bound to its context (a provider that is not configured by
   * providers.json). Called under the lock with the current tokens, exactly like the configured refresh.
   */
  pluginRefresh?: PluginRefresh;
}

/** A plugin provider's own `refresh()`, bound to its context. */
export type PluginRefresh = (credential: { token: string; refreshToken: string }) => Promise<RefreshResult>;

/** A plugin provider's refresh, as `refreshStored` calls it. */
export interface RefreshResult {
  token: string;
  refreshToken?: string;
  expiresAt?: string;
}

function expired(record: AccountRecord, why: string): LatchkeyError {
  return new LatchkeyError({
    code: 'TOKEN_EXPIRED',
    message: `The ${record.provider} access token of ${record.account} has expired${why}.`,
    action: `Sign in again: ${signInAgain(record.provider)}`,
    exitCode: ExitCode.Auth,
  });
}

/**
 * The failure recorded for the current access token (a refresh failed after it was issued) while nobody may
 * retry yet: within the back-off, or for good (`invalid_grant`: only a new sign-in helps). Undefined when
 * there is none, when it is older than the token (an older latchkey kept it through a refresh), or once the
 * back-off is over.
 */
export function pendingRefreshFailure(record: AccountRecord, now: number): RefreshFailure | undefined {
  const failure = record.refreshFailure;
  if (failure === undefined) return undefined;
  if (Date.parse(failure.at) < Date.parse(record.renewedAt ?? record.createdAt)) return undefined;
  if (failure.retryAt !== undefined && now >= Date.parse(failure.retryAt)) return undefined;
  return failure;
}

/** A failed refresh as it is recorded: the error as printed (one line, redacted, bounded), and when to retry. */
export function refreshFailureOf(error: LatchkeyError, now: number): RefreshFailure {
  const text = (value: string) => redact(sanitizeLine(value)).slice(0, FAILURE_TEXT_MAX);
  const backoff = Math.min(Math.max(error.retryAfterMs ?? 0, REFRESH_BACKOFF_MS), REFRESH_BACKOFF_MAX_MS);
  const exitCode = [ExitCode.Failure, ExitCode.Usage, ExitCode.Auth].find((c) => c === error.exitCode);
  return {
    at: new Date(now).toISOString(),
    // The server no longer accepts this refresh token: nobody sends it again.
    ...(error.code !== 'SESSION_EXPIRED' && { retryAt: new Date(now + backoff).toISOString() }),
    code: /^[A-Z][A-Z0-9_]{0,63}$/.test(error.code) ? error.code : 'REFRESH_FAILED',
    message: text(error.message),
    ...(error.action !== undefined && { action: text(error.action) }),
    exitCode: exitCode ?? ExitCode.Failure,
    retryable: error.retryable,
  };
}

/** The error a recorded failure is reported as: the same for the process that sent the refresh and for those that waited. */
export function refreshFailureError(failure: RefreshFailure): LatchkeyError {
  return new LatchkeyError({
    code: failure.code,
    message: failure.message,
    ...(failure.action !== undefined && { action: failure.action }),
    retryable: failure.retryable === true,
    exitCode: failure.exitCode as ExitCode,
  });
}

/**
 * The stored credential of `record`, refreshed first when it is due (RFC 6749 section 6). One request per
 * due token, whatever happens: under the storage lock the credential is read again and refreshed only if
 * it is still due and no failed refresh of it is recorded within its back-off, so concurrent processes get
 * the token the first one stored, or the error it recorded. The holder waits for the answer (at most
 * `REFRESH_TIMEOUT_MS`) and stores it; a failure (5xx, HTML, reset, timeout, `invalid_grant`) is recorded in
 * the index record and nobody sends that refresh token again for `REFRESH_BACKOFF_MS` (a 429's Retry-After,
 * bounded), or ever after `invalid_grant`. An expired token is never returned: no refresh token (or no
 * provider definition to refresh with) is TOKEN_EXPIRED, `invalid_grant` is SESSION_EXPIRED (both exit 4,
 * "sign in again"), a server that cannot be reached is exit 1.
 */
export async function refreshStored(
  store: CredentialStore,
  seen: StoredCredential,
  env: NodeJS.ProcessEnv,
  deps: RefreshDeps = {},
): Promise<StoredCredential> {
  const now = deps.now ?? Date.now;
  const record = seen.record;
  const definition = (await readProviderDefinitions(store.configDir)).get(record.provider);
  let failed: LatchkeyError | undefined;
  const renewed = await store.renew(record.provider, record.account, async (current) => {
    // Another process refreshed it meanwhile: use its token. For tokens that live a minute or less the
    // margin is half their lifetime, so a fresh one is not due again and concurrent callers make one request.
    if (!accessTokenDue(current.record, now())) return undefined;
    if (current.refreshToken === undefined) throw expired(current.record, ' and there is no refresh token');
    if (definition === undefined && deps.pluginRefresh !== undefined) {
      const recordedFailure = pendingRefreshFailure(current.record, now());
      if (recordedFailure !== undefined) throw refreshFailureError(recordedFailure);
      registerSecret(current.refreshToken);
      let result: RefreshResult;
      try {
        result = await deps.pluginRefresh({ token: current.secret, refreshToken: current.refreshToken });
      } catch (thrown) {
        const error = toLatchkeyError(thrown);
        if (error.code === 'CANCELLED') throw error;
        const failure = refreshFailureOf(error, now());
        failed = refreshFailureError(failure);
        return { failure };
      }
      registerSecret(result.token);
      if (result.refreshToken !== undefined) registerSecret(result.refreshToken);
      return {
        secret: result.token,
        // Not rotated: the one it has stays.
        refreshToken: result.refreshToken ?? current.refreshToken,
        ...(result.expiresAt !== undefined && { expiresAt: result.expiresAt }),
      };
    }
    if (definition === undefined)
      throw expired(current.record, ` and ${record.provider} is no longer configured`);
    // The refresh token goes only to the token endpoint that issued it (STORAGE_TAMPERED otherwise).
    const endpoints = checkEndpointBinding(store.configDir, current, definition);
    // Another process's refresh of this token failed a moment ago (or for good): report its error.
    const recorded = pendingRefreshFailure(current.record, now());
    if (recorded !== undefined) throw refreshFailureError(recorded);
    const http = new HttpClient({
      clientName: 'latchkey',
      clientVersion: deps.version ?? 'unknown',
      env,
      timeoutMs: Math.min(deps.timeoutMs ?? REFRESH_TIMEOUT_MS, REFRESH_TIMEOUT_MS),
      ...(deps.fetch && { fetch: deps.fetch }),
    });
    const request = {
      tokenUrl: endpointsOf(definition).tokenUrl,
      client: oauthClient(record.provider, definition, env),
      refreshToken: current.refreshToken,
      signInAgain: signInAgain(record.provider),
    };
    // From here the refresh token may reach the server: whatever happens is recorded for the others.
    let tokens;
    try {
      tokens = await refreshAccessToken(http, request, now);
    } catch (thrown) {
      const error = toLatchkeyError(thrown);
      if (error.code === 'CANCELLED') throw error;
      // Recorded under the lock before it is released, and reported as recorded, by this process too.
      const failure = refreshFailureOf(error, now());
      failed = refreshFailureError(failure);
      return { failure };
    }
    return {
      secret: tokens.accessToken,
      ...(tokens.refreshToken !== undefined && { refreshToken: tokens.refreshToken }),
      ...(tokens.expiresAt !== undefined && { expiresAt: new Date(tokens.expiresAt).toISOString() }),
      endpoints,
    };
  });
  if (failed !== undefined) throw failed;
  if (renewed === undefined) {
    throw new LatchkeyError({
      code: 'NOT_SIGNED_IN',
      message: `The ${record.provider} account ${record.account} was logged out meanwhile.`,
      action: `Run \`${signInAgain(record.provider)}\`.`,
      exitCode: ExitCode.Auth,
    });
  }
  return renewed;
}
