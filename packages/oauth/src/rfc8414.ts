import { ExitCode, LatchkeyError, usageError } from '@latchkey/errors';
import { bodyField, httpsRuleBreach, standardRetry, type HttpClient } from '@latchkey/http';

/** What a server says about itself (RFC 8414 / OpenID Connect Discovery 1.0), the parts latchkey uses. */
export interface ServerMetadata {
  /** Where the metadata was found. */
  source: URL;
  issuer?: string;
  deviceAuthorizationUrl?: URL;
  tokenUrl?: URL;
  revocationUrl?: URL;
  userinfoUrl?: URL;
  /** The authorization endpoint (RFC 6749 section 3.1), for the browser sign-in. */
  authorizationUrl?: URL;
  /** The client registration endpoint (RFC 7591). */
  registrationUrl?: URL;
  scopesSupported?: string[];
  grantTypesSupported?: string[];
  codeChallengeMethodsSupported?: string[];
  /** `authorization_response_iss_parameter_supported` (RFC 9207): callbacks must then carry `iss`. */
  issParameterSupported?: boolean;
}

/** Metadata documents are small: a bigger answer is not one. */
const maxMetadataBytes = 256 * 1024;

const endpointFields = {
  deviceAuthorizationUrl: 'device_authorization_endpoint',
  tokenUrl: 'token_endpoint',
  revocationUrl: 'revocation_endpoint',
  userinfoUrl: 'userinfo_endpoint',
  authorizationUrl: 'authorization_endpoint',
  registrationUrl: 'registration_endpoint',
} as const;

/**
 * The addresses to look for metadata at, in order: RFC 8414's (for an issuer with a path, the well-known
 * segment goes before the path, section 3; the appended form, which many servers use, after it), then
 * OpenID Connect's `<issuer>/.well-known/openid-configuration`.
 */
export function metadataUrls(issuer: URL): URL[] {
  const path = issuer.pathname.replace(/\/+$/, '');
  const at = (p: string) => new URL(p, issuer.origin);
  const urls = [at(`/.well-known/oauth-authorization-server${path}`)];
  if (path !== '') urls.push(at(`${path}/.well-known/oauth-authorization-server`));
  urls.push(at(`${path}/.well-known/openid-configuration`));
  return urls;
}

/**
 * Checks an endpoint address against the rule for every URL latchkey sends a secret to (https://, or
 * http:// for loopback; no user name or password) and returns it. Exit 2 naming `source`, e.g. the flag.
 */
export function checkEndpoint(value: unknown, source: string): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined) {
    throw usageError(`${source} is not a valid URL: ${JSON.stringify(value)}.`, 'Pass a full https:// URL.');
  }
  const breach = httpsRuleBreach(url);
  if (breach === undefined) return url;
  const why =
    breach === 'scheme'
      ? 'it is not an https:// address'
      : breach === 'plain-http'
        ? 'it uses plain http:// for a host that is not this machine'
        : 'it contains a user name or password';
  throw usageError(
    `${source} is not safe to send credentials to: ${why} (${url.host || url.protocol}).`,
    'Use the https:// address of the server (http:// is allowed only for localhost).',
  );
}

/**
 * An issuer identifier as RFC 8414 section 2 defines it: an https:// URL (http:// only for loopback) with
 * no query and no fragment. Anything else is exit 2 naming `source`, e.g. `--issuer`. Returns the URL; the
 * identifier itself is the string as given (what `discoverServer` compares the server's `issuer` with).
 */
export function parseIssuer(value: string, source = '--issuer'): URL {
  const url = checkEndpoint(value, source);
  if (value.includes('?') || value.includes('#')) {
    throw usageError(
      `${source} may not have a query or a fragment (RFC 8414 section 2): ${JSON.stringify(value.slice(0, 200))}.`,
      `Pass the issuer exactly as the server names it, e.g. ${url.origin}${url.pathname.replace(/\/$/, '')}.`,
    );
  }
  return url;
}

/**
 * Reads a server's metadata from the first of `metadataUrls(issuer)` that answers with a JSON object
 * (404, an HTML page or another non-object answer: the next one). Each request is bounded in time and
 * size; a network failure stops discovery. `issuer` is checked with `parseIssuer` first. The document
 * must name an `issuer` identical to the one asked for, character for character (RFC 8414 section 3.3,
 * OpenID Connect Discovery section 4.3): none, or another one, and it is not used. Every endpoint it
 * names must pass `checkEndpoint`.
 */
