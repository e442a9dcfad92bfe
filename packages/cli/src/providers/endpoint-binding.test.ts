/**
 * A stored OAuth credential goes only to the endpoints that issued it: refresh, logout (revocation), status
 * (userinfo) and `auth providers add --force`, with fakes for the host and real endpoints on 127.0.0.1 that
 * count what they receive.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  definitionEndpoints,
  readProviderDefinitions,
  updateProviderDefinitions,
  type ProviderDefinition,
} from '@latchkey/storage';
import { fakeHosts } from '../testing/fake-host.js';
import { addProvider, describeAdded } from './configured-providers-edit.js';
import { logout } from '../auth/logout.js';
import { refreshStored } from '../token/refresh.js';
import { status } from '../status/status.js';

const start = fakeHosts();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

const ACCESS = 'at-bound-0123456789abcdef';
const REFRESH = 'rt-bound-0123456789abcdef';

/** An OAuth server on 127.0.0.1 answering token, revoke and userinfo requests, recording each path. */
async function oauthServer() {
  const received: string[] = [];
  const server = createServer((req, res) => {
    received.push(req.url ?? '');
    req.resume();
    req.on('end', () => {
      if (req.url === '/token') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            access_token: 'at-new-0123456789abcdef',
            refresh_token: 'rt-new-0123456789abcdef',
            expires_in: 3600,
          }),
        );
      } else if (req.url === '/me') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: 'ada' }));
      } else res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received };
}

