import { describe, expect, it } from 'vitest';
import { HttpClient } from '@latchkey/http';
import { registerPublicClient, registrationGrantTypes } from './rfc7591.js';

function server(status: number, body: unknown) {
  const seen: Array<{ url: string; body: unknown; headers: Headers }> = [];
  const fetch = (async (input: URL | string, init?: RequestInit) => {
    seen.push({
      url: String(input),
      body: JSON.parse(String(init?.body)),
      headers: new Headers(init?.headers),
    });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
      status,
      headers: { 'content-type': typeof body === 'string' ? 'text/html' : 'application/json' },
    });
  }) as typeof globalThis.fetch;
  return { seen, http: new HttpClient({ clientName: 'latchkey', clientVersion: '0', fetch }) };
}

const registration = {
  issuer: 'https://idp.example',
  registrationUrl: new URL('https://idp.example/register'),
  clientName: 'latchkey',
};

describe('registerPublicClient (RFC 7591)', () => {
  it('asks for a public native client on the loopback redirect and returns only its id', async () => {
    const { seen, http } = server(201, {
      client_id: 'c-123',
      client_secret: 'should-not-be-kept-0123456789',
      client_secret_expires_at: 0,
    });
    expect(await registerPublicClient(http, { ...registration, scope: 'openid' }, () => 0)).toEqual({
      clientId: 'c-123',
    });
    expect(seen[0]!.url).toBe('https://idp.example/register');
    expect(seen[0]!.headers.get('content-type')).toBe('application/json');
    expect(seen[0]!.body).toEqual({
      client_name: 'latchkey',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'openid',
    });
  });

  it('takes a 200 answer too, and maps refusals and junk', async () => {
    expect(await registerPublicClient(server(200, { client_id: 'c-9' }).http, registration, () => 0)).toEqual(
      { clientId: 'c-9' },
    );
    await expect(
      registerPublicClient(
        server(400, { error: 'invalid_redirect_uri', error_description: 'no loopback' }).http,
        registration,
        () => 0,
      ),
    ).rejects.toMatchObject({
      code: 'REGISTRATION_REFUSED',
      exitCode: 1,
      message: expect.stringContaining('no loopback'),
    });
    await expect(
      registerPublicClient(server(201, { client_name: 'x' }).http, registration, () => 0),
    ).rejects.toMatchObject({
      code: 'UNEXPECTED_RESPONSE',
    });
    await expect(
      registerPublicClient(server(403, '<html>login</html>').http, registration, () => 0),
    ).rejects.toMatchObject({
      code: 'UNEXPECTED_RESPONSE',
    });
  });

  it('asks only for the grants the server lists, always authorization_code', () => {
    expect(registrationGrantTypes(undefined)).toEqual(['authorization_code', 'refresh_token']);
    expect(registrationGrantTypes(['authorization_code'])).toEqual(['authorization_code']);
    expect(
      registrationGrantTypes([
        'urn:ietf:params:oauth:grant-type:device_code',
        'refresh_token',
        'authorization_code',
        'implicit',
      ]),
    ).toEqual(['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']);
    expect(registrationGrantTypes(['client_credentials'])).toEqual(['authorization_code']);
  });
});