export async function discoverServer(
  http: HttpClient,
  issuerId: string,
  options: {
    /** What named the issuer, in messages; default `--issuer`. */
    source?: string;
    /** The action when no metadata is found; default: check --issuer or give the endpoints. */
    notFoundAction?: string;
  } = {},
): Promise<ServerMetadata> {
  const source = options.source ?? '--issuer';
  const issuer = parseIssuer(issuerId, source);
  const tried: string[] = [];
  for (const url of metadataUrls(issuer)) {
    const response = await http.send({
      url,
      headers: { accept: 'application/json' },
      maxResponseBytes: maxMetadataBytes,
      retry: standardRetry,
    });
    tried.push(`${url.pathname} (HTTP ${response.status})`);
    if (response.status !== 200 || !response.isJson) continue;
    const body = response.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) continue;
    return readMetadata(body as Record<string, unknown>, url, issuerId, source);
  }
  throw new LatchkeyError({
    code: 'DISCOVERY_FAILED',
    message: `${issuer.host} publishes no OAuth server metadata: tried ${tried.join(', ')}.`,
    action:
      options.notFoundAction ??
      'Check --issuer, or give the endpoints with --device-authorization-url and --token-url (and --revocation-url, --userinfo-url).',
    exitCode: ExitCode.Failure,
  });
}

function readMetadata(
  body: Record<string, unknown>,
  source: URL,
  issuer: string,
  named = '--issuer',
): ServerMetadata {
  const said = bodyField<unknown>(body, 'issuer');
  if (typeof said !== 'string' || said === '') {
    throw new LatchkeyError({
      code: 'DISCOVERY_FAILED',
      message: `The metadata at ${source.toString()} names no issuer, so latchkey cannot tell it is ${issuer}'s (RFC 8414 section 3.3).`,
      action:
        "Report this to the server's operator, or give the endpoints with --device-authorization-url and --token-url (and --revocation-url, --userinfo-url).",
      exitCode: ExitCode.Failure,
    });
  }
  // Simple string comparison (RFC 3986 section 6.2.1): no case folding, no trailing-slash leniency.
  if (said !== issuer) {
    throw usageError(
      `${source.host} describes a different issuer (${JSON.stringify(said.slice(0, 200))}) than ${named} ${JSON.stringify(issuer.slice(0, 200))}.`,
      'Pass the issuer exactly as the server names it.',
    );
  }
  const metadata: ServerMetadata = { source, issuer: said };
  for (const [key, field] of Object.entries(endpointFields) as Array<[keyof typeof endpointFields, string]>) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    metadata[key] = checkEndpoint(value, `The server's ${field}`);
  }
  const strings = (field: string) => {
    const value = body[field];
    return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string') : undefined;
  };
  const scopes = strings('scopes_supported');
  if (scopes !== undefined) metadata.scopesSupported = scopes;
  const grants = strings('grant_types_supported');
  if (grants !== undefined) metadata.grantTypesSupported = grants;
  const methods = strings('code_challenge_methods_supported');
  if (methods !== undefined) metadata.codeChallengeMethodsSupported = methods;
  if (body.authorization_response_iss_parameter_supported === true) metadata.issParameterSupported = true;
  return metadata;
}

/**
 * Reads server metadata from an address of its own (`--discovery-url`), one request bounded in time and
 * size. With `issuerId` (`--issuer` too) the document must name exactly that issuer; without, it must
 * name an issuer on the same origin as the address (a document elsewhere cannot speak for another
 * server), held to the https-or-loopback rule like every endpoint it names.
 */
export async function discoverServerAt(
  http: HttpClient,
  discoveryUrl: string,
  issuerId?: string,
): Promise<ServerMetadata> {
  const url = checkEndpoint(discoveryUrl, '--discovery-url');
  const response = await http.send({
    url,
    headers: { accept: 'application/json' },
    maxResponseBytes: maxMetadataBytes,
    retry: standardRetry,
  });
  const body = response.body;
  if (
    response.status !== 200 ||
    !response.isJson ||
    typeof body !== 'object' ||
    body === null ||
    Array.isArray(body)
  ) {
    throw new LatchkeyError({
      code: 'DISCOVERY_FAILED',
      message: `${url.href} is not a metadata document (HTTP ${response.status}${response.isJson ? '' : ', not JSON'}).`,
      action: 'Check --discovery-url, or pass --issuer and let latchkey find the document.',
      exitCode: ExitCode.Failure,
    });
  }
  const said = bodyField<unknown>(body, 'issuer');
  if (issuerId === undefined) {
    const named = typeof said === 'string' ? said : '';
    let origin: string | undefined;
    try {
      origin = checkEndpoint(named, `The issuer named at ${url.href}`).origin;
    } catch {
      origin = undefined;
    }
    if (origin !== url.origin) {
      throw usageError(
        `The metadata at ${url.href} names an issuer (${JSON.stringify(named.slice(0, 200))}) that is not on ${url.host}.`,
        'Pass the issuer too with --issuer, exactly as the server names it.',
      );
    }
    return readMetadata(body as Record<string, unknown>, url, named, '--discovery-url');
  }
  parseIssuer(issuerId);
  return readMetadata(body as Record<string, unknown>, url, issuerId);
}
