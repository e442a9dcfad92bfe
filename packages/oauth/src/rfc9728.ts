// Protected resource metadata (RFC 9728): from an API's URL to the authorization server that guards it,
// as MCP clients do. The document at the resource's well-known address first; when there is none, the
// `resource_metadata` hint of the resource's own 401 (`WWW-Authenticate: Bearer resource_metadata="..."`).
import { ExitCode, LatchkeyError, sanitizeLine } from '@latchkey/errors';
import { standardRetry, type HttpClient, type HttpResponse } from '@latchkey/http';
import * as oauth from 'oauth4webapi';
import { libraryFetch } from './library-fetch.js';
import { checkEndpoint } from './rfc8414.js';

export interface ProtectedResource {
  /** The resource identifier, as the metadata names it (equal to the one asked about). */
  resource: string;
  /** The issuers of the authorization servers it names, in its order. */
  authorizationServers: string[];
  scopesSupported?: string[];
  /** Where the metadata was read. */
  source: URL;
}

/** `/.well-known/oauth-protected-resource` inserted before the resource's path (RFC 9728 section 3.1). */
export function resourceMetadataUrl(resource: URL): URL {
  const path = resource.pathname.replace(/\/+$/, '');
  return new URL(`/.well-known/oauth-protected-resource${path}${resource.search}`, resource.origin);
}

/** The `resource_metadata` parameter of a Bearer challenge, when the header has one (RFC 9728 section 5.1). */
export function resourceMetadataHint(header: string | null): string | undefined {
  if (header === null || header.length > 8192) return undefined;
  const match = /(?:^|[\s,])resource_metadata\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/i.exec(header);
  const value = match?.[1]?.replace(/\\(.)/g, '$1') ?? match?.[2];
  return value === undefined || value === '' ? undefined : value;
}

function noMetadata(resource: string, tried: string[]): LatchkeyError {
  return new LatchkeyError({
    code: 'DISCOVERY_FAILED',
    message: `${resource} publishes no protected resource metadata (RFC 9728): tried ${tried.join(', ')}.`,
    action: "Pass the authorization server's issuer with --issuer instead of --resource.",
    exitCode: ExitCode.Failure,
  });
}

/**
 * Reads the metadata of `resourceId` (checked against the https-or-loopback rule first): the well-known
 * document, else the one a 401 from the resource points at (itself held to the same rule). oauth4webapi
 * checks that the document names this very resource. Each request is bounded in time and size.
 */
export async function discoverResource(http: HttpClient, resourceId: string): Promise<ProtectedResource> {
  const resource = checkEndpoint(resourceId, '--resource');
  const tried: string[] = [];
  const read = async (url: URL): Promise<ProtectedResource | undefined> => {
    const through = libraryFetch(http, standardRetry, url);
    const response = await through.options[oauth.customFetch](url.href, {
      method: 'GET',
      headers: { accept: 'application/json' },
    });
    const answer = through.responseOf(response) as HttpResponse;
    tried.push(`${url.pathname} (HTTP ${answer.status})`);
    if (answer.status !== 200 || !answer.isJson) return undefined;
    let document: oauth.ResourceServer;
    try {
      document = await oauth.processResourceDiscoveryResponse(new URL(resourceId), response);
    } catch (error) {
      throw new LatchkeyError({
        code: 'DISCOVERY_FAILED',
        message: `The protected resource metadata at ${url.href} is not usable for ${resourceId}: ${sanitizeLine(error instanceof Error ? error.message : String(error)).slice(0, 200)}.`,
        action:
          "Check --resource (it must be the API's identifier exactly), or pass the authorization server with --issuer.",
        exitCode: ExitCode.Failure,
      });
    }
    const servers = (document.authorization_servers ?? []).filter((s): s is string => typeof s === 'string');
    const found: ProtectedResource = {
      resource: document.resource,
      authorizationServers: servers,
      source: url,
    };
    if (Array.isArray(document.scopes_supported)) {
      found.scopesSupported = document.scopes_supported.filter((s): s is string => typeof s === 'string');
    }
    return found;
  };
  const wellKnown = await read(resourceMetadataUrl(resource));
  if (wellKnown) return wellKnown;
  // No document there: ask the resource itself, whose 401 may say where its metadata is.
  const probe = await http.send({
    url: resource,
    headers: { accept: 'application/json' },
    retry: standardRetry,
  });
  tried.push(`${resource.pathname || '/'} (HTTP ${probe.status})`);
  const hint = probe.status === 401 ? resourceMetadataHint(probe.headers.get('www-authenticate')) : undefined;
  if (hint === undefined) throw noMetadata(resourceId, tried);
  const hinted = checkEndpoint(hint, `The resource_metadata of ${resource.host}'s 401`);
  const found = await read(hinted);
  if (found === undefined) throw noMetadata(resourceId, tried);
  return found;
}
