/**
 * Refresh on the token path, with a real file store in a temp directory and a scripted token endpoint
 * (an injected fetch, or a real server on 127.0.0.1 where the lookup builds its own client).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialStore, updateProviderDefinitions, type ProviderDefinition } from '@latchkey/storage';
import { configuredManifest } from './configured-providers.js';
import { refreshStored } from './refresh.js';
import { resolveTokenFrom } from './token-lookup.js';

let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-refresh-'));
  env = { LATCHKEY_CONFIG_DIR: join(dir, 'config') };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const NOW = Date.parse('2026-12-02T00:00:00Z');
const OLD = 'at-old-0123456789abcdef';
const OLD_REFRESH = 'rt-old-0123456789abcdef';

function definition(
  tokenUrl = 'https://idp.example/token',
  extra: Partial<ProviderDefinition> = {},
): ProviderDefinition {
  return {
    clientId: 'latchkey-cli',
    encoding: 'form',
    deviceAuthorizationUrl: 'https://idp.example/device',
    tokenUrl,
    baseUrl: 'https://idp.example',
    addedAt: '2026-12-01T00:00:00.000Z',
    ...extra,
  };
}

async function setup(options: {
  expiresInMs: number;
  refreshToken?: string;
  tokenUrl?: string;
  define?: boolean;
  extra?: Partial<ProviderDefinition>;
}) {
  const configDir = join(dir, 'config');
  if (options.define !== false) {
    await updateProviderDefinitions(configDir, () => ({
      result: undefined,
      next: new Map([['idp', definition(options.tokenUrl, options.extra)]]),
    }));
  }
  // Stored an hour before NOW (a token's lifetime counts from then); refreshes are stamped NOW.
  let storeNow = NOW - 3_600_000;
  const store = new CredentialStore({ configDir, preference: 'file', now: () => storeNow });
  await store.save({
    provider: 'idp',
    account: 'ada',
    secret: OLD,
    baseUrl: 'https://idp.example',
    expiresAt: new Date(NOW + options.expiresInMs).toISOString(),
    ...(options.refreshToken !== undefined && { refreshToken: options.refreshToken }),
  });
  storeNow = NOW;
  return store;
}

/** A token endpoint that counts requests and answers rotated tokens (or `answer`). */
function tokenEndpoint(answer?: { status: number; body: unknown; type?: string } | 'down') {
  const bodies: Array<Record<string, string>> = [];
  const headers: Array<Record<string, string>> = [];
  const fetch = (async (_url: URL | string, init: RequestInit = {}) => {
    bodies.push(Object.fromEntries(new URLSearchParams(String(init.body))));
    headers.push(Object.fromEntries(new Headers(init.headers).entries()));
    if (answer === 'down')
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const n = bodies.length;
    const reply = answer ?? {
      status: 200,
      body: {
        access_token: `at-new-${n}-0123456789abcdef`,
        refresh_token: `rt-new-${n}-0123456789abcdef`,
        expires_in: 3600,
      },
    };
    return new Response(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'content-type': reply.type ?? 'application/json' },
    });
  }) as typeof globalThis.fetch;
  return { fetch, bodies, headers };
}

