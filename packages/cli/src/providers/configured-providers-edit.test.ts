/** `auth providers add|remove` with fakes for the host and a real metadata server on 127.0.0.1. */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeHosts, fakeProvider } from '../testing/fake-host.js';
import {
  addProvider,
  describeAdded,
  removeProvider,
  type AddProviderRequest,
} from './configured-providers-edit.js';
import { listProviders } from './provider-list.js';

const start = fakeHosts();
const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** An OAuth server publishing `metadata` at `wellKnown` (everything else 404), recording the paths asked for. */
async function metadataServer(wellKnown: string, metadata: (issuer: string) => object) {
  const asked: string[] = [];
  let issuer = '';
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    if (req.url === wellKnown)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadata(issuer)));
    else res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>404</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closers.push(() => server.close());
  return { issuer, asked };
}

const oidc = (scopes: string[]) => (issuer: string) => ({
  issuer,
  device_authorization_endpoint: `${issuer}/device`,
  token_endpoint: `${issuer}/token`,
  revocation_endpoint: `${issuer}/revoke`,
  userinfo_endpoint: `${issuer}/me`,
  scopes_supported: scopes,
});

const request = (over: Partial<AddProviderRequest>): AddProviderRequest => ({
  name: 'corp-idp',
  clientId: 'latchkey-cli',
  scopes: [],
  encoding: 'form',
  force: false,
  ...over,
});

const storedFile = async (configDir: string) =>
  JSON.parse(await readFile(join(configDir, 'providers.json'), 'utf8')) as {
    providers: Record<string, unknown>;
  };

