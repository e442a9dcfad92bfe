import {
  ExitCode,
  LatchkeyError,
  defineProvider,
  loadManifest,
  deviceCodeLogin,
  tokenSetFromBody,
  joinUrl,
  answerFailure,
  bodyField,
  serverMessage,
  standardRetry,
  unexpectedResponse,
  type HttpResponse,
  type Identity,
  type ProviderContext,
} from '@latchkey/plugin-kit';

// The static facts live in package.json, where the host reads them without loading this module.
const manifest = loadManifest(new URL('../package.json', import.meta.url));

const defaultClientId = 'kaneo-cli';
const loginAgain = 'Run `latchkey auth login --provider kaneo` again.';

/**
 * A better-auth endpoint of a Kaneo server. The base URL is the API origin (cloud, the dev API on :1337, or
 * the web origin that proxies /api in the docker image); a base URL that already ends in /api is accepted.
 */
export function authUrl(base: URL, path: string): URL {
  const root = new URL(base.toString());
  root.pathname = root.pathname.replace(/\/+$/, '').replace(/\/api$/, '');
  return joinUrl(root, `/api/auth${path}`);
}

/** better-auth session tokens are 32 characters; Kaneo API keys are 64 or more. */
export function isApiKey(token: string): boolean {
  return token.length >= 64;
}

type Credential = 'bearer' | 'api-key';

function failure(response: HttpResponse, now: number): LatchkeyError {
  const common = answerFailure(response, now);
  if (common) return common;
  return new LatchkeyError({
    code: bodyField<string>(response.body, 'code') ?? 'KANEO_ERROR',
    message: `Kaneo answered HTTP ${response.status}${serverMessage(response) ? `: ${serverMessage(response)}` : ''}.`,
    action: 'Check the base URL (--base-url) and try again.',
    status: response.status,
  });
}

function rejected(kind: Credential): LatchkeyError {
  return new LatchkeyError({
    code: 'CREDENTIAL_REJECTED',
    message:
      kind === 'api-key'
        ? 'Kaneo rejected the API key (it is invalid, expired or deleted).'
        : 'Kaneo rejected the token (it expired or was signed out).',
    action: `${loginAgain.replace(' again', '')} to sign in again, or create an API key in Kaneo under Settings > Account > API Keys.`,
    exitCode: ExitCode.Auth,
  });
}

/** Who a credential belongs to: `GET /api/auth/get-session`. better-auth answers 200 `null` for a bad one, never 401. */
async function session(ctx: ProviderContext, token: string, kind: Credential): Promise<Identity | undefined> {
  const response = await ctx.http.send({
    url: authUrl(ctx.baseUrl, '/get-session'),
    ...(kind === 'bearer' ? { bearer: token } : { headers: { 'x-api-key': token } }),
    retry: standardRetry,
  });
  // A rejected credential: 200 `null` (sessions; better-auth never answers 401 there), or 401/403
  // INVALID_API_KEY from the API-key plugin (403 for a value too short to be a key).
  if (response.status === 200 && response.isJson && response.body === null) return undefined;
  if ((response.status === 401 || response.status === 403) && kind === 'api-key') return undefined;
  if (response.status !== 200 || !response.isJson) throw failure(response, ctx.clock.now());
  const user = bodyField<Record<string, unknown>>(response.body, 'user');
  if (!user || typeof user !== 'object') throw unexpectedResponse(response);
  const email = typeof user.email === 'string' ? user.email : undefined;
  const name = typeof user.name === 'string' ? user.name : undefined;
  const identity: Identity = {
    account: email ?? String(user.id ?? 'unknown user'),
    details: { credential: kind === 'api-key' ? 'API key' : 'device token' },
  };
  if (email !== undefined) identity.email = email;
  if (name !== undefined) identity.name = name;
  // An API key's "session" is synthetic (better-auth 1.6 gives it ~10 minutes whatever the key's real
  // expiry), so only a device token's session expiry means anything.
  const expiresAt = bodyField<string>(bodyField(response.body, 'session'), 'expiresAt');
  if (kind === 'bearer' && typeof expiresAt === 'string' && !Number.isNaN(Date.parse(expiresAt))) {
    identity.expiresAt = new Date(expiresAt).toISOString();
  }
  return identity;
}

/** Tries the header the token's shape suggests first, then the other (an API key also works as a key only). */
async function whoAmI(
  ctx: ProviderContext,
  token: string,
): Promise<{ identity: Identity; kind: Credential }> {
  const order: Credential[] = isApiKey(token) ? ['api-key', 'bearer'] : ['bearer', 'api-key'];
  for (const kind of order) {
    const identity = await session(ctx, token, kind);
    if (identity) return { identity, kind };
  }
  throw rejected(order[0]!);
}

export const kaneo = defineProvider({
  ...manifest,

  checkTokenFormat(token: string): void {
    if (/^\S{16,}$/.test(token)) return;
    throw new LatchkeyError({
      code: 'INVALID_TOKEN_FORMAT',
      message: 'That does not look like a Kaneo API key or token (no spaces, at least 16 characters).',
      action:
        'Copy the key from Kaneo (Settings > Account > API Keys), or run `latchkey auth login --provider kaneo` to sign in in the browser.',
      exitCode: ExitCode.Usage,
    });
  },

  async login(ctx: ProviderContext) {
    const clientId = ctx.options.clientId ?? defaultClientId;
    const token = await deviceCodeLogin(
      {
        deviceAuthorizationUrl: authUrl(ctx.baseUrl, '/device/code'),
        tokenUrl: authUrl(ctx.baseUrl, '/device/token'),
        clientId,
        // better-auth 1.6 answers 415 to form bodies; JSON works with every version.
        encoding: 'json',
        invalidClientAction:
          clientId === defaultClientId
            ? 'This server does not allow the kaneo-cli client: ask its operator to add it to DEVICE_AUTH_CLIENT_IDS, or pass an allowed one with --client-id.'
            : `Use --client-id ${defaultClientId} (allowed by default), or ask the server's operator to add "${clientId}" to DEVICE_AUTH_CLIENT_IDS.`,
        loginAgain,
      },
      ctx,
    );
    const identity = await session(ctx, token.access_token, 'bearer');
    if (!identity) throw rejected('bearer');
    // The token answer's expires_in, read by the shared OAuth client (a deadline from now, absurd values ignored).
    const expiresAt = tokenSetFromBody(token, ctx.clock.now())?.expiresAt;
    if (expiresAt !== undefined) identity.expiresAt = new Date(expiresAt).toISOString();
    return { token: token.access_token, identity };
  },

  async verify(token: string, ctx: ProviderContext): Promise<Identity> {
    return (await whoAmI(ctx, token)).identity;
  },

  async revoke(token: string, ctx: ProviderContext): Promise<boolean> {
    // An API key is the user's to delete in Kaneo; signing out applies to device tokens (sessions).
    if (isApiKey(token)) return false;
    const response = await ctx.http.send({
      url: authUrl(ctx.baseUrl, '/sign-out'),
      json: {},
      bearer: token,
      retry: standardRetry,
    });
    if (response.status === 200) return true;
    throw failure(response, ctx.clock.now());
  },
});
