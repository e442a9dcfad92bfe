// `auth providers add` and `auth providers remove`: a provider definition from the server's metadata and
// the user's flags, kept in providers.json (see configured-providers.ts for how it becomes a provider).
import { ExitCode, LatchkeyError, isLatchkeyError, usageError } from '@latchkey/errors';
import { parseBaseUrl } from '@latchkey/http';
import {
  checkEndpoint,
  discoverResource,
  discoverServer,
  discoverServerAt,
  parseIssuer,
  registerPublicClient,
  type ProtectedResource,
  type ServerMetadata,
} from '@latchkey/oauth';
import {
  definitionEndpoints,
  readProviderDefinitions,
  resolveConfigDir,
  updateProviderDefinitions,
  type ProviderDefinition,
} from '@latchkey/storage';
import { configuredPlugin, signInAgain } from './configured-providers.js';
import { cleanupStore, describeLogout, logout, type LoggedOut } from '../auth/logout.js';
import { allStaticProviders, loadProviders, staticProviders } from './providers.js';
import { clientSecretEnvProblem, clientSecretEnvRefused } from './client-secret-env.js';
import type { Runtime } from '../runtime/ports.js';
import { httpClient } from '../runtime/runtime.js';

export interface AddProviderRequest {
  name: string;
  issuer?: string;
  /** `--resource`: the API; its RFC 9728 metadata names the issuer, and it becomes the base URL. */
  resource?: string;
  /**
   * `--discovery-url`: the metadata document's own address, read instead of the issuer's well-known ones;
   * the issuer is the one it names (see `discoverServerAt`).
   */
  discoveryUrl?: string;
  /** Absent: registered at the server's registration endpoint (RFC 7591), when it has one. */
  clientId?: string;
  /** `--scope`, each may hold several space-separated scopes; empty: chosen from the server's metadata. */
  scopes: string[];
  clientSecretEnv?: string;
  deviceAuthorizationUrl?: string;
  authorizationUrl?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  userinfoUrl?: string;
  encoding: 'form' | 'json';
  baseUrl?: string;
  /**
   * Replace an existing definition of the same name; when its endpoints change, its stored accounts are
   * logged out first (revoked at the old endpoints).
   */
  force: boolean;
}

export interface AddedProvider {
  name: string;
  definition: ProviderDefinition;
  /** The definition replaced one of the same name (`--force`). */
  replaced: boolean;
  /** Accounts of the replaced definition logged out first, because the endpoints changed (`--force`). */
  loggedOut: LoggedOut[];
  /** Where the endpoints were found, when discovery was used. */
  discoveredAt?: string;
  /** The client id was registered just now (RFC 7591) at this endpoint. */
  registeredAt?: string;
  /** Where the resource's metadata was read (`--resource`). */
  resourceMetadataAt?: string;
}

const namePattern = /^[a-z][a-z0-9-]{0,31}$/;

/** Checks NAME: a lowercase id that no installed provider has. */
async function checkName(runtime: Runtime, name: string): Promise<void> {
  if (!namePattern.test(name) || name.endsWith('-') || name.includes('--')) {
    throw usageError(
      `Invalid provider name ${JSON.stringify(name)}.`,
      'Use 1-32 lowercase letters, digits and single dashes, starting with a letter (e.g. acme-idp).',
    );
  }
  const installed =
    staticProviders(runtime.config).get(name)?.plugin ??
    [...(await loadProviders(runtime.config, runtime.env)).providers.values()].find(
      (e) => e.provider.id === name && e.plugin !== configuredPlugin,
    )?.plugin;
  if (installed !== undefined) {
    throw usageError(
      `${name} is already a provider (from ${installed}); a configured provider may not shadow it.`,
      'Choose another name.',
    );
  }
}

/**
 * The scopes to ask for: as given; else `openid offline_access` when the server offers offline access
 * (`offline_access` alone when it is no OpenID provider); else `openid` when the server advertises it
 * (some servers refuse a request without a scope); else none.
 */
function chooseScopes(given: string[], metadata: ServerMetadata | undefined): string[] | undefined {
  const scopes = given.flatMap((s) => s.split(/\s+/)).filter((s) => s !== '');
  if (scopes.length > 0) return scopes;
  const supported = metadata?.scopesSupported ?? [];
  const openid = supported.includes('openid') ? ['openid'] : [];
  if (!supported.includes('offline_access')) return openid.length > 0 ? openid : undefined;
  return [...openid, 'offline_access'];
}

