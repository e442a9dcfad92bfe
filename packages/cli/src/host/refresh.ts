// Refresh on the token path (`auth token`, exec, inject, references): loaded with a dynamic import only when
// the stored access token is due, so the usual `auth token` never loads the HTTP or OAuth code.
import { ExitCode, LatchkeyError } from '@latchkey/errors';
import { HttpClient } from '@latchkey/http';
import { refreshAccessToken } from '@latchkey/oauth';
import {
  accessTokenDue,
  checkEndpointBinding,
  readProviderDefinitions,
  type AccountRecord,
  type CredentialStore,
  type StoredCredential,
} from '@latchkey/storage';
import { endpointsOf, oauthClient, signInAgain } from './configured-providers.js';

/** The refresh request may hold the storage lock that other processes wait on: it gets less than their 10 s. */
const refreshTimeoutMs = 8_000;

export interface RefreshDeps {
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  /** Sent in User-Agent. */
  version?: string;
  /** The refresh request's time limit; default (and at most) 8 s. */
  timeoutMs?: number;
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
 * The stored credential of `record`, refreshed first when it is due (RFC 6749 section 6). Concurrent
 * processes refresh once: under the storage lock the credential is read again and refreshed only if it is
 * still due, so the others get the token the first one stored. An expired token is never returned: no
 * refresh token (or no provider definition to refresh with) is TOKEN_EXPIRED, `invalid_grant` is
 * SESSION_EXPIRED (both exit 4, "sign in again"), a server that cannot be reached is exit 1.
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
  const renewed = await store.renew(record.provider, record.account, async (current) => {
    // Another process refreshed it meanwhile: use its token. For tokens that live a minute or less the
    // margin is half their lifetime, so a fresh one is not due again and concurrent callers make one request.
    if (!accessTokenDue(current.record, now())) return undefined;
    if (current.refreshToken === undefined) throw expired(current.record, ' and there is no refresh token');
    if (definition === undefined)
      throw expired(current.record, ` and ${record.provider} is no longer configured`);
    // The refresh token goes only to the token endpoint that issued it (STORAGE_TAMPERED otherwise).
    const endpoints = checkEndpointBinding(store.configDir, current, definition);
    const http = new HttpClient({
      clientName: 'latchkey',
      clientVersion: deps.version ?? 'unknown',
      env,
      timeoutMs: Math.min(deps.timeoutMs ?? refreshTimeoutMs, refreshTimeoutMs),
      ...(deps.fetch && { fetch: deps.fetch }),
    });
    const tokens = await refreshAccessToken(
      http,
      {
        tokenUrl: endpointsOf(definition).tokenUrl,
        client: oauthClient(record.provider, definition, env),
        refreshToken: current.refreshToken,
        signInAgain: signInAgain(record.provider),
      },
      now,
    );
    return {
      secret: tokens.accessToken,
      ...(tokens.refreshToken !== undefined && { refreshToken: tokens.refreshToken }),
      ...(tokens.expiresAt !== undefined && { expiresAt: new Date(tokens.expiresAt).toISOString() }),
      endpoints,
    };
  });
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