function definitionAt(url: string, over: Partial<ProviderDefinition> = {}): ProviderDefinition {
  return {
    issuer: url,
    clientId: 'latchkey-cli',
    encoding: 'form',
    deviceAuthorizationUrl: `${url}/device`,
    tokenUrl: `${url}/token`,
    revocationUrl: `${url}/revoke`,
    userinfoUrl: `${url}/me`,
    baseUrl: url,
    addedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

async function define(configDir: string, definition: ProviderDefinition) {
  await updateProviderDefinitions(configDir, () => ({
    result: undefined,
    next: new Map([['corp-idp', definition]]),
  }));
}

/** Two servers; corp-idp defined at the first, an account signed in there (bound unless `bound: false`). */
async function signedIn(options: { bound?: boolean; expiresAt?: string } = {}) {
  const good = await oauthServer();
  const other = await oauthServer();
  const h = await start({});
  const definition = definitionAt(good.url);
  await define(h.configDir, definition);
  await h.store.save({
    provider: 'corp-idp',
    account: 'ada',
    secret: ACCESS,
    refreshToken: REFRESH,
    baseUrl: good.url,
    expiresAt: options.expiresAt ?? '2000-01-01T00:00:00.000Z',
    ...(options.bound !== false && { endpoints: definitionEndpoints(definition) }),
  });
  return { h, good, other, definition };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('refresh', () => {
  it.each(['tokenUrl', 'issuer'] as const)(
    'a providers.json with another %s: STORAGE_TAMPERED (exit 1) naming both, nothing sent or changed',
    async (field) => {
      const { h, good, other, definition } = await signedIn();
      await define(h.configDir, {
        ...definition,
        [field]: `${other.url}${field === 'tokenUrl' ? '/token' : ''}`,
      });
      const seen = (await h.store.get('corp-idp', 'ada'))!;
      const error = await failure(refreshStored(h.store, seen, h.runtime.env));
      expect(error).toMatchObject({ code: 'STORAGE_TAMPERED', exitCode: 1 });
      expect((error as Error).message).toContain(
        JSON.stringify(other.url + (field === 'tokenUrl' ? '/token' : '')),
      );
      expect((error as Error).message).toContain(JSON.stringify(definition[field]));
      expect((error as Error).message).not.toContain(REFRESH);
      expect([...good.received, ...other.received]).toEqual([]);
      expect(await h.store.get('corp-idp', 'ada')).toMatchObject({ secret: ACCESS, refreshToken: REFRESH });
    },
  );

  it('an unbound (older) credential refreshes at the definition of its base URL and is bound from then on', async () => {
    const { h, good, other, definition } = await signedIn({ bound: false });
    const seen = (await h.store.get('corp-idp', 'ada'))!;
    expect(seen.endpoints).toBeUndefined();
    await refreshStored(h.store, seen, h.runtime.env);
    expect(good.received).toEqual(['/token']);
    const after = (await h.store.get('corp-idp', 'ada'))!;
    expect(after.endpoints).toEqual(definitionEndpoints(definition));
    // Bound now: a rewritten token endpoint is refused.
    await define(h.configDir, { ...definition, tokenUrl: `${other.url}/token` });
    await h.store.renew('corp-idp', 'ada', async () => ({
      secret: 'at-due-0123456789abcdef',
      refreshToken: REFRESH,
      expiresAt: '2000-01-01T00:00:00.000Z',
    }));
    const again = (await h.store.get('corp-idp', 'ada'))!;
    expect(await failure(refreshStored(h.store, again, h.runtime.env))).toMatchObject({
      code: 'STORAGE_TAMPERED',
    });
    expect(other.received).toEqual([]);
  });

  it('an unbound credential with a definition of another base URL is STORAGE_TAMPERED, nothing sent', async () => {
    const { h, good, other } = await signedIn({ bound: false });
    await define(h.configDir, definitionAt(other.url));
    const seen = (await h.store.get('corp-idp', 'ada'))!;
    expect(await failure(refreshStored(h.store, seen, h.runtime.env))).toMatchObject({
      code: 'STORAGE_TAMPERED',
      message: expect.stringContaining('baseUrl'),
    });
    expect([...good.received, ...other.received]).toEqual([]);
  });
});

describe('logout', () => {
  it('a providers.json with another revocationUrl: STORAGE_TAMPERED, nothing revoked, nothing deleted', async () => {
    const { h, good, other, definition } = await signedIn();
    await define(h.configDir, { ...definition, revocationUrl: `${other.url}/revoke` });
    const error = await failure(logout(h.runtime, { provider: 'corp-idp', all: true }));
    expect(error).toMatchObject({ code: 'STORAGE_TAMPERED', exitCode: 1 });
    expect((error as Error).message).toContain(`${other.url}/revoke`);
    expect((error as Error).message).toContain(`${good.url}/revoke`);
    expect([...good.received, ...other.received]).toEqual([]);
    expect((await h.store.list()).map((r) => r.account)).toEqual(['ada']);
  });

  it('with the bound endpoints it revokes both tokens there and deletes', async () => {
    const { h, good, other } = await signedIn();
    const outcome = await logout(h.runtime, { provider: 'corp-idp', all: true });
    expect(outcome.removed).toMatchObject([{ account: 'ada', revoked: true }]);
    expect(good.received).toEqual(['/revoke', '/revoke']);
    expect(other.received).toEqual([]);
    expect(await h.store.list()).toEqual([]);
  });
});

describe('status', () => {
  it('a providers.json with another userinfoUrl: the account shows STORAGE_TAMPERED, nothing sent', async () => {
    const { h, good, other, definition } = await signedIn({ expiresAt: '2099-01-01T00:00:00.000Z' });
    await define(h.configDir, { ...definition, userinfoUrl: `${other.url}/me` });
    const [entry] = await status(h.runtime, 'corp-idp');
    expect(entry).toMatchObject({ validity: 'error', error: { code: 'STORAGE_TAMPERED' } });
    expect([...good.received, ...other.received]).toEqual([]);
  });
});

describe('auth providers add --force', () => {
  it('with new endpoints: the accounts are logged out first, revoked at the old endpoints', async () => {
    const { h, good, other } = await signedIn();
    const added = await addProvider(h.runtime, {
      name: 'corp-idp',
      clientId: 'latchkey-cli',
      scopes: [],
      encoding: 'form',
      deviceAuthorizationUrl: `${other.url}/device`,
      tokenUrl: `${other.url}/token`,
      revocationUrl: `${other.url}/revoke`,
      force: true,
    });
    expect(good.received).toEqual(['/revoke', '/revoke']);
    expect(other.received).toEqual([]);
    expect(await h.store.list()).toEqual([]);
    expect((await readProviderDefinitions(h.configDir)).get('corp-idp')?.tokenUrl).toBe(`${other.url}/token`);
    expect(describeAdded(added)).toEqual([
      '✓ Logged out of corp-idp (ada)',
      '  The credential was revoked on the server.',
      `✓ Replaced provider corp-idp (${other.url}): sign in with latchkey auth login --provider corp-idp`,
      '  It signs in with a device code (--device).',
    ]);
  });

  it('with the same endpoints (another client id): the accounts stay', async () => {
    const { h, good, definition } = await signedIn();
    const added = await addProvider(h.runtime, {
      name: 'corp-idp',
      issuer: good.url,
      clientId: 'other-client',
      scopes: [],
      encoding: 'form',
      deviceAuthorizationUrl: definition.deviceAuthorizationUrl,
      tokenUrl: definition.tokenUrl,
      revocationUrl: definition.revocationUrl!,
      userinfoUrl: definition.userinfoUrl!,
      force: true,
    });
    expect(added).toMatchObject({ replaced: true, loggedOut: [], definition: { clientId: 'other-client' } });
    expect((await h.store.list()).map((r) => r.account)).toEqual(['ada']);
    expect(good.received.filter((p) => p === '/revoke')).toEqual([]);
  });
});
