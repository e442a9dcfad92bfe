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
import { readFile, writeFile } from 'node:fs/promises';
import {
  CredentialStore,
  LOCK_WAIT_MS,
  updateProviderDefinitions,
  type ProviderDefinition,
} from '@latchkey/storage';
import { configuredManifest } from '../providers/configured-providers.js';
import { REFRESH_BACKOFF_MS, REFRESH_TIMEOUT_MS, refreshStored } from './refresh.js';
import { RefreshNeeded, resolveTokenFrom } from './token-lookup.js';
import { refresherWith } from './refresher.js';
import { LatchkeyError } from '@latchkey/errors';

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

/** A token endpoint that counts requests and answers rotated tokens (or `answer`; 'hang': never). */
function tokenEndpoint(
  answer?:
    { status: number; body: unknown; type?: string; headers?: Record<string, string> } | 'down' | 'hang',
) {
  const bodies: Array<Record<string, string>> = [];
  const headers: Array<Record<string, string>> = [];
  const fetch = (async (_url: URL | string, init: RequestInit = {}) => {
    bodies.push(Object.fromEntries(new URLSearchParams(String(init.body))));
    headers.push(Object.fromEntries(new Headers(init.headers).entries()));
    if (answer === 'down')
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    if (answer === 'hang') {
      return new Promise<Response>((_, reject) => {
        const signal = init.signal!;
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      });
    }
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
      headers: { 'content-type': reply.type ?? 'application/json', ...reply.headers },
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
    return resolveTokenFrom(
      providers,
      env,
      store,
      'idp',
      async () => providers.get('idp')!,
      { cwd: dir },
      refresherWith(env, async () => undefined),
    );
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

describe('one request per due token, whatever happens', () => {
  const indexText = () => readFile(join(dir, 'config', 'accounts.json'), 'utf8');
  const recorded = async () =>
    (JSON.parse(await indexText()) as { accounts: Array<Record<string, unknown>> }).accounts[0]!
      .refreshFailure as Record<string, unknown> | undefined;
  /** What a caller got: an error (or, on success, the credential, checked with toMatchObject). */
  type Failure = Error & { code: string; exitCode: number; action?: string };
  const attempt = (store: CredentialStore, fetch: typeof globalThis.fetch, at: number, timeoutMs?: number) =>
    store
      .get('idp', 'ada')
      .then((seen) =>
        refreshStored(store, seen!, env, { fetch, now: () => at, ...(timeoutMs && { timeoutMs }) }),
      )
      .then(
        (credential) => credential as unknown as Failure,
        (e: unknown) => e as Failure,
      );

  it('the waiters of the lock holder wait longer than its request may take, with room for a busy machine', () => {
    expect(REFRESH_TIMEOUT_MS + 10_000).toBeLessThanOrEqual(LOCK_WAIT_MS);
  });

  it('a 500: one request for 10 concurrent callers, all report the same error, recorded in the index without a secret', async () => {
    const store = await setup({ expiresInMs: -5_000, refreshToken: OLD_REFRESH });
    const server = tokenEndpoint({ status: 500, type: 'text/html', body: '<html>oops</html>' });
    const errors = await Promise.all(
      Array.from({ length: 10 }, () =>
        attempt(new CredentialStore({ configDir: store.configDir }), server.fetch, NOW),
      ),
    );
    expect(server.bodies).toHaveLength(1);
    expect(new Set(errors.map((e) => `${e.code} ${e.exitCode} ${e.message} ${e.action}`))).toEqual(
      new Set([
        'UNEXPECTED_RESPONSE 1 Unexpected response from idp.example: HTTP 500 with an HTML page. The server or a proxy in front of it is having trouble; try again in a minute.',
      ]),
    );
    expect(await recorded()).toEqual({
      at: new Date(NOW).toISOString(),
      retryAt: new Date(NOW + REFRESH_BACKOFF_MS).toISOString(),
      code: 'UNEXPECTED_RESPONSE',
      message: errors[0]!.message,
      action: errors[0]!.action,
      exitCode: 1,
      retryable: true,
    });
    expect(await indexText()).not.toContain(OLD_REFRESH);
    expect(await indexText()).not.toContain(OLD);
    // The token stays as it was, for the retry.
    expect(await store.get('idp', 'ada')).toMatchObject({ secret: OLD, refreshToken: OLD_REFRESH });
  });

  it('within the back-off nobody sends the refresh token again; after it, one process does, and success clears the record', async () => {
    const store = await setup({ expiresInMs: -5_000, refreshToken: OLD_REFRESH });
    const failing = tokenEndpoint({ status: 503, body: { error: 'temporarily_unavailable' } });
    await attempt(store, failing.fetch, NOW);
    expect(failing.bodies).toHaveLength(1);
    const later = await attempt(store, failing.fetch, NOW + REFRESH_BACKOFF_MS - 1);
    expect(later).toMatchObject({ code: 'UNEXPECTED_RESPONSE' });
    expect(failing.bodies).toHaveLength(1);
    const working = tokenEndpoint();
    const fresh = await attempt(store, working.fetch, NOW + REFRESH_BACKOFF_MS);
    expect(fresh).toMatchObject({ secret: 'at-new-1-0123456789abcdef' });
    expect(working.bodies).toEqual([
      { grant_type: 'refresh_token', refresh_token: OLD_REFRESH, client_id: 'latchkey-cli' },
    ]);
    expect(await recorded()).toBeUndefined();
  });

  it('invalid_grant is recorded for good: nobody sends that refresh token again, whenever', async () => {
    const store = await setup({ expiresInMs: -5_000, refreshToken: OLD_REFRESH });
    const server = tokenEndpoint({ status: 400, body: { error: 'invalid_grant' } });
    const first = await attempt(store, server.fetch, NOW);
    expect(first).toMatchObject({ code: 'SESSION_EXPIRED', exitCode: 4 });
    expect(await recorded()).not.toHaveProperty('retryAt');
    const dayLater = await attempt(store, server.fetch, NOW + 86_400_000);
    expect(dayLater).toMatchObject({
      code: 'SESSION_EXPIRED',
      exitCode: 4,
      message: first.message,
      action: 'Sign in again: latchkey auth login --provider idp',
    });
    expect(server.bodies).toHaveLength(1);
  });

  it("a 429's Retry-After sets the back-off, bounded to 5 minutes", async () => {
    const store = await setup({ expiresInMs: -5_000, refreshToken: OLD_REFRESH });
    const slowDown = tokenEndpoint({ status: 429, body: {}, headers: { 'retry-after': '120' } });
    await attempt(store, slowDown.fetch, NOW);
    expect(await recorded()).toMatchObject({
      code: 'RATE_LIMITED',
      retryAt: new Date(NOW + 120_000).toISOString(),
    });
    await attempt(store, slowDown.fetch, NOW + 119_000);
    expect(slowDown.bodies).toHaveLength(1);
    const wayLater = tokenEndpoint({ status: 429, body: {}, headers: { 'retry-after': '86400' } });
    await attempt(store, wayLater.fetch, NOW + 120_000);
    expect(wayLater.bodies).toHaveLength(1);
    expect(await recorded()).toMatchObject({ retryAt: new Date(NOW + 120_000 + 300_000).toISOString() });
  });

  it('a hanging endpoint: the holder waits out its request limit, one request, every caller reports the timeout', async () => {
    const store = await setup({ expiresInMs: -5_000, refreshToken: OLD_REFRESH });
    const server = tokenEndpoint('hang');
    const errors = await Promise.all(
      Array.from({ length: 5 }, () =>
        attempt(new CredentialStore({ configDir: store.configDir }), server.fetch, NOW, 300),
      ),
    );
    expect(server.bodies).toHaveLength(1);
    expect(new Set(errors.map((e) => `${e.code} ${e.message}`))).toEqual(
      new Set(['TIMEOUT idp.example did not answer within 0.3 s (1 try).']),
    );
    expect(await recorded()).toMatchObject({ code: 'TIMEOUT', exitCode: 1 });
  });

  it("the server's words are recorded redacted, one line, bounded: never a secret", async () => {
    const store = await setup({ expiresInMs: -5_000, refreshToken: OLD_REFRESH });
    const words = `refresh token ${OLD_REFRESH} is not allowed\u001b]52;c;aGk=\u0007 ${'x'.repeat(2_000)}`;
    const server = tokenEndpoint({
      status: 400,
      body: { error: 'invalid_scope', error_description: words },
    });
    const error = await attempt(store, server.fetch, NOW);
    // A 400 on a refresh: the refresh token is no longer good, whatever the error (issue 25 item 11).
    expect(error).toMatchObject({ code: 'SESSION_EXPIRED', exitCode: 4 });
    const failure = (await recorded())!;
    expect(String(failure.message).length).toBeLessThanOrEqual(500);
    // eslint-disable-next-line no-control-regex
    expect(String(failure.message)).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(await indexText()).not.toContain(OLD_REFRESH);
    expect(String(error.message)).not.toContain(OLD_REFRESH);
  });

  it('a failure recorded before the token was last refreshed (kept by an older latchkey) does not count', async () => {
    const store = await setup({ expiresInMs: -5_000, refreshToken: OLD_REFRESH });
    const path = join(dir, 'config', 'accounts.json');
    const index = JSON.parse(await readFile(path, 'utf8')) as { accounts: Array<Record<string, unknown>> };
    // For good (invalid_grant), but a second before the token was issued (createdAt): a new login since.
    index.accounts[0]!.refreshFailure = {
      at: new Date(Date.parse(String(index.accounts[0]!.createdAt)) - 1_000).toISOString(),
      code: 'SESSION_EXPIRED',
      message: 'idp.example no longer accepts the refresh token: invalid_grant.',
      exitCode: 4,
    };
    await writeFile(path, JSON.stringify(index), { mode: 0o600 });
    const working = tokenEndpoint();
    expect(await attempt(store, working.fetch, NOW)).toMatchObject({ secret: 'at-new-1-0123456789abcdef' });
    expect(working.bodies).toHaveLength(1);
  });
});

describe("a plugin's refresh() (no providers.json definition)", () => {
  it('is called under the lock with the stored tokens; its new tokens are stored, the old refresh token kept when not rotated', async () => {
    const store = await setup({ expiresInMs: 10_000, refreshToken: OLD_REFRESH, define: false });
    const stored = (await store.get('idp', 'ada'))!;
    const calls: Array<{ token: string; refreshToken: string }> = [];
    const renewed = await refreshStored(store, stored, env, {
      now: () => NOW,
      pluginRefresh: async (credential) => {
        calls.push(credential);
        return { token: 'at-plugin-new-0123456789', expiresAt: new Date(NOW + 3_600_000).toISOString() };
      },
    });
    expect(calls).toEqual([{ token: OLD, refreshToken: OLD_REFRESH }]);
    expect(renewed.secret).toBe('at-plugin-new-0123456789');
    const again = (await store.get('idp', 'ada'))!;
    expect(again.secret).toBe('at-plugin-new-0123456789');
    expect(again.refreshToken).toBe(OLD_REFRESH);
    expect(again.record).toMatchObject({
      refreshable: true,
      expiresAt: new Date(NOW + 3_600_000).toISOString(),
    });
  });

  it('a failure is recorded: the next caller within the back-off gets the same error without calling refresh()', async () => {
    const store = await setup({ expiresInMs: 10_000, refreshToken: OLD_REFRESH, define: false });
    let calls = 0;
    const pluginRefresh = async () => {
      calls += 1;
      throw new LatchkeyError({
        code: 'SESSION_EXPIRED',
        message: 'Acme no longer accepts the refresh token.',
        exitCode: 4,
      });
    };
    const first = await refreshStored(store, (await store.get('idp', 'ada'))!, env, {
      now: () => NOW,
      pluginRefresh,
    }).catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 'SESSION_EXPIRED', exitCode: 4 });
    const second = await refreshStored(store, (await store.get('idp', 'ada'))!, env, {
      now: () => NOW + REFRESH_BACKOFF_MS * 10,
      pluginRefresh,
    }).catch((e: unknown) => e);
    expect(second).toMatchObject({
      code: 'SESSION_EXPIRED',
      message: 'Acme no longer accepts the refresh token.',
    });
    expect(calls).toBe(1);
  });

  it("the token path hands a due token over when it has no refresher (the fast path); the full CLI uses the plugin's refresh()", async () => {
    const store = await setup({ expiresInMs: 10_000, refreshToken: OLD_REFRESH, define: false });
    const acme = {
      manifest: { ...configuredManifest('idp', definition()), title: 'Idp' },
      plugin: 'latchkey-plugin-idp',
    };
    const lookup = (refresher?: Parameters<typeof resolveTokenFrom>[6]) =>
      resolveTokenFrom(
        new Map([['idp', acme]]),
        env,
        store,
        'idp',
        async () => acme,
        { cwd: dir },
        refresher,
      );
    await expect(lookup()).rejects.toBeInstanceOf(RefreshNeeded);
    await expect(lookup(refresherWith(env, async () => undefined))).rejects.toMatchObject({
      code: 'TOKEN_EXPIRED',
      exitCode: 4,
    });
    const asked: Array<string | undefined> = [];
    const viaPlugin = refresherWith(env, async (id, baseUrl) => {
      asked.push(id, baseUrl);
      return async () => ({ token: 'at-via-plugin-0123456789' });
    });
    expect((await lookup(viaPlugin)).token).toBe('at-via-plugin-0123456789');
    expect(asked[0]).toBe('idp');
  });
});
