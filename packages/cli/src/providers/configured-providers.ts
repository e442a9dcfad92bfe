// Providers added by configuration (`latchkey auth providers add`): a standard OAuth 2.0 device-flow server
// described by a definition in providers.json, turned into a provider like the plugins' ones. Nothing here
// knows any particular server.
import { ExitCode, LatchkeyError, isLatchkeyError, registerSecret, usageError } from '@latchkey/errors';
import {
  authorizationCodeLogin,
  checkEndpoint,
  deviceCodeLogin,
  fetchUserinfo,
  identityFromClaims,
  idTokenClaims,
  revokeTokens,
  tokenSetFromBody,
  type OAuthClient,
  type TokenSet,
} from '@latchkey/oauth';
import type { Identity, Provider, ProviderContext } from '@latchkey/plugin-kit';
import type { ProviderDefinition } from '@latchkey/storage';
import { clientSecretEnvProblem, clientSecretEnvRefused } from './client-secret-env.js';

// The static facts live in provider-facts.ts (the fast paths read them without this module's OAuth code).
import { configuredManifest } from './provider-facts.js';
export { configuredManifest, configuredPlugin, configuredStaticProviders } from './provider-facts.js';

/** `auth login --provider NAME`, for the "sign in again" actions. */
export function signInAgain(name: string): string {
  return `latchkey auth login --provider ${name}`;
}

/**
 * The client latchkey is at the server: the client id, and for a confidential client the secret read now
 * from the variable the definition names (never stored). A named variable that is unset is exit 2.
 */
export function oauthClient(
  name: string,
  definition: ProviderDefinition,
  env: NodeJS.ProcessEnv,
): OAuthClient {
  const client: OAuthClient = { clientId: definition.clientId, encoding: definition.encoding };
  if (definition.clientSecretEnv !== undefined) {
    // providers.json may have been edited by hand: the same rule as `auth providers add`.
    const problem = clientSecretEnvProblem(definition.clientSecretEnv, []);
    if (problem !== undefined)
      throw clientSecretEnvRefused(
        definition.clientSecretEnv,
        problem,
        `clientSecretEnv of ${name} in providers.json`,
      );
    const secret = env[definition.clientSecretEnv]?.trim();
    if (!secret) {
      throw usageError(
        `${name} is a confidential client: ${definition.clientSecretEnv} must hold its client secret.`,
        `Set ${definition.clientSecretEnv} (the secret is read from it each time, never stored).`,
      );
    }
    registerSecret(secret);
    client.clientSecret = secret;
  }
  return client;
}

/** The definition's endpoints, each held to the https-or-loopback rule again (the file may have been edited). */
export function endpointsOf(definition: ProviderDefinition) {
  return {
    ...(definition.deviceAuthorizationUrl !== undefined && {
      deviceAuthorizationUrl: checkEndpoint(
        definition.deviceAuthorizationUrl,
        'deviceAuthorizationUrl in providers.json',
      ),
    }),
    ...(definition.authorizationUrl !== undefined && {
      authorizationUrl: checkEndpoint(definition.authorizationUrl, 'authorizationUrl in providers.json'),
    }),
    tokenUrl: checkEndpoint(definition.tokenUrl, 'tokenUrl in providers.json'),
    ...(definition.revocationUrl !== undefined && {
      revocationUrl: checkEndpoint(definition.revocationUrl, 'revocationUrl in providers.json'),
    }),
    ...(definition.userinfoUrl !== undefined && {
      userinfoUrl: checkEndpoint(definition.userinfoUrl, 'userinfoUrl in providers.json'),
    }),
  };
}

/**
 * `latchkey auth providers add NAME --force` with the definition's issuer and `flags`: how to change one
 * thing of a provider (`--force` replaces the definition; its accounts stay while its endpoints do).
 */
