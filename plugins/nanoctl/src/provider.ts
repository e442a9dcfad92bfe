import {
  ExitCode,
  LatchkeyError,
  defineProvider,
  loadManifest,
  joinUrl,
  bodyField,
  localTime,
  rateLimitedError,
  standardRetry,
  unexpectedResponse,
  type Identity,
  type ProviderContext,
} from '@latchkey/plugin-kit';

// The static facts live in package.json, where the host reads them without loading this module.
const manifest = loadManifest(new URL('../package.json', import.meta.url));

const newToken = `Create a new one at ${manifest.tokenUrl} and run \`latchkey auth login --provider nanoctl\` again.`;

function expired(date: string): LatchkeyError {
  return new LatchkeyError({
    code: 'TOKEN_EXPIRED',
    message: `The Nanoservices token expired on ${localTime(date)}.`,
    action: newToken,
    exitCode: ExitCode.Auth,
  });
}

/**
 * Nanoservices documents no validation endpoint; latchkey uses `GET {base}/v1/whoami` with the token as a
 * Bearer header, answering `{"username", "expiresAt"}` (see docs/providers/nanoctl.md).
 */
export const nanoctl = defineProvider({
  ...manifest,

  checkTokenFormat(token: string): void {
    if (/^\S{8,}$/.test(token)) return;
    throw new LatchkeyError({
      code: 'INVALID_TOKEN_FORMAT',
      message: 'That does not look like a Nanoservices token (no spaces, at least 8 characters).',
      action: `Copy it from ${manifest.tokenUrl}.`,
      exitCode: ExitCode.Usage,
    });
  },

  async verify(token: string, ctx: ProviderContext): Promise<Identity> {
    const response = await ctx.http.send({
      url: joinUrl(ctx.baseUrl, '/v1/whoami'),
      bearer: token,
      retry: standardRetry,
    });
    if (response.status === 401 || response.status === 403) {
      const words = bodyField<string>(response.body, 'message');
      if (bodyField<string>(response.body, 'error') === 'token_expired') {
        throw new LatchkeyError({
          code: 'TOKEN_EXPIRED',
          message: `The Nanoservices token has expired${words ? ` (${words})` : ''}.`,
          action: newToken,
          exitCode: ExitCode.Auth,
        });
      }
      throw new LatchkeyError({
        code: 'INVALID_TOKEN',
        message: 'Nanoservices rejected the token: it is invalid or was revoked.',
        action: `Check that you copied it whole, or ${newToken.charAt(0).toLowerCase()}${newToken.slice(1)}`,
        exitCode: ExitCode.Auth,
        status: response.status,
      });
    }
    if (response.status === 429) throw rateLimitedError(response, ctx.clock.now());
    const username = bodyField<string>(response.body, 'username');
    const expiresAt = bodyField<string>(response.body, 'expiresAt');
    if (response.status !== 200 || typeof username !== 'string') {
      const error = unexpectedResponse(response);
      throw new LatchkeyError({
        ...error.toEnvelope(),
        code: 'SERVER_ERROR',
        message: `Nanoservices had a problem: ${error.message}`,
        exitCode: ExitCode.Failure,
        status: response.status,
      });
    }
    const identity: Identity = { account: username, name: username };
    if (typeof expiresAt === 'string' && !Number.isNaN(Date.parse(expiresAt))) {
      if (Date.parse(expiresAt) <= ctx.clock.now()) throw expired(new Date(expiresAt).toISOString());
      identity.expiresAt = new Date(expiresAt).toISOString();
    }
    return identity;
  },
});
