// An entire provider for a standard OAuth server with a "who am I" endpoint: a browser sign-in (PKCE on a
// loopback redirect), a device login, and refresh. Everything else (the listener, polling, retries, the
// storage lock around a refresh, output, exit codes) comes from latchkey.
import {
  ExitCode,
  LatchkeyError,
  defineProvider,
  loadManifest,
  browserLogin,
  deviceCodeLogin,
  joinUrl,
  refreshAccessToken,
  standardRetry,
  unexpectedResponse,
  type Identity,
  type OAuthClient,
  type ProviderContext,
  type TokenSet,
} from '@latchkey/plugin-kit';

// Static facts live in package.json ("latchkey.provider"), so `latchkey auth token` never loads this file.
const manifest = loadManifest(new URL('../package.json', import.meta.url));

async function whoAmI(token: string, ctx: ProviderContext): Promise<Identity> {
  const response = await ctx.http.send({
    url: joinUrl(ctx.baseUrl, '/api/me'),
    bearer: token,
    retry: standardRetry,
  });
  if (response.status === 401) {
    throw new LatchkeyError({
      code: 'CREDENTIAL_REJECTED',
      message: 'Acme rejected the token.',
      action: 'Run `latchkey auth login --provider acme` again.',
      exitCode: ExitCode.Auth,
    });
  }
  const user = response.body as { email?: unknown; name?: unknown } | undefined;
  if (response.status !== 200 || typeof user?.email !== 'string') throw unexpectedResponse(response);
  return {
    account: user.email,
    email: user.email,
    ...(typeof user.name === 'string' ? { name: user.name } : {}),
  };
}

const client: OAuthClient = { clientId: 'latchkey', encoding: 'form' };
const signInAgain = 'latchkey auth login --provider acme';

/** The stored credential of a sign-in: the token, who it is, when it ends, and the refresh token. */
async function signedIn(tokens: TokenSet, ctx: ProviderContext) {
  const identity = await whoAmI(tokens.accessToken, ctx);
  if (tokens.expiresAt !== undefined) identity.expiresAt = new Date(tokens.expiresAt).toISOString();
  return {
    token: tokens.accessToken,
    identity,
    ...(tokens.refreshToken && { refreshToken: tokens.refreshToken }),
  };
}

export const acme = defineProvider({
  ...manifest,

  checkTokenFormat(token) {
    if (!/^acme_[A-Za-z0-9]{16,}$/.test(token)) {
      throw new LatchkeyError({
        code: 'INVALID_TOKEN_FORMAT',
        message: 'Acme tokens start with acme_.',
        action: `Create one at ${manifest.tokenUrl}.`,
        exitCode: ExitCode.Usage,
      });
    }
  },

  async login(ctx) {
    const token = await deviceCodeLogin(
      {
        deviceAuthorizationUrl: joinUrl(ctx.baseUrl, '/oauth/device/code'),
        tokenUrl: joinUrl(ctx.baseUrl, '/oauth/token'),
        clientId: 'latchkey',
        encoding: 'form',
        loginAgain: 'Run `latchkey auth login --provider acme` again.',
      },
      ctx,
    );
    return { token: token.access_token, identity: await whoAmI(token.access_token, ctx) };
  },

  // `latchkey auth login --provider acme --web`: the browser flow in one call.
  async browserLogin(ctx) {
    const tokens = await browserLogin(ctx, {
      server: {
        issuer: ctx.baseUrl.origin,
        authorizationUrl: joinUrl(ctx.baseUrl, '/oauth/authorize'),
        tokenUrl: joinUrl(ctx.baseUrl, '/oauth/token'),
      },
      client,
      scope: 'api',
      loginAgain: `Run \`${signInAgain} --web\` again.`,
    });
    return signedIn(tokens, ctx);
  },

  // Called by latchkey under its storage lock when the token has under a minute left.
  async refresh({ refreshToken }, ctx) {
    const tokens = await refreshAccessToken(
      ctx.http,
      { tokenUrl: joinUrl(ctx.baseUrl, '/oauth/token'), client, refreshToken, signInAgain },
      () => ctx.clock.now(),
    );
    return {
      token: tokens.accessToken,
      ...(tokens.refreshToken !== undefined && { refreshToken: tokens.refreshToken }),
      ...(tokens.expiresAt !== undefined && { expiresAt: new Date(tokens.expiresAt).toISOString() }),
    };
  },

  verify: whoAmI,
});
