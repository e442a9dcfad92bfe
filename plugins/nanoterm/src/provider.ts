import {
  ExitCode,
  LatchkeyError,
  defineProvider,
  loadManifest,
  envelopeError,
  envelopeRetry,
  errorEnvelope,
  joinUrl,
  accountLabel,
  bodyField,
  rateLimitedError,
  unexpectedResponse,
  type HttpResponse,
  type Identity,
  type ProviderContext,
} from '@latchkey/plugin-kit';

// The static facts live in package.json, where the host reads them without loading this module.
const manifest = loadManifest(new URL('../package.json', import.meta.url));

/** NanoTerm keys look like `nt_<random>` (e.g. `nt_live_...`); nothing else about them is promised. */
export function isNanoTermKey(value: string): boolean {
  return /^nt_[A-Za-z0-9_]{8,}$/.test(value);
}

/** One authenticated request; every non-2xx answer becomes the server's envelope, or "unexpected response". */
async function call(ctx: ProviderContext, path: string, token: string): Promise<HttpResponse> {
  // Keys go in the Authorization header only: `?token=` is ignored on plain HTTP and would land in logs.
  const response = await ctx.http.send({
    url: joinUrl(ctx.baseUrl, path),
    bearer: token,
    retry: envelopeRetry,
  });
  if (response.status >= 200 && response.status < 300 && response.isJson) return response;
  const envelope = errorEnvelope(response);
  if (envelope) throw envelopeError(response, envelope, ctx.clock.now());
  // A 429 from something in front of the API (no envelope) still says how long to wait.
  if (response.status === 429) throw rateLimitedError(response, ctx.clock.now());
  throw unexpectedResponse(response);
}

interface KeyInfo {
  name?: string;
  prefix?: string;
  permission?: string;
  expiresAt?: string | null;
  revokedAt?: string | null;
}

/**
 * A listing's display prefix as the start of a key: a trailing ellipsis (`nt_live_a1b2...` or `…`) is how it
 * is shown, not part of the key. Empty when nothing is left.
 */
function bareKeyPrefix(prefix: string): string {
  return prefix.trim().replace(/(?:\.\.\.|…)$/u, '');
}

/** The key's own entry in `GET /api/keys`, matched by prefix; undefined when the key may not list keys. */
async function keyDetails(ctx: ProviderContext, token: string): Promise<KeyInfo | undefined> {
  try {
    const response = await call(ctx, '/api/keys', token);
    // The docs show neither shape: a bare array and `{keys: [...]}` are both read.
    const keys = Array.isArray(response.body) ? response.body : bodyField<unknown>(response.body, 'keys');
    if (!Array.isArray(keys)) return undefined;
    const withPrefix = (keys as KeyInfo[]).flatMap((k) => {
      const start = typeof k.prefix === 'string' ? bareKeyPrefix(k.prefix) : '';
      return start.length > 0 && token.startsWith(start) ? [{ key: k, start }] : [];
    });
    // The longest matching prefix is the most specific.
    return withPrefix.sort((a, b) => b.start.length - a.start.length)[0]?.key;
  } catch (error) {
    // Only admin (`full`) keys may list keys: a 403 means this key is valid with less than full permission.
    if (error instanceof LatchkeyError && error.status === 403) return undefined;
    throw error;
  }
}

export const nanoterm = defineProvider({
  ...manifest,

  checkTokenFormat(token: string): void {
    if (isNanoTermKey(token)) return;
    throw new LatchkeyError({
      code: 'INVALID_TOKEN_FORMAT',
      message: 'That is not a NanoTerm API key: keys start with nt_ (for example nt_live_...).',
      action:
        'Copy the key from the API Keys page of the NanoTerm dashboard (it is shown once, when created).',
      exitCode: ExitCode.Usage,
    });
  },

  async verify(token: string, ctx: ProviderContext): Promise<Identity> {
    await call(ctx, '/api/workspaces', token);
    const details = await keyDetails(ctx, token);
    const identity: Identity = { account: accountLabel(token), permission: details?.permission ?? 'limited' };
    if (details?.name) identity.details = { key: details.name };
    if (details?.expiresAt) identity.expiresAt = new Date(details.expiresAt).toISOString();
    return identity;
  },
});
