// An entire provider for a standard RFC 8628 server with a "who am I" endpoint: everything else (polling,
// retries, storage, output, exit codes) comes from latchkey.
import {
  ExitCode,
  LatchkeyError,
  defineProvider,
  loadManifest,
  deviceCodeLogin,
  joinUrl,
  standardRetry,
  unexpectedResponse,
  type Identity,
  type ProviderContext,
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

  verify: whoAmI,
});