describe('refreshStored', () => {
  it('a due token: one refresh_token grant, the new token and the rotated refresh token stored with the new expiry', async () => {
    const store = await setup({ expiresInMs: 30_000, refreshToken: OLD_REFRESH });
    const server = tokenEndpoint();
    const seen = (await store.get('idp', 'ada'))!;
    const fresh = await refreshStored(store, seen, env, { fetch: server.fetch, now: () => NOW });
    expect(fresh.secret).toBe('at-new-1-0123456789abcdef');
    expect(server.bodies).toEqual([
      { grant_type: 'refresh_token', refresh_token: OLD_REFRESH, client_id: 'latchkey-cli' },
    ]);
    expect(await store.get('idp', 'ada')).toMatchObject({
      secret: 'at-new-1-0123456789abcdef',
      refreshToken: 'rt-new-1-0123456789abcdef',
      record: { expiresAt: new Date(NOW + 3_600_000).toISOString(), refreshable: true },
    });
  });

  it('20 concurrent callers at expiry make exactly one refresh request and all get the new token', async () => {
    const store = await setup({ expiresInMs: -5_000, refreshToken: OLD_REFRESH });
    const server = tokenEndpoint();
    const seen = (await store.get('idp', 'ada'))!;
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        refreshStored(new CredentialStore({ configDir: store.configDir }), seen, env, {
          fetch: server.fetch,
          now: () => NOW,
        }),
      ),
    );
    expect(server.bodies).toHaveLength(1);
    expect(new Set(results.map((r) => r.secret))).toEqual(new Set(['at-new-1-0123456789abcdef']));
  });

  it('a server whose tokens live under a minute: a caller that waited on another refresh uses its token', async () => {
    const store = await setup({ expiresInMs: -5_000, refreshToken: OLD_REFRESH });
    const short = tokenEndpoint({
      status: 200,
      body: {
        access_token: 'at-short-0123456789abcdef',
        refresh_token: 'rt-short-0123456789abcdef',
        expires_in: 3,
      },
    });
    const seen = (await store.get('idp', 'ada'))!;
    const results = await Promise.all(
      [1, 2, 3].map(() => refreshStored(store, seen, env, { fetch: short.fetch, now: () => NOW })),
    );
    expect(short.bodies).toHaveLength(1);
    expect(results.map((r) => r.secret)).toEqual(Array(3).fill('at-short-0123456789abcdef'));
  });

  it('invalid_grant (whatever the status and content type) is exit 4 "sign in again"; the stored token stays', async () => {
    const store = await setup({ expiresInMs: -1_000, refreshToken: OLD_REFRESH });
    const server = tokenEndpoint({ status: 401, type: 'text/plain', body: '{"error":"invalid_grant"}' });
    const error = await refreshStored(store, (await store.get('idp', 'ada'))!, env, {
      fetch: server.fetch,
      now: () => NOW,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'SESSION_EXPIRED',
      exitCode: 4,
      action: 'Sign in again: latchkey auth login --provider idp',
    });
    expect((await store.get('idp', 'ada'))!.secret).toBe(OLD);
  });

  it('the token server unreachable: exit 1 naming the server, never the expired token', async () => {
    const store = await setup({ expiresInMs: -1_000, refreshToken: OLD_REFRESH });
    const error = await refreshStored(store, (await store.get('idp', 'ada'))!, env, {
      fetch: tokenEndpoint('down').fetch,
      now: () => NOW,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ exitCode: 1 });
    expect(String((error as Error).message)).toContain('idp.example');
    expect(String((error as Error).message)).not.toContain(OLD);
  });

  it('expired without a refresh token, or with the definition removed: TOKEN_EXPIRED, exit 4', async () => {
    const store = await setup({ expiresInMs: -1_000 });
    const server = tokenEndpoint();
    await expect(
      refreshStored(store, (await store.get('idp', 'ada'))!, env, { fetch: server.fetch, now: () => NOW }),
    ).rejects.toMatchObject({
      code: 'TOKEN_EXPIRED',
      exitCode: 4,
    });
    await rm(dir, { recursive: true, force: true });
    const orphan = await setup({ expiresInMs: -1_000, refreshToken: OLD_REFRESH, define: false });
    await expect(
      refreshStored(orphan, (await orphan.get('idp', 'ada'))!, env, { fetch: server.fetch, now: () => NOW }),
    ).rejects.toMatchObject({
      code: 'TOKEN_EXPIRED',
      message: expect.stringContaining('no longer configured'),
    });
    expect(server.bodies).toEqual([]);
  });

  it('a confidential client refreshes with HTTP Basic from its variable; unset, it is exit 2 before any request', async () => {
    const store = await setup({
      expiresInMs: -1_000,
      refreshToken: OLD_REFRESH,
      extra: { clientSecretEnv: 'IDP_SECRET' },
    });
    const server = tokenEndpoint();
    const seen = (await store.get('idp', 'ada'))!;
    await expect(
      refreshStored(store, seen, env, { fetch: server.fetch, now: () => NOW }),
    ).rejects.toMatchObject({ exitCode: 2 });
    expect(server.bodies).toEqual([]);
    await refreshStored(
      store,
      seen,
      { ...env, IDP_SECRET: 'client-secret-0123456789' },
      { fetch: server.fetch, now: () => NOW },
    );
    expect(server.headers[0]!.authorization).toBe(
      `Basic ${Buffer.from('latchkey-cli:client-secret-0123456789').toString('base64')}`,
    );
  });
});

describe('the token lookup', () => {
  async function liveServer() {
    let count = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        count++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            access_token: `at-live-${count}-0123456789abcdef`,
            refresh_token: `rt-live-${count}-0123456789abcdef`,
            expires_in: 600,
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
      count: () => count,
      close: () => new Promise((resolve) => server.close(resolve)),
    };
  }

  const lookup = (store: CredentialStore) => {
    const providers = new Map([
      ['idp', { manifest: configuredManifest('idp', definition()), plugin: 'configured' }],
    ]);
    return resolveTokenFrom(providers, env, store, 'idp', async () => providers.get('idp')!, { cwd: dir });
  };

  it('prints a token with more than a minute left as it is, without a request', async () => {
    const server = await liveServer();
    try {
      const store = await setup({
        expiresInMs: Date.now() - NOW + 10 * 60_000,
        refreshToken: OLD_REFRESH,
        tokenUrl: server.url,
      });
      expect((await lookup(store)).token).toBe(OLD);
      expect(server.count()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('refreshes a token with under a minute left and returns the new one', async () => {
    const server = await liveServer();
    try {
      const store = await setup({
        expiresInMs: Date.now() - NOW + 20_000,
        refreshToken: OLD_REFRESH,
        tokenUrl: server.url,
      });
      expect((await lookup(store)).token).toBe('at-live-1-0123456789abcdef');
      expect(server.count()).toBe(1);
      expect((await lookup(store)).token).toBe('at-live-1-0123456789abcdef');
      expect(server.count()).toBe(1);
    } finally {
      await server.close();
    }
  });
});