describe('auth providers add', () => {
  it('discovers the endpoints (OIDC after RFC 8414), asks for offline_access when offered, and stores the definition', async () => {
    const server = await metadataServer(
      '/.well-known/openid-configuration',
      oidc(['openid', 'email', 'offline_access']),
    );
    const h = await start({});
    const added = await addProvider(h.runtime, request({ issuer: server.issuer }));
    expect(server.asked).toEqual([
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
    ]);
    expect(added.definition).toEqual({
      issuer: server.issuer,
      clientId: 'latchkey-cli',
      scopes: ['openid', 'offline_access'],
      encoding: 'form',
      deviceAuthorizationUrl: `${server.issuer}/device`,
      tokenUrl: `${server.issuer}/token`,
      revocationUrl: `${server.issuer}/revoke`,
      userinfoUrl: `${server.issuer}/me`,
      baseUrl: server.issuer,
      addedAt: '2026-01-01T00:00:00.000Z',
    });
    expect((await storedFile(h.configDir)).providers['corp-idp']).toEqual(added.definition);
    expect(describeAdded(added)).toEqual([
      `✓ Added provider corp-idp (${server.issuer}): sign in with latchkey auth login --provider corp-idp`,
      '  It signs in with a device code (--device).',
    ]);
    // It is a provider now, listed as configured.
    const listing = await listProviders(h.runtime);
    expect(listing.providers.find((p) => p.id === 'corp-idp')).toMatchObject({
      plugin: `configured (${server.issuer})`,
      envVars: ['LATCHKEY_CORP_IDP_TOKEN'],
    });
  });

  it('--discovery-url: that document only; the issuer and base URL are the ones it names', async () => {
    const at = '/api/oidc/.well-known/openid-configuration';
    const server = await metadataServer(at, oidc(['openid', 'offline_access']));
    const h = await start({});
    const added = await addProvider(h.runtime, request({ discoveryUrl: `${server.issuer}${at}` }));
    expect(server.asked).toEqual([at]);
    expect(added.definition).toMatchObject({
      issuer: server.issuer,
      baseUrl: server.issuer,
      tokenUrl: `${server.issuer}/token`,
      scopes: ['openid', 'offline_access'],
    });
    expect(added.discoveredAt).toBe(`${server.issuer}${at}`);
    expect(added.definition.discoveryUrl).toBe(`${server.issuer}${at}`);
    expect(describeAdded(added)[0]).toContain(`(${server.issuer})`);
  });

  it('--scope is sent exactly; explicit URLs win; without offline_access, openid when advertised, else no scope', async () => {
    const server = await metadataServer('/.well-known/oauth-authorization-server', oidc(['openid']));
    const h = await start({});
    const exact = await addProvider(
      h.runtime,
      request({
        issuer: server.issuer,
        scopes: ['read write', 'admin'],
        tokenUrl: 'https://other.example/token',
      }),
    );
    expect(exact.definition).toMatchObject({
      scopes: ['read', 'write', 'admin'],
      tokenUrl: 'https://other.example/token',
    });
    // Some servers refuse a device request without a scope: openid, which it advertises, is asked for.
    const openid = await addProvider(h.runtime, request({ name: 'plain', issuer: server.issuer }));
    expect(openid.definition.scopes).toEqual(['openid']);
    const bare = await metadataServer('/.well-known/oauth-authorization-server', oidc(['profile']));
    const none = await addProvider(h.runtime, request({ name: 'bare', issuer: bare.issuer }));
    expect(none.definition.scopes).toBeUndefined();
  });

  it('explicit endpoints need no issuer; the base URL is the token endpoint origin unless given', async () => {
    const h = await start({});
    const added = await addProvider(
      h.runtime,
      request({
        deviceAuthorizationUrl: 'https://kaneo.example/api/auth/device/code',
        tokenUrl: 'https://kaneo.example/api/auth/device/token',
        encoding: 'json',
        clientSecretEnv: 'KANEO_SECRET',
      }),
    );
    expect(added.definition).toMatchObject({
      baseUrl: 'https://kaneo.example',
      encoding: 'json',
      clientSecretEnv: 'KANEO_SECRET',
    });
    expect(JSON.stringify(await storedFile(h.configDir))).not.toContain('secret-value');
  });

  it('refuses (exit 2, nothing stored): bad names, shadowing, unsafe URLs, no endpoints, a second add without --force', async () => {
    const h = await start({ providers: [fakeProvider({ id: 'acme' })] });
    const refusal = (over: Partial<AddProviderRequest>) =>
      addProvider(h.runtime, request(over)).catch((e: unknown) => e);
    const explicit = {
      deviceAuthorizationUrl: 'https://idp.example/device',
      tokenUrl: 'https://idp.example/token',
    };
    expect(await refusal({ name: 'Bad_Name', ...explicit })).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('Invalid provider name'),
    });
    expect(await refusal({ name: 'acme', ...explicit })).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('already a provider'),
    });
    expect(await refusal({ ...explicit, revocationUrl: 'http://idp.example/revoke' })).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('--revocation-url'),
    });
    expect(await refusal({ issuer: 'http://idp.example' })).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('--issuer'),
    });
    expect(await refusal({})).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('--issuer URL'),
    });
    expect(await refusal({ ...explicit, clientSecretEnv: 'not a var' })).toMatchObject({ exitCode: 2 });
    await expect(readFile(join(h.configDir, 'providers.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    await addProvider(h.runtime, request(explicit));
    expect(await refusal(explicit)).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('already configured'),
    });
    const replaced = await addProvider(h.runtime, request({ ...explicit, clientId: 'other', force: true }));
    expect(replaced).toMatchObject({ replaced: true, definition: { clientId: 'other' } });
  });

  it('a server without a device authorization endpoint cannot be added', async () => {
    const server = await metadataServer('/.well-known/openid-configuration', (issuer) => ({
      issuer,
      token_endpoint: `${issuer}/token`,
    }));
    const h = await start({});
    await expect(addProvider(h.runtime, request({ issuer: server.issuer }))).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('device authorization endpoint'),
    });
  });
});

describe('auth providers remove', () => {
  const explicit = {
    deviceAuthorizationUrl: 'https://idp.example/device',
    tokenUrl: 'https://idp.example/token',
  };

  it('refuses while accounts exist, naming them; --force logs them out and removes the definition', async () => {
    const h = await start({});
    await addProvider(h.runtime, request(explicit));
    await h.store.save({
      provider: 'corp-idp',
      account: 'alice',
      secret: 'at-0123456789abcdef',
      baseUrl: 'https://idp.example',
    });
    await expect(removeProvider(h.runtime, 'corp-idp', false)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('alice'),
    });
    expect(Object.keys((await storedFile(h.configDir)).providers)).toEqual(['corp-idp']);
    const removed = await removeProvider(h.runtime, 'corp-idp', true);
    expect(removed.loggedOut.map((r) => r.account)).toEqual(['alice']);
    expect(await h.store.list()).toEqual([]);
    expect((await storedFile(h.configDir)).providers).toEqual({});
  });

  it('an unknown name is exit 2, listing the configured ones', async () => {
    const h = await start({});
    await addProvider(h.runtime, request(explicit));
    await expect(removeProvider(h.runtime, 'nope', false)).rejects.toMatchObject({
      exitCode: 2,
      action: expect.stringContaining('corp-idp'),
    });
  });
});
