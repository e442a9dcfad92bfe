import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startNanoGptEmulator, type NanoGptEmulator } from './emulator.js';

let emulator: NanoGptEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

const verifier = randomBytes(32).toString('base64url');
const challenge = createHash('sha256').update(verifier).digest('base64url');

/** Submits the approval page's form with `decision`; returns where NanoGPT redirects the browser. */
async function decide(pageUrl: string, decision: 'approve' | 'deny'): Promise<URL> {
  const page = await fetch(pageUrl);
  expect(page.status).toBe(200);
  const html = await page.text();
  const request = /name="request" value="([^"]+)"/.exec(html)![1]!;
  const action = /<form method="post" action="([^"]+)"/.exec(html)![1]!;
  const answer = await fetch(new URL(action, pageUrl), {
    method: 'POST',
    body: new URLSearchParams({ request, decision }),
    redirect: 'manual',
  });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get('location')!);
}

describe('the NanoGPT emulator: browser sign-in with PKCE', () => {
  it('publishes RFC 8414 and RFC 9728 metadata, and hints at the latter on a 401', async () => {
    emulator = await startNanoGptEmulator();
    const metadata = await (await fetch(`${emulator.url}/.well-known/oauth-authorization-server`)).json();
    expect(metadata).toMatchObject({
      issuer: emulator.url,
      authorization_endpoint: `${emulator.url}/oauth/authorize`,
      token_endpoint: `${emulator.url}/oauth/token`,
      registration_endpoint: `${emulator.url}/oauth/register`,
      grant_types_supported: ['authorization_code'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: ['models.read', 'api.use'],
    });
    const resource = await (
      await fetch(`${emulator.url}/.well-known/oauth-protected-resource/api/v1`)
    ).json();
    expect(resource).toMatchObject({
      resource: `${emulator.url}/api/v1`,
      authorization_servers: [emulator.url],
    });
    const denied = await fetch(`${emulator.url}/api/v1/models`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${emulator.url}/.well-known/oauth-protected-resource/api/v1"`,
    );
  });

  it('standard flow: register, authorize (any loopback port), approve, one token per code and verifier', async () => {
    emulator = await startNanoGptEmulator();
    const refused = await fetch(`${emulator.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://example.com/cb'] }),
    });
    expect(refused.status).toBe(400);
    const registered = await fetch(`${emulator.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'laptop',
        redirect_uris: ['http://127.0.0.1/callback'],
        token_endpoint_auth_method: 'none',
      }),
    });
    expect(registered.status).toBe(201);
    const { client_id: clientId } = (await registered.json()) as { client_id: string };
    const redirectUri = 'http://127.0.0.1:49152/callback';
    const authorize = new URL(`${emulator.url}/oauth/authorize`);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st-1',
      scope: 'api.use',
    }))
      authorize.searchParams.set(k, v);
    const back = await decide(authorize.href, 'approve');
    expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
    expect(back.searchParams.get('state')).toBe('st-1');
    const code = back.searchParams.get('code')!;
    const exchange = (codeVerifier: string) =>
      fetch(`${emulator!.url}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          code_verifier: codeVerifier,
          redirect_uri: redirectUri,
          client_id: clientId,
        }),
      });
    expect((await exchange('wrong-verifier')).status).toBe(400);
    const granted = await exchange(verifier);
    expect(granted.status).toBe(200);
    const body = (await granted.json()) as { access_token: string; token_type: string };
    expect(body.access_token).toMatch(/^sk-nano-[0-9a-f-]{36}$/);
    expect(body.token_type).toBe('Bearer');
    expect(emulator.issuedKeyDetails()).toEqual([
      { key: body.access_token, name: 'CLI (laptop)', revoked: false },
    ]);
    expect(await (await exchange(verifier)).json()).toMatchObject({ error: 'invalid_grant' });
    // Denied: the error redirect, with the state.
    const denied = await decide(authorize.href, 'deny');
    expect(Object.fromEntries(denied.searchParams)).toMatchObject({ error: 'access_denied', state: 'st-1' });
    // plain PKCE is refused with an error redirect.
    authorize.searchParams.set('code_challenge_method', 'plain');
    const plain = await fetch(authorize, { redirect: 'manual' });
    expect(new URL(plain.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('key handoff: /auth?callback_url=... then POST /api/v1/auth/keys with the verifier', async () => {
    emulator = await startNanoGptEmulator();
    const start = new URL(`${emulator.url}/auth`);
    start.searchParams.set('callback_url', 'http://127.0.0.1:50123/callback');
    start.searchParams.set('code_challenge', challenge);
    start.searchParams.set('code_challenge_method', 'S256');
    start.searchParams.set('scope', 'api.use models.read');
    start.searchParams.set('state', 'st-2');
    const back = await decide(start.href, 'approve');
    expect(back.searchParams.get('state')).toBe('st-2');
    const keys = await fetch(`${emulator.url}/api/v1/auth/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'authorization_code',
        code: back.searchParams.get('code'),
        code_verifier: verifier,
      }),
    });
    expect(keys.status).toBe(200);
    const body = (await keys.json()) as Record<string, string>;
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'api.use models.read' });
    expect(body.key).toMatch(/^sk-nano-/);
    expect(body.access_token).toBe(body.key);
    const models = await fetch(`${emulator.url}/api/v1/models`, {
      headers: { authorization: `Bearer ${body.key}` },
    });
    expect(models.status).toBe(200);
  });
});
