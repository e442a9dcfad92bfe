/**
 * What latchkey keeps in a keychain item or an encrypted-file entry: the secret together with the base
 * URL it was issued for, so a rewritten index can't send it to another server. Secrets stored before
 * version 2 are the bare secret (see `decodeBoundSecret`).
 */
export interface BoundSecret {
  secret: string;
  /** The index record's baseUrl at save time; null when the record had none. */
  baseUrl: string | null;
  /** The config directory whose index owns this keychain item (not set in the encrypted file). */
  dir?: string;
  /** An OAuth refresh token kept with the secret (older latchkey versions ignore it). */
  refreshToken?: string;
  /** The OAuth endpoints that issued it (configured providers), so a rewritten providers.json can't redirect it. */
  endpoints?: OAuthEndpoints;
}

/**
 * Where an OAuth credential came from and may go: the provider definition's issuer, token, revocation and
 * userinfo endpoints when it was stored (null: the definition had none).
 */
export interface OAuthEndpoints {
  issuer: string | null;
  tokenUrl: string;
  revocationUrl: string | null;
  userinfoUrl: string | null;
}

/** Stands for an `oauth` binding latchkey can't read: it matches no definition, so nothing is sent. */
const unreadableEndpoints: OAuthEndpoints = {
  issuer: '(unreadable)',
  tokenUrl: '(unreadable)',
  revocationUrl: '(unreadable)',
  userinfoUrl: '(unreadable)',
};

function readEndpoints(value: unknown): OAuthEndpoints {
  const v = value as Record<string, unknown> | null;
  const optional = (x: unknown) => x === null || typeof x === 'string';
  if (
    typeof value !== 'object' ||
    v === null ||
    typeof v.tokenUrl !== 'string' ||
    !optional(v.issuer) ||
    !optional(v.revocationUrl) ||
    !optional(v.userinfoUrl)
  ) {
    return unreadableEndpoints;
  }
  return {
    issuer: v.issuer as string | null,
    tokenUrl: v.tokenUrl,
    revocationUrl: v.revocationUrl as string | null,
    userinfoUrl: v.userinfoUrl as string | null,
  };
}

const VERSION = 2;

export function encodeBoundSecret(value: BoundSecret): string {
  return JSON.stringify({
    v: VERSION,
    secret: value.secret,
    baseUrl: value.baseUrl,
    ...(value.dir !== undefined && { dir: value.dir }),
    ...(value.refreshToken !== undefined && { refresh: value.refreshToken }),
    ...(value.endpoints !== undefined && { oauth: value.endpoints }),
  });
}

/** The bound form, or `{ legacy: secret }` for a bare secret written before the binding existed. */
export function decodeBoundSecret(stored: string): BoundSecret | { legacy: string } {
  if (!stored.startsWith('{"v":')) return { legacy: stored };
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return { legacy: stored };
  }
  const p = parsed as Record<string, unknown>;
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    p.v !== VERSION ||
    typeof p.secret !== 'string' ||
    (p.baseUrl !== null && typeof p.baseUrl !== 'string')
  ) {
    return { legacy: stored };
  }
  return {
    secret: p.secret,
    baseUrl: p.baseUrl as string | null,
    ...(typeof p.dir === 'string' && { dir: p.dir }),
    ...(typeof p.refresh === 'string' && p.refresh !== '' && { refreshToken: p.refresh }),
    ...(p.oauth !== undefined && { endpoints: readEndpoints(p.oauth) }),
  };
}
