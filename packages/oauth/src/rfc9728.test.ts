import { describe, expect, it } from 'vitest';
import { HttpClient } from '@latchkey/http';
import { discoverResource, resourceMetadataHint, resourceMetadataUrl } from './rfc9728.js';

type Route = { status: number; body?: unknown; headers?: Record<string, string> };

function site(routes: Record<string, Route>) {
  const seen: string[] = [];
  const fetch = (async (input: URL | string) => {
    const url = new URL(String(input));
    seen.push(`${url.pathname}${url.search}`);
    const route = routes[`${url.origin}${url.pathname}`] ?? { status: 404, body: { error: 'not_found' } };
    return new Response(route.body === undefined ? null : JSON.stringify(route.body), {
      status: route.status,
      headers: { 'content-type': 'application/json', ...route.headers },
    });
  }) as typeof globalThis.fetch;
  return { seen, http: new HttpClient({ clientName: 'latchkey', clientVersion: '0', fetch }) };
}

describe('protected resource metadata (RFC 9728)', () => {
  it('puts the well-known segment before the path', () => {
    expect(resourceMetadataUrl(new URL('https://api.example/v1')).href).toBe(
      'https://api.example/.well-known/oauth-protected-resource/v1',
    );
    expect(resourceMetadataUrl(new URL('https://api.example')).href).toBe(
      'https://api.example/.well-known/oauth-protected-resource',
    );
  });

  it('reads resource_metadata from a Bearer challenge, quoted or not', () => {
    expect(
      resourceMetadataHint(
        'Bearer resource_metadata="https://api.example/.well-known/oauth-protected-resource/v1"',
      ),
    ).toBe('https://api.example/.well-known/oauth-protected-resource/v1');
    expect(
      resourceMetadataHint('Bearer realm="x", error="invalid_token", resource_metadata=https://a.example/m'),
    ).toBe('https://a.example/m');
    expect(resourceMetadataHint('Bearer realm="x"')).toBeUndefined();
    expect(resourceMetadataHint(null)).toBeUndefined();
  });

  it('the well-known document first; it must name the very resource asked about', async () => {
    const { http, seen } = site({
      'https://api.example/.well-known/oauth-protected-resource/v1': {
        status: 200,
        body: {
          resource: 'https://api.example/v1',
          authorization_servers: ['https://id.example'],
          scopes_supported: ['api'],
        },
      },
    });
    expect(await discoverResource(http, 'https://api.example/v1')).toMatchObject({
      resource: 'https://api.example/v1',
      authorizationServers: ['https://id.example'],
      scopesSupported: ['api'],
    });
    expect(seen).toEqual(['/.well-known/oauth-protected-resource/v1']);
    const other = site({
      'https://api.example/.well-known/oauth-protected-resource/v1': {
        status: 200,
        body: { resource: 'https://evil.example/v1', authorization_servers: ['https://id.example'] },
      },
    });
    await expect(discoverResource(other.http, 'https://api.example/v1')).rejects.toMatchObject({
      code: 'DISCOVERY_FAILED',
    });
  });

  it("then the 401's hint, held to the https-or-loopback rule; nothing at all: DISCOVERY_FAILED", async () => {
    const hinted = site({
      'https://api.example/v1': {
        status: 401,
        body: { error: 'unauthorized' },
        headers: { 'www-authenticate': 'Bearer resource_metadata="https://meta.example/rs"' },
      },
      'https://meta.example/rs': {
        status: 200,
        body: { resource: 'https://api.example/v1', authorization_servers: ['https://id.example'] },
      },
    });
    expect((await discoverResource(hinted.http, 'https://api.example/v1')).authorizationServers).toEqual([
      'https://id.example',
    ]);
    expect(hinted.seen).toEqual(['/.well-known/oauth-protected-resource/v1', '/v1', '/rs']);

    const plain = site({
      'https://api.example/v1': {
        status: 401,
        headers: { 'www-authenticate': 'Bearer resource_metadata="http://meta.example/rs"' },
      },
    });
    await expect(discoverResource(plain.http, 'https://api.example/v1')).rejects.toMatchObject({
      code: 'USAGE',
      exitCode: 2,
    });
    const none = site({ 'https://api.example/v1': { status: 200, body: {} } });
    await expect(discoverResource(none.http, 'https://api.example/v1')).rejects.toMatchObject({
      code: 'DISCOVERY_FAILED',
    });
    await expect(discoverResource(none.http, 'http://api.example/v1')).rejects.toMatchObject({
      code: 'USAGE',
    });
  });
});