/**
 * `auth providers add NAME`: the endpoints from `--issuer`'s metadata (RFC 8414, else OpenID Connect), or
 * from the document at `--discovery-url` (whose issuer is then the provider's), each replaced by its
 * explicit flag when given, all held to the https-or-loopback rule; stored in providers.json. Nothing is
 * stored when anything is wrong.
 */
export async function addProvider(runtime: Runtime, request: AddProviderRequest): Promise<AddedProvider> {
  await checkName(runtime, request.name);
  if (request.clientId !== undefined && request.clientId.trim() === '')
    throw usageError(
      '--client-id may not be empty.',
      'Pass the client id the server registered for latchkey, or leave --client-id out where the server offers registration.',
    );
  if (request.clientSecretEnv !== undefined) {
    // Every provider's credential variables, those of plugins known only through their hook too.
    const providers = [
      ...(await allStaticProviders(runtime.config, runtime.env)).values(),
      ...[...(await loadProviders(runtime.config, runtime.env)).providers.values()].map((entry) => ({
        manifest: entry.provider,
        plugin: entry.plugin,
      })),
    ];
    const problem = clientSecretEnvProblem(request.clientSecretEnv, providers);
    if (problem !== undefined)
      throw clientSecretEnvRefused(request.clientSecretEnv, problem, '--client-secret-env');
  }
  // Before any request (a registration leaves a client behind at the server).
  if (!request.force && (await readProviderDefinitions(resolveConfigDir(runtime.env))).has(request.name))
    throw alreadyConfigured(request.name);
  const explicit = {
    deviceAuthorizationUrl:
      request.deviceAuthorizationUrl &&
      checkEndpoint(request.deviceAuthorizationUrl, '--device-authorization-url'),
    authorizationUrl:
      request.authorizationUrl && checkEndpoint(request.authorizationUrl, '--authorization-url'),
    tokenUrl: request.tokenUrl && checkEndpoint(request.tokenUrl, '--token-url'),
    revocationUrl: request.revocationUrl && checkEndpoint(request.revocationUrl, '--revocation-url'),
    userinfoUrl: request.userinfoUrl && checkEndpoint(request.userinfoUrl, '--userinfo-url'),
  };
  if (
    request.resource !== undefined &&
    (request.issuer !== undefined || request.discoveryUrl !== undefined)
  ) {
    throw usageError(
      `--resource finds the authorization server by itself; it cannot be given with ${request.issuer !== undefined ? '--issuer' : '--discovery-url'}.`,
      'Pass --resource alone, or the issuer alone.',
    );
  }
  // --resource (RFC 9728): the API names its authorization server; then as --issuer, and the API is the base URL.
  let protectedResource: ProtectedResource | undefined;
  if (request.resource !== undefined) {
    parseBaseUrl(request.resource, '--resource');
    protectedResource = await discoverResource(httpClient(runtime), request.resource.trim());
    if (protectedResource.authorizationServers.length === 0) {
      throw new LatchkeyError({
        code: 'DISCOVERY_FAILED',
        message: `The metadata of ${protectedResource.resource} names no authorization server.`,
        action: "Pass the authorization server's issuer with --issuer instead of --resource.",
        exitCode: ExitCode.Failure,
      });
    }
  }
  // The issuer identifier is the string as given (RFC 8414 section 3.3 compares it character for character).
  const issuerId = request.issuer?.trim() ?? protectedResource?.authorizationServers[0];
  const issuer =
    issuerId === undefined
      ? undefined
      : parseIssuer(
          issuerId,
          request.issuer === undefined && protectedResource
            ? 'The authorization server of --resource'
            : '--issuer',
        );
  const baseUrl =
    request.baseUrl !== undefined
      ? parseBaseUrl(request.baseUrl, '--base-url')
      : protectedResource !== undefined
        ? parseBaseUrl(protectedResource.resource, '--resource')
        : undefined;
  let metadata: ServerMetadata | undefined;
  if (issuer !== undefined || request.discoveryUrl !== undefined) {
    try {
      metadata =
        request.discoveryUrl !== undefined
          ? await discoverServerAt(httpClient(runtime), request.discoveryUrl.trim(), {
              ...(issuerId !== undefined && { issuer: issuerId }),
            })
          : await discoverServer(httpClient(runtime), issuerId!);
    } catch (error) {
      // Both required endpoints given: the metadata was only a bonus.
      if (!(
        isLatchkeyError(error) &&
        error.code === 'DISCOVERY_FAILED' &&
        (explicit.deviceAuthorizationUrl || explicit.authorizationUrl) &&
        explicit.tokenUrl
      ))
        throw error;
      runtime.warn(error.message);
    }
  } else if (!(explicit.deviceAuthorizationUrl || explicit.authorizationUrl) || !explicit.tokenUrl) {
    throw usageError(
      'Say where the server is: --issuer URL (its endpoints are discovered), --resource URL (the API names its server), --discovery-url URL (its metadata document), or --token-url with --device-authorization-url and/or --authorization-url.',
      `Run \`latchkey auth providers add ${request.name} --issuer https://idp.example.com --client-id ID\`.`,
    );
  }
  // With --discovery-url, the issuer is the one its document names (held to RFC 8414's rules there).
  const issuerName = issuerId ?? metadata?.issuer;
  const issuerUrl = issuerName === undefined ? undefined : new URL(issuerName);
  const pick = (key: keyof typeof explicit) => (explicit[key] || metadata?.[key])?.toString();
  const device = pick('deviceAuthorizationUrl');
  const authorization = pick('authorizationUrl');
  const token = pick('tokenUrl');
  if (token === undefined) {
    throw usageError(
      `${issuerUrl?.host ?? 'The server'} does not advertise a token endpoint, so latchkey cannot sign in to it.`,
      'Pass --token-url.',
    );
  }
  if (device === undefined && authorization === undefined) {
    throw usageError(
      `${issuerUrl?.host ?? 'The server'} advertises neither a device authorization endpoint (RFC 8628) nor an authorization endpoint (browser sign-in), so latchkey cannot sign in to it.`,
      'Check --issuer, or pass --device-authorization-url or --authorization-url.',
    );
  }
  const scopes = chooseScopes(request.scopes, metadata);
  let clientId = request.clientId;
  let registeredAt: string | undefined;
  if (clientId === undefined) {
    const registrationUrl = metadata?.registrationUrl;
    if (registrationUrl === undefined || authorization === undefined) {
      throw usageError(
        `--client-id is required: ${issuerUrl?.host ?? 'the server'} offers no client registration${registrationUrl !== undefined ? ' for a browser sign-in (it has no authorization endpoint)' : ' (RFC 7591)'}.`,
        `Register a public client for latchkey at the server and pass its id: \`latchkey auth providers add ${request.name} ${request.discoveryUrl !== undefined ? `--discovery-url ${request.discoveryUrl.trim()} ` : issuerId !== undefined ? `--issuer ${issuerId} ` : ''}--client-id ID\`.`,
      );
    }
    if (request.clientSecretEnv !== undefined) {
      throw usageError(
        '--client-secret-env needs --client-id: latchkey registers itself only as a public client (no secret).',
        "Pass the confidential client's id with --client-id, or leave --client-secret-env out.",
      );
    }
    clientId = (
      await registerPublicClient(
        httpClient(runtime),
        {
          issuer: metadata!.issuer ?? issuerName!,
          registrationUrl,
          clientName: 'latchkey',
          ...(metadata?.grantTypesSupported !== undefined && {
            grantTypesSupported: metadata.grantTypesSupported,
          }),
          ...(scopes !== undefined && { scope: scopes.join(' ') }),
        },
        () => runtime.clock.now(),
      )
    ).clientId;
    registeredAt = registrationUrl.toString();
  }
  const revocation = pick('revocationUrl');
  const userinfo = pick('userinfoUrl');
  const definition: ProviderDefinition = {
    ...(issuerName !== undefined && { issuer: issuerName }),
    ...(request.discoveryUrl !== undefined &&
      metadata !== undefined && { discoveryUrl: metadata.source.toString() }),
    clientId,
    ...(registeredAt !== undefined && { registeredClient: true }),
    ...(request.clientSecretEnv !== undefined && { clientSecretEnv: request.clientSecretEnv }),
    ...(scopes !== undefined && { scopes }),
    encoding: request.encoding,
    ...(protectedResource !== undefined && { resource: protectedResource.resource }),
    ...(device !== undefined && { deviceAuthorizationUrl: device }),
    ...(authorization !== undefined && { authorizationUrl: authorization }),
    ...(authorization !== undefined &&
      metadata?.issParameterSupported === true && { issParameterSupported: true }),
    ...(authorization !== undefined &&
      metadata?.codeChallengeMethodsSupported !== undefined && {
        codeChallengeMethods: metadata.codeChallengeMethodsSupported,
      }),
    tokenUrl: token,
    ...(revocation !== undefined && { revocationUrl: revocation }),
    ...(userinfo !== undefined && { userinfoUrl: userinfo }),
    baseUrl: (baseUrl ?? issuerUrl ?? new URL(new URL(token).origin)).toString().replace(/\/$/, ''),
    addedAt: new Date(runtime.clock.now()).toISOString(),
  };
  const configDir = resolveConfigDir(runtime.env);
  const previous = (await readProviderDefinitions(configDir)).get(request.name);
  let loggedOut: LoggedOut[] = [];
  if (previous !== undefined && request.force && movesTokens(previous, definition)) {
    // Its stored tokens were issued by the old endpoints and go nowhere else: they are logged out first,
    // revoked there (a failure here, STORAGE_TAMPERED say, leaves the definition as it was).
    if ((await cleanupStore(runtime).list(request.name)).length > 0) {
      loggedOut = (await logout(runtime, { provider: request.name, all: true })).removed;
    }
  }
  const replaced = await updateProviderDefinitions(configDir, (current) => {
    const existed = current.has(request.name);
    if (existed && !request.force) throw alreadyConfigured(request.name);
    return { result: existed, next: new Map([...current, [request.name, definition]]) };
  });
  return {
    name: request.name,
    definition,
    replaced,
    loggedOut,
    ...(metadata !== undefined && { discoveredAt: metadata.source.toString() }),
    ...(registeredAt !== undefined && { registeredAt }),
    ...(protectedResource !== undefined && { resourceMetadataAt: protectedResource.source.toString() }),
  };
}

