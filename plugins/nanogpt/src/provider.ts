import {
  ExitCode,
  LatchkeyError,
  browserLogin,
  discoverServer,
  registerPublicClient,
  deviceLogin,
  defineProvider,
  loadManifest,
  joinUrl,
  accountLabel,
  noRetry,
  parseDeviceAuthorization,
  answerFailure,
  bodyField,
  serverMessage,
  registerSecret,
  standardRetry,
  unexpectedResponse,
  type DeviceAuthorization,
  type HttpResponse,
  type Identity,
  type PollStep,
  type ProviderContext,
} from '@latchkey/plugin-kit';

// The static facts live in package.json, where the host reads them without loading this module.
const manifest = loadManifest(new URL('../package.json', import.meta.url));

const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const keyPattern = new RegExp(`^(?:sk-nano-${uuid}|${uuid})$`, 'i');
const defaultClientName = 'latchkey';
const loginAgain = 'Run `latchkey auth login --provider nanogpt` again.';
/** What an app asks for in the browser sign-in (NanoGPT's `scopes_supported`). */
const browserScope = 'api.use models.read';

/** True for `sk-nano-<uuid>` keys and legacy bare-UUID keys. */
export function isNanoGptKey(value: string): boolean {
  return keyPattern.test(value);
}

function identityFor(key: string, keyName?: string): Identity {
  const identity: Identity = { account: accountLabel(key) };
  if (keyName !== undefined) identity.details = { key: keyName };
  return identity;
}

/** `--client-name`: 1 to 64 characters, default `latchkey`. */
function clientNameOf(ctx: ProviderContext): string {
  const clientName = ctx.options.clientName ?? defaultClientName;
  if (clientName.length === 0 || clientName.length > 64) {
    throw new LatchkeyError({
      code: 'USAGE',
      message: `--client-name must be 1 to 64 characters (got ${clientName.length}).`,
      action: 'Pass a shorter name, e.g. --client-name my-laptop.',
      exitCode: ExitCode.Usage,
    });
  }
  return clientName;
}

/** Errors every NanoGPT endpoint can answer with. */
function commonError(response: HttpResponse, now: number): LatchkeyError {
  const failure = answerFailure(response, now);
  if (failure) return failure;
  return new LatchkeyError({
    code: 'NANOGPT_ERROR',
    message: `NanoGPT answered HTTP ${response.status}${serverMessage(response) ? `: ${serverMessage(response)}` : ''}.`,
    action: 'Try again; if it keeps failing, check https://nano-gpt.com/status or report it.',
    status: response.status,
  });
}

async function startLogin(ctx: ProviderContext): Promise<DeviceAuthorization> {
  const clientName = ctx.options.clientName ?? defaultClientName;
  const response = await ctx.http.send({
    url: joinUrl(ctx.baseUrl, '/api/cli-login/start'),
    json: { client_name: clientName },
    retry: standardRetry,
  });
  if (response.status !== 200 || !response.isJson) throw commonError(response, ctx.clock.now());
  return parseDeviceAuthorization(response);
}

/** Maps one poll answer onto the device-flow engine, status by status as NanoGPT documents them. */
export function pollStep(response: HttpResponse, now: number): PollStep<string> {
  const status = bodyField<string>(response.body, 'status');
  if (response.isJson && status === 'authorization_pending') return { status: 'pending' };
  if (response.status === 200 && status === 'approved') {
    const key = bodyField<string>(response.body, 'key');
    if (typeof key !== 'string' || key === '') throw unexpectedResponse(response);
    registerSecret(key);
    return { status: 'done', value: key };
  }
  if (response.status === 410) {
    // NanoGPT answers 410 for a denied code too, and does not say which it was.
    throw new LatchkeyError({
      code: 'DEVICE_CODE_EXPIRED',
      message: 'The login code was denied or expired.',
      action: loginAgain,
      exitCode: ExitCode.Auth,
      status: 410,
    });
  }
  if (response.status === 409) {
    throw new LatchkeyError({
      code: 'KEY_ALREADY_DELIVERED',
      message: 'NanoGPT already delivered the key for this login code.',
      action: `Check \`latchkey auth status --provider nanogpt\`; if the key is not there, ${loginAgain.toLowerCase()}`,
      exitCode: ExitCode.Auth,
      status: 409,
    });
  }
  if (response.status === 404 && response.isJson) {
    throw new LatchkeyError({
      code: 'INVALID_DEVICE_CODE',
      message: 'NanoGPT did not recognise this login code.',
      action: loginAgain,
      exitCode: ExitCode.Auth,
      status: 404,
    });
  }
  throw commonError(response, now);
}