export function addAgainCommand(name: string, definition: ProviderDefinition, flags: string): string {
  const { issuer, discoveryUrl } = definition;
  // A document read at --discovery-url names an issuer on its own origin, or one confirmed with --issuer.
  const confirmed =
    issuer !== undefined && (discoveryUrl === undefined || !sameOrigin(issuer, discoveryUrl))
      ? ` --issuer ${issuer}`
      : '';
  const where = `${discoveryUrl !== undefined ? ` --discovery-url ${discoveryUrl}` : ''}${confirmed}`;
  const encoding = definition.encoding === 'json' ? ' --encoding json' : '';
  const rest = where !== '' ? '' : ' (and the --*-url flags it was added with)';
  return `\`latchkey auth providers add ${name} --force${where}${encoding} ${flags}\`${rest}`;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** A sign-in flow the definition has no endpoint for (providers.json edited, or the host asked wrongly). */
function noFlow(name: string, flow: 'browser' | 'device'): LatchkeyError {
  return usageError(
    flow === 'browser'
      ? `${name} has no authorization endpoint, so it cannot sign in in the browser.`
      : `${name} has no device authorization endpoint, so it cannot sign in with a device code.`,
    flow === 'browser' ? `Use \`${signInAgain(name)} --device\`.` : `Use \`${signInAgain(name)} --web\`.`,
  );
}

/** What a configured provider's login returns beyond the plugin contract: the refresh token, to store. */
export interface ConfiguredLoginResult {
  token: string;
  identity: Identity;
  refreshToken?: string;
}

/** A configured provider: a `Provider` built from its definition. */
export interface ConfiguredProvider extends Provider {
  definition: ProviderDefinition;
  login(ctx: ProviderContext): Promise<ConfiguredLoginResult>;
  browserLogin(ctx: ProviderContext): Promise<ConfiguredLoginResult>;
  /** Logout: revokes the refresh token, then the access token (RFC 7009); false without a revocation endpoint. */
  revokeSession(
    tokens: { accessToken: string; refreshToken?: string },
    ctx: ProviderContext,
  ): Promise<boolean>;
}

export function isConfiguredProvider(provider: Provider): provider is ConfiguredProvider {
  return 'definition' in provider && 'revokeSession' in provider;
}

/** Builds the provider for a definition; `env` supplies a confidential client's secret. */
export function configuredProvider(
  name: string,
  definition: ProviderDefinition,
  env: NodeJS.ProcessEnv,
): ConfiguredProvider {
  const again = signInAgain(name);

  async function identify(ctx: ProviderContext, tokens: TokenSet): Promise<Identity> {
    const { userinfoUrl } = endpointsOf(definition);
    let claims: Record<string, unknown> | undefined;
    if (userinfoUrl !== undefined) {
      try {
        claims = await fetchUserinfo(ctx.http, userinfoUrl, tokens.accessToken, () => ctx.clock.now(), again);
      } catch (error) {
        // The sign-in worked; a userinfo endpoint that refuses this token (a scope without openid, say)
        // only costs the name: say so and fall back to the ID token.
        if (!isLatchkeyError(error) || error.code !== 'CREDENTIAL_REJECTED') throw error;
        ctx.ui.warn(
          `${userinfoUrl.host} refused the userinfo request (HTTP ${error.status ?? '?'}); the name shown comes from the ID token.`,
        );
      }
    }
    claims ??= idTokenClaims(tokens.idToken ?? tokens.accessToken);
    const identity = claims ? identityFromClaims(claims) : undefined;
    return (
      identity ?? { account: 'unknown user', details: { identity: 'the server did not say who signed in' } }
    );
  }

  async function signedIn(ctx: ProviderContext, tokens: TokenSet): Promise<ConfiguredLoginResult> {
    const identity = await identify(ctx, tokens);
    if (tokens.expiresAt !== undefined) identity.expiresAt = new Date(tokens.expiresAt).toISOString();
    return {
      token: tokens.accessToken,
      identity,
      ...(tokens.refreshToken !== undefined && { refreshToken: tokens.refreshToken }),
    };
  }

  return {
    ...configuredManifest(name, definition),
    definition,

    async login(ctx) {
      const endpoints = endpointsOf(definition);
      if (endpoints.deviceAuthorizationUrl === undefined) throw noFlow(name, 'device');
      const client = oauthClient(name, definition, env);
      const raw = await deviceCodeLogin(
        {
          deviceAuthorizationUrl: endpoints.deviceAuthorizationUrl,
          tokenUrl: endpoints.tokenUrl,
          clientId: client.clientId,
          ...(client.clientSecret !== undefined && { clientSecret: client.clientSecret }),
          ...(definition.scopes !== undefined &&
            definition.scopes.length > 0 && { scope: definition.scopes.join(' ') }),
          encoding: definition.encoding,
          invalidClientAction: `Check the client id: \`latchkey auth providers add ${name} --force --client-id ID ...\` replaces it.`,
          invalidScopeAction: `Add the provider again with the scopes the server expects (--scope, once for each; e.g. --scope openid): ${addAgainCommand(name, definition, `--client-id ${definition.clientId}${definition.clientSecretEnv !== undefined ? ` --client-secret-env ${definition.clientSecretEnv}` : ''} --scope SCOPE`)}.`,
          loginAgain: `Run \`${again}\` again.`,
        },
        ctx,
      );
      const tokens = tokenSetFromBody(raw, ctx.clock.now());
      if (tokens === undefined) {
        throw new LatchkeyError({
          code: 'UNEXPECTED_RESPONSE',
          message: `${endpoints.tokenUrl.host} sent no access token.`,
          action: "Report this to the server's operator.",
        });
      }
      return signedIn(ctx, tokens);
    },

    async browserLogin(ctx) {
      const endpoints = endpointsOf(definition);
      if (endpoints.authorizationUrl === undefined) throw noFlow(name, 'browser');
      const client = oauthClient(name, definition, env);
      const tokens = await authorizationCodeLogin(ctx, {
        server: {
          // Without a known issuer, a callback's `iss` can only be compared with the server's own origin.
          issuer: definition.issuer ?? endpoints.authorizationUrl.origin,
          authorizationUrl: endpoints.authorizationUrl,
          tokenUrl: endpoints.tokenUrl,
          ...(definition.issParameterSupported === true && { issParameterSupported: true }),
          ...(definition.codeChallengeMethods !== undefined && {
            codeChallengeMethodsSupported: definition.codeChallengeMethods,
          }),
        },
        client,
        ...(definition.scopes !== undefined &&
          definition.scopes.length > 0 && { scope: definition.scopes.join(' ') }),
        ...(definition.resource !== undefined && { resource: definition.resource }),
        loginAgain: `Run \`${again} --web\` again.`,
      });
      return signedIn(ctx, tokens);
    },

    async verify(token, ctx) {
      const { userinfoUrl } = endpointsOf(definition);
      if (userinfoUrl === undefined) {
        // Nothing to ask: show what a JWT access token says about itself, if it is one, as unchecked.
        const claims = idTokenClaims(token);
        const identity = claims ? identityFromClaims(claims) : undefined;
        return {
          ...(identity ?? { account: 'unknown user' }),
          notChecked: identity
            ? "the server has no userinfo endpoint; shown from the access token's own claims"
            : 'the server has no userinfo endpoint',
        };
      }
      const identity = identityFromClaims(
        await fetchUserinfo(ctx.http, userinfoUrl, token, () => ctx.clock.now(), again),
      );
      if (identity === undefined) {
        throw new LatchkeyError({
          code: 'UNEXPECTED_RESPONSE',
          message: `${userinfoUrl.host} answered the userinfo request without a sub, email or name.`,
          action: "Report this to the server's operator.",
          exitCode: ExitCode.Failure,
        });
      }
      return identity;
    },

    async revoke(token, ctx) {
      return this.revokeSession({ accessToken: token }, ctx);
    },

    async revokeSession(tokens, ctx) {
      const { revocationUrl } = endpointsOf(definition);
      if (revocationUrl === undefined) return false;
      try {
        await revokeTokens(ctx.http, { revocationUrl, client: oauthClient(name, definition, env) }, tokens);
      } catch (error) {
        // The server revokes only for a confidential client: say how to be one there next time.
        if (isLatchkeyError(error) && error.code === 'REVOKE_CLIENT_AUTH_REQUIRED') {
          throw new LatchkeyError({
            code: error.code,
            message: error.message,
            action:
              `${error.action ?? ''} To revoke at logout, register a confidential client for latchkey at the server and add it with its secret in a variable: ${addAgainCommand(name, definition, '--client-id ID --client-secret-env VAR')}; the secret is read from VAR, never stored.`.trim(),
            ...(error.status !== undefined && { status: error.status }),
          });
        }
        throw error;
      }
      return true;
    },
  };
}