function alreadyConfigured(name: string) {
  return usageError(
    `A provider named ${name} is already configured.`,
    `Pass --force to replace its definition (when its endpoints change, its stored accounts are logged out first, revoked at the old ones), or \`latchkey auth providers remove ${name}\` first.`,
  );
}

/** The new definition sends tokens elsewhere: another issuer, base URL, token/revocation/userinfo endpoint. */
function movesTokens(before: ProviderDefinition, after: ProviderDefinition): boolean {
  const where = (d: ProviderDefinition) => JSON.stringify([definitionEndpoints(d), d.baseUrl]);
  return where(before) !== where(after);
}

export function describeAdded(added: AddedProvider): string[] {
  const where = added.definition.issuer ?? added.definition.baseUrl;
  const flows = [
    ...(added.definition.authorizationUrl !== undefined ? ['in the browser (--web)'] : []),
    ...(added.definition.deviceAuthorizationUrl !== undefined ? ['with a device code (--device)'] : []),
  ];
  return [
    ...describeLogout({ removed: added.loggedOut, orphansRemoved: [], envStillSet: [] }),
    ...(added.resourceMetadataAt !== undefined
      ? [
          `  ${added.definition.resource} is guarded by ${added.definition.issuer} (read from ${added.resourceMetadataAt}).`,
        ]
      : []),
    ...(added.registeredAt !== undefined
      ? [
          `  Registered latchkey as a public client at ${added.registeredAt}: client id ${added.definition.clientId} (no secret).`,
        ]
      : []),
    `✓ ${added.replaced ? 'Replaced' : 'Added'} provider ${added.name} (${where}): sign in with ${signInAgain(added.name)}`,
    `  It signs in ${flows.join(' or ')}.`,
  ];
}