export const nanogpt = defineProvider({
  ...manifest,

  checkTokenFormat(token: string): void {
    if (isNanoGptKey(token)) return;
    throw new LatchkeyError({
      code: 'INVALID_TOKEN_FORMAT',
      message: 'That is not a NanoGPT API key: keys look like sk-nano-<uuid> (older accounts: a bare UUID).',
      action:
        'Copy a key from https://nano-gpt.com/api, or run `latchkey auth login --provider nanogpt` to get one in the browser.',
      exitCode: ExitCode.Usage,
    });
  },

  async login(ctx: ProviderContext) {
    const clientName = clientNameOf(ctx);
    const poller = ctx.http.with({ retry: noRetry });
    const key = await deviceLogin(ctx, {
      start: () => startLogin(ctx),
      poll: async (deviceCode) => {
        const response = await poller.send({
          url: joinUrl(ctx.baseUrl, '/api/cli-login/poll'),
          json: { device_code: deviceCode },
        });
        return pollStep(response, ctx.clock.now());
      },
      expiredAction: loginAgain,
    });
    return { token: key, identity: identityFor(key, `CLI (${clientName})`) };
  },

  /**
   * The browser sign-in NanoGPT recommends for local tools: its RFC 8414 metadata (the issuer is the base
   * URL), a public client registered for this login (RFC 7591, named after --client-name), then the
   * authorization code flow with PKCE on a loopback redirect. The token is an `sk-nano-` key, stored and
   * named exactly as the device login's.
   */
  async browserLogin(ctx: ProviderContext) {
    const clientName = clientNameOf(ctx);
    const issuer = ctx.baseUrl.href.replace(/\/$/, '');
    const metadata = await discoverServer(ctx.http, issuer, {
      source: 'the NanoGPT base URL',
      notFoundAction:
        'Check --base-url, or sign in with the device flow: `latchkey auth login --provider nanogpt --device`.',
    });
    const { authorizationUrl, tokenUrl, registrationUrl } = metadata;
    if (authorizationUrl === undefined || tokenUrl === undefined || registrationUrl === undefined) {
      throw new LatchkeyError({
        code: 'DISCOVERY_FAILED',
        message: `${ctx.baseUrl.host}'s metadata names no ${authorizationUrl === undefined ? 'authorization' : tokenUrl === undefined ? 'token' : 'registration'} endpoint, so latchkey cannot sign in there in the browser.`,
        action: 'Sign in with the device flow: `latchkey auth login --provider nanogpt --device`.',
      });
    }
    const { clientId } = await registerPublicClient(
      ctx.http,
      {
        issuer,
        registrationUrl,
        clientName,
        ...(metadata.grantTypesSupported !== undefined && {
          grantTypesSupported: metadata.grantTypesSupported,
        }),
      },
      () => ctx.clock.now(),
    );
    const tokens = await browserLogin(ctx, {
      server: {
        issuer,
        authorizationUrl,
        tokenUrl,
        ...(metadata.issParameterSupported === true && { issParameterSupported: true }),
        ...(metadata.codeChallengeMethodsSupported !== undefined && {
          codeChallengeMethodsSupported: metadata.codeChallengeMethodsSupported,
        }),
      },
      client: { clientId, encoding: 'form' },
      scope: browserScope,
      loginAgain: 'Run `latchkey auth login --provider nanogpt --web` again.',
    });
    const key = tokens.accessToken;
    if (!isNanoGptKey(key)) {
      throw new LatchkeyError({
        code: 'UNEXPECTED_RESPONSE',
        message: 'NanoGPT answered the sign-in with something that is not an API key (sk-nano-...).',
        action:
          'Try again, or sign in with the device flow: `latchkey auth login --provider nanogpt --device`.',
      });
    }
    return { token: key, identity: identityFor(key, `CLI (${clientName})`) };
  },

  async verify(token: string, ctx: ProviderContext): Promise<Identity> {
    const response = await ctx.http.send({
      url: joinUrl(ctx.baseUrl, '/api/v1/models'),
      bearer: token,
      retry: standardRetry,
    });
    // NanoGPT answers the model list as JSON: a 200 HTML or empty page (a captive portal, a proxy, the wrong
    // base URL) proves nothing about the key.
    if (response.status === 200 && response.isJson) return identityFor(token);
    if (response.status === 401) {
      throw new LatchkeyError({
        code: 'CREDENTIAL_REJECTED',
        message: 'NanoGPT rejected the API key (it is invalid, inactive or revoked).',
        // The key page is the public server's: for another server (a local one) the sign-in is the way.
        action:
          ctx.baseUrl.origin === new URL(manifest.defaultBaseUrl).origin
            ? 'Sign in again with `latchkey auth login --provider nanogpt`, or create a key at https://nano-gpt.com/api.'
            : 'Sign in again with `latchkey auth login --provider nanogpt`.',
        exitCode: ExitCode.Auth,
        status: 401,
      });
    }
    if (response.status === 403) {
      throw new LatchkeyError({
        code: 'FORBIDDEN',
        message: `NanoGPT refused the key${serverMessage(response) ? ` (${serverMessage(response)})` : ''}.`,
        action: "Check the key's allowed origins and limits at https://nano-gpt.com/api.",
        exitCode: ExitCode.Auth,
        status: 403,
      });
    }
    throw commonError(response, ctx.clock.now());
  },
});
