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
 * Reads a server's metadata from exactly `documentUrl` (`--discovery-url`), for servers whose document is
 * not at the issuer's well-known address (`https://host/api/oidc/.well-known/openid-configuration` naming
 * the issuer `https://host`, say). The address must pass `checkEndpoint` and answer a JSON object, bounded
 * in size and time. RFC 8414's issuer rules still hold, against the issuer the document names: it must
 * name one (section 3.3), a valid issuer identifier (section 2: https, or http for loopback; no query or
 * fragment), and, because the address no longer ties the document to that issuer, one latchkey can trust:
 * identical, character for character, to `options.issuer` (`--issuer`) when given; else on the document's
 * own origin, so a document can never speak for another server's issuer (the mix-up defence: the stored
 * issuer is what browser callbacks' `iss` is held against). Every endpoint must pass `checkEndpoint`.
 */
export async function discoverServerAt(
  http: HttpClient,
  documentUrl: string,
  options: { issuer?: string } = {},
): Promise<ServerMetadata> {
  const url = checkEndpoint(documentUrl, '--discovery-url');
  const response = await http.send({
    url,
    headers: { accept: 'application/json' },
    maxResponseBytes: maxMetadataBytes,
    retry: standardRetry,
  });
  const body = response.body;
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
  if (response.status !== 200 || !response.isJson || !isObject) {
    throw new LatchkeyError({
      code: 'DISCOVERY_FAILED',
      message: `${url.toString()} is not an OAuth server metadata document: ${response.status !== 200 ? `HTTP ${response.status}` : 'the answer is not a JSON object'}.`,
      action:
        'Check --discovery-url: it is the address of the metadata document itself (it usually ends in /.well-known/openid-configuration or /.well-known/oauth-authorization-server).',
      exitCode: ExitCode.Failure,
      status: response.status,
    });
  }
  const said = bodyField<unknown>(body, 'issuer');
  if (typeof said !== 'string' || said === '') {
    throw new LatchkeyError({
      code: 'DISCOVERY_FAILED',
      message: `The metadata at ${url.toString()} names no issuer, so latchkey cannot tell whose it is (RFC 8414 section 3.3).`,
      action:
        "Report this to the server's operator, or give the endpoints with --device-authorization-url and --token-url (and --revocation-url, --userinfo-url).",
      exitCode: ExitCode.Failure,
    });
  }
  const issuer = parseIssuer(said, `The issuer the metadata at ${url.toString()} names`);
  const shown = JSON.stringify(said.slice(0, 200));
  if (options.issuer !== undefined && said !== options.issuer) {
    throw usageError(
      `${url.host} describes a different issuer (${shown}) than --issuer ${JSON.stringify(options.issuer.slice(0, 200))}.`,
      'Pass the issuer exactly as the server names it, or leave --issuer out.',
    );
  }
  if (options.issuer === undefined && issuer.origin !== url.origin) {
    throw usageError(
      `The metadata at ${url.toString()} names the issuer ${shown}, which is not on ${url.origin}: latchkey does not take a document's word for another server's issuer.`,
      `If ${said.slice(0, 200)} is the server you mean, confirm it: pass --issuer ${said.slice(0, 200)} with --discovery-url.`,
    );
  }
  return readMetadata(body as Record<string, unknown>, url, said);
}
