// A stored OAuth credential goes only to the endpoints that issued it: the ones bound to it in the secret
// store, not whatever providers.json says now (see docs/storage.md, "OAuth endpoints are bound too").
import { dirname } from 'node:path';
import { ExitCode, LatchkeyError } from '@latchkey/errors';
import type { OAuthEndpoints } from './bound-secret.js';
import { definitionsPath, type ProviderDefinition } from './provider-definitions.js';
import type { StoredCredential } from './types.js';

export type { OAuthEndpoints } from './bound-secret.js';

/** The endpoints of a provider definition, as they are bound to the credentials signed in with it. */
export function definitionEndpoints(definition: ProviderDefinition): OAuthEndpoints {
  return {
    issuer: definition.issuer ?? null,
    tokenUrl: definition.tokenUrl,
    revocationUrl: definition.revocationUrl ?? null,
    userinfoUrl: definition.userinfoUrl ?? null,
  };
}

const fields = ['issuer', 'tokenUrl', 'revocationUrl', 'userinfoUrl'] as const;

/**
 * Checks, before anything is sent, that the definition in providers.json names the endpoints `credential`
 * is bound to, character for character; returns the endpoints to keep bound to it. A difference is
 * STORAGE_TAMPERED (exit 1) naming the field and both values.
 *
 * A credential stored before the binding existed has none: it is accepted (trust on first use) when the
 * definition's base URL is still the one the credential is bound to (the record's, which `get()` has
 * checked against the secret's own binding), and the definition's endpoints are returned, for the caller
 * to bind (the refresh stores them with the new token).
 */
export function checkEndpointBinding(
  configDir: string,
  credential: StoredCredential,
  definition: ProviderDefinition,
): OAuthEndpoints {
  const { provider, account } = credential.record;
  const now = definitionEndpoints(definition);
  const bound = credential.endpoints;
  if (bound === undefined) {
    const baseUrl = credential.record.baseUrl;
    if (baseUrl !== undefined && baseUrl !== definition.baseUrl) {
      throw endpointTamperedError(configDir, provider, account, 'baseUrl', definition.baseUrl, baseUrl);
    }
    return now;
  }
  for (const field of fields) {
    if (now[field] !== bound[field]) {
      throw endpointTamperedError(configDir, provider, account, field, now[field], bound[field]);
    }
  }
  return bound;
}

/** providers.json names other endpoints than the ones a stored credential was issued by. */
export function endpointTamperedError(
  configDir: string,
  provider: string,
  account: string,
  field: string,
  definitionValue: string | null,
  boundValue: string | null,
): LatchkeyError {
  const show = (value: string | null) => (value === null ? 'none' : JSON.stringify(value.slice(0, 300)));
  const file = definitionsPath(configDir);
  return new LatchkeyError({
    code: 'STORAGE_TAMPERED',
    message: `${file} says ${provider}'s ${field} is ${show(definitionValue)}, but the stored credential of ${provider} account '${account}' was issued with ${field} ${show(boundValue)}; latchkey sends it nowhere.`,
    action: `Check who can write to '${dirname(file)}' (it must be yours, mode 700, and providers.json 600). If you changed ${provider} on purpose, put its ${field} back to ${show(boundValue)} and run \`latchkey auth providers add ${provider} --force ...\` with the new endpoints: it logs the accounts out at the endpoints that issued them first.`,
    exitCode: ExitCode.Failure,
    docs: 'storage',
  });
}