export interface RemovedProvider {
  name: string;
  /** Accounts logged out first (`--force`). */
  loggedOut: LoggedOut[];
}

/**
 * `auth providers remove NAME`: refuses while accounts of it are stored, unless `force`, which logs them
 * out first (revoking them where the server can); then deletes the definition.
 */
export async function removeProvider(
  runtime: Runtime,
  name: string,
  force: boolean,
): Promise<RemovedProvider> {
  const configDir = resolveConfigDir(runtime.env);
  const definitions = await readProviderDefinitions(configDir);
  if (!definitions.has(name)) {
    throw usageError(
      `No configured provider is named ${JSON.stringify(name)}.`,
      `Configured providers: ${[...definitions.keys()].sort().join(', ') || '(none)'}; \`latchkey auth providers\` lists every provider.`,
    );
  }
  const accounts = await cleanupStore(runtime).list(name);
  let loggedOut: LoggedOut[] = [];
  if (accounts.length > 0) {
    if (!force) {
      throw usageError(
        `${name} still has stored accounts: ${accounts
          .map((a) => a.account)
          .sort()
          .join(', ')}.`,
        `Log out first (\`latchkey auth logout --provider ${name} --all\`), or pass --force to log them out and remove it.`,
      );
    }
    loggedOut = (await logout(runtime, { provider: name, all: true })).removed;
  }
  await updateProviderDefinitions(configDir, (current) => {
    const next = new Map(current);
    next.delete(name);
    return { result: undefined, next };
  });
  return { name, loggedOut };
}
