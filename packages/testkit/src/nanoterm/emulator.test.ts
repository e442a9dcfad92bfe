import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '@latchkey/conformance/tools';
import {
  startNanoTermEmulator,
  type NanoTermEmulator,
  type NanoTermEmulatorOptions,
  type NanoTermKeyInfo,
  type NanoTermPermission,
} from './emulator.js';

interface Envelope {
  error: { code: string; message: string; action: string; retryable: boolean; docs: string };
}

let emulator: NanoTermEmulator | undefined;
let clock: FakeClock;

async function start(options: NanoTermEmulatorOptions = {}): Promise<NanoTermEmulator> {
  clock = createFakeClock(1_700_000_000_000);
  emulator = await startNanoTermEmulator({ clock, ...options });
  return emulator;
}

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function call(
  path: string,
  init: { method?: string; key?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key !== undefined) headers.authorization = `Bearer ${init.key}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${emulator!.url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    body:
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : JSON.stringify(init.body),
  });
}

/** Checks the documented envelope (all five fields, nothing else) and returns it. */
async function expectEnvelope(res: Response, status: number, code: string): Promise<Envelope['error']> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/json');
  const body = (await res.json()) as Envelope;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['action', 'code', 'docs', 'message', 'retryable']);
  expect(body.error.code).toBe(code);
  expect(body.error.message).toEqual(expect.any(String));
  expect(body.error.message).not.toBe('');
  expect(body.error.action).toEqual(expect.any(String));
  expect(body.error.action).not.toBe('');
  expect(typeof body.error.retryable).toBe('boolean');
  expect(body.error.docs).toBe(`https://docs.nanoterm.dev/errors/${code}`);
  return body.error;
}

function keyOf(
  permission: NanoTermPermission,
  extra: Parameters<NanoTermEmulator['createKey']>[0] = {},
): string {
  return emulator!.createKey({ permission, ...extra }).key;
}

describe('NanoTerm emulator: keys', () => {
  it('creates nt_live_ keys with a 12-character prefix and lists metadata without the key', async () => {
    await start({ keys: [{ name: 'ci', permission: 'read' }] });
    const { key, info } = emulator!.createKey({ name: 'admin' });
    expect(key).toMatch(/^nt_live_[0-9A-Za-z]{32}$/);
    expect(info).toEqual({
      id: expect.stringMatching(/^key_/),
      name: 'admin',
      prefix: key.slice(0, 12),
      permission: 'full',
      createdAt: '2023-11-14T22:13:20.000Z',
      expiresAt: null,
      revokedAt: null,
    });
    expect(emulator!.keys().map((k) => k.name)).toEqual(['ci', 'admin']);
    expect(JSON.stringify(emulator!.keys())).not.toContain(key);
    expect(() => emulator!.createKey({ key: 'sk-nope' })).toThrow(/nt_/);
    expect(() => emulator!.createKey({ key })).toThrow(/exists/);
    emulator!.revokeKey(info.id);
    expect(emulator!.keys()[1]!.revokedAt).toBe('2023-11-14T22:13:20.000Z');
    expect(() => emulator!.revokeKey('nt_unknown')).toThrow(/unknown/);
  });
});

describe('NanoTerm emulator: GET /api/workspaces', () => {
  it.each(['full', 'execute', 'read'] as const)('answers 200 for a %s key', async (permission) => {
    await start();
    const res = await call('/api/workspaces', { key: keyOf(permission) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { workspaces: Array<{ id: string; name: string; slug: string }> };
    expect(body.workspaces.length).toBeGreaterThan(0);
    for (const ws of body.workspaces)
      expect(ws).toMatchObject({
        id: expect.any(String),
        name: expect.any(String),
        slug: expect.any(String),
      });
  });

  it('401 UNAUTHORIZED without a key, with an unknown key, a non-nt_ key or a non-Bearer scheme', async () => {
    await start();
    const key = keyOf('full');
    const missing = await expectEnvelope(await call('/api/workspaces'), 401, 'UNAUTHORIZED');
    expect(missing.retryable).toBe(false);
    expect(missing.action).toContain('Authorization');
    await expectEnvelope(await call('/api/workspaces', { key: 'nt_live_doesnotexist' }), 401, 'UNAUTHORIZED');
    await expectEnvelope(await call('/api/workspaces', { key: 'sk-other' }), 401, 'UNAUTHORIZED');
    await expectEnvelope(
      await call('/api/workspaces', { headers: { authorization: `Token ${key}` } }),
      401,
      'UNAUTHORIZED',
    );
    // x-api-key is not a NanoTerm header.
    await expectEnvelope(
      await call('/api/workspaces', { headers: { 'x-api-key': key } }),
      401,
      'UNAUTHORIZED',
    );
  });

  it('refuses ?token= on plain HTTP (401, pointing at the Authorization header); a header key still works', async () => {
    await start();
    const key = keyOf('full');
    const error = await expectEnvelope(
      await call(`/api/workspaces?token=${encodeURIComponent(key)}`),
      401,
      'UNAUTHORIZED',
    );
    expect(error.action).toContain('Authorization header');
    expect(error.message).toContain('?token=');
    // Ignored, not an error, when the header is there too.
    expect((await call('/api/workspaces?token=nt_live_bogus', { key })).status).toBe(200);
  });

  it('401 for an expired key (by the clock) and a revoked key', async () => {
    await start({ keys: [{ key: 'nt_live_revokedrevokedrevoked', revoked: true }] });
    const expiring = keyOf('read', { expiresAt: new Date(clock.now() + 60_000).toISOString() });
    expect((await call('/api/workspaces', { key: expiring })).status).toBe(200);
    clock.advance(60_000);
    const expired = await expectEnvelope(
      await call('/api/workspaces', { key: expiring }),
      401,
      'UNAUTHORIZED',
    );
    expect(expired.message).toContain('expired');

    const revoked = await expectEnvelope(
      await call('/api/workspaces', { key: 'nt_live_revokedrevokedrevoked' }),
      401,
      'UNAUTHORIZED',
    );
    expect(revoked.message).toContain('revoked');

    const live = emulator!.createKey();
    expect((await call('/api/workspaces', { key: live.key })).status).toBe(200);
    emulator!.revokeKey(live.key);
    await expectEnvelope(await call('/api/workspaces', { key: live.key }), 401, 'UNAUTHORIZED');
  });

  it('404 NOT_FOUND for unknown routes and methods, after auth', async () => {
    await start();
    const key = keyOf('full');
    await expectEnvelope(await call('/api/nope', { key }), 404, 'NOT_FOUND');
    await expectEnvelope(await call('/api/workspaces', { method: 'PUT', key }), 404, 'NOT_FOUND');
    await expectEnvelope(await call('/api/nope'), 401, 'UNAUTHORIZED');
  });
});

describe('NanoTerm emulator: /api/keys', () => {
  it("keyListShape: 'array' lists the keys as a bare array", async () => {
    await start({ keyListShape: 'array' });
    const full = emulator!.createKey({ name: 'admin' });
    const res = await call('/api/keys', { key: full.key });
    expect(await res.json()).toEqual([full.info]);
  });

  it.each(['...', '…'] as const)(
    "prefixEllipsis '%s': the routes show the display prefix with it; keys() keeps the bare one",
    async (prefixEllipsis) => {
      await start({ prefixEllipsis });
      const full = emulator!.createKey({ name: 'admin' });
      const shown = { ...full.info, prefix: `${full.key.slice(0, 12)}${prefixEllipsis}` };
      expect(full.info.prefix).toBe(full.key.slice(0, 12));
      const listed = await call('/api/keys', { key: full.key });
      expect(await listed.json()).toEqual({ keys: [shown] });
      const one = await call(`/api/keys/${full.info.id}`, { key: full.key });
      expect(await one.json()).toEqual(shown);
      expect(emulator!.keys()[0]!.prefix).toBe(full.key.slice(0, 12));
    },
  );

  it('a plain status fault answers without the envelope (as a proxy in front would)', async () => {
    await start();
    emulator!.faults.add({
      route: 'workspaces',
      kind: 'status',
      status: 429,
      body: 'slow down',
      headers: { 'retry-after': '30' },
    });
    const res = await call('/api/workspaces', { key: keyOf('full') });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(await res.text()).toBe('slow down');
  });

  it('GET lists metadata for a full key; 403 FORBIDDEN for execute and read keys', async () => {
    await start();
    const full = emulator!.createKey({ name: 'admin' });
    const res = await call('/api/keys', { key: full.key });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(full.key);
    expect(JSON.parse(text)).toEqual({ keys: [full.info] });

    for (const permission of ['execute', 'read'] as const) {
      const error = await expectEnvelope(
        await call('/api/keys', { key: keyOf(permission) }),
        403,
        'FORBIDDEN',
      );
      expect(error.message).toContain(permission);
      expect(error.action).toContain("'full'");
      expect(error.retryable).toBe(false);
    }
  });

  it('POST creates a key (201, full key once) that then works; 403 without full', async () => {
    await start();
    const admin = keyOf('full');
    const expiresAt = new Date(clock.now() + 86_400_000).toISOString();
    const res = await call('/api/keys', {
      method: 'POST',
      key: admin,
      body: { name: 'deploy', permission: 'execute', expiresAt },
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as NanoTermKeyInfo & { key: string };
    expect(created).toEqual({
      key: expect.stringMatching(/^nt_live_[0-9A-Za-z]{32}$/),
      id: expect.stringMatching(/^key_/),
      name: 'deploy',
      prefix: created.key.slice(0, 12),
      permission: 'execute',
      createdAt: new Date(clock.now()).toISOString(),
      expiresAt,
      revokedAt: null,
    });
    expect((await call('/api/workspaces', { key: created.key })).status).toBe(200);
    await expectEnvelope(
      await call('/api/keys', { method: 'POST', key: created.key, body: { name: 'x', permission: 'read' } }),
      403,
      'FORBIDDEN',
    );
  });

  it('POST: 400 VALIDATION_FAILED for bad input, 409 CONFLICT for a duplicate active name', async () => {
    await start();
    const admin = keyOf('full');
    const bad: unknown[] = [
      'not json',
      [],
      {},
      { name: '', permission: 'read' },
      { name: 'x'.repeat(101), permission: 'read' },
      { name: 'a', permission: 'admin' },
      { name: 'a' },
      { name: 'a', permission: 'read', expiresAt: 'tomorrow' },
      { name: 'a', permission: 'read', expiresAt: new Date(clock.now() - 1).toISOString() },
    ];
    for (const body of bad) {
      const error = await expectEnvelope(
        await call('/api/keys', { method: 'POST', key: admin, body }),
        400,
        'VALIDATION_FAILED',
      );
      expect(error.retryable).toBe(false);
    }
    expect(
      (await call('/api/keys', { method: 'POST', key: admin, body: { name: 'ci', permission: 'read' } }))
        .status,
    ).toBe(201);
    await expectEnvelope(
      await call('/api/keys', { method: 'POST', key: admin, body: { name: 'ci', permission: 'read' } }),
      409,
      'CONFLICT',
    );
  });

  it('DELETE /api/keys/:id revokes (200 with metadata), then the key gets 401; unknown id 404; GET :id', async () => {
    await start();
    const admin = keyOf('full');
    const victim = emulator!.createKey({ permission: 'read', name: 'victim' });
    const got = await call(`/api/keys/${victim.info.id}`, { key: admin });
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual(victim.info);

    clock.advance(5_000);
    const res = await call(`/api/keys/${victim.info.id}`, { method: 'DELETE', key: admin });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ...victim.info, revokedAt: new Date(clock.now()).toISOString() });
    await expectEnvelope(await call('/api/workspaces', { key: victim.key }), 401, 'UNAUTHORIZED');
    // Twice is harmless.
    expect((await call(`/api/keys/${victim.info.id}`, { method: 'DELETE', key: admin })).status).toBe(200);

    const missing = await expectEnvelope(
      await call('/api/keys/key_nope', { method: 'DELETE', key: admin }),
      404,
      'NOT_FOUND',
    );
    expect(missing.message).toContain('key_nope');
    await expectEnvelope(
      await call(`/api/keys/${victim.info.id}`, { method: 'DELETE', key: keyOf('execute') }),
      403,
      'FORBIDDEN',
    );
  });
});

describe('NanoTerm emulator: 426 gate', () => {
  it('gates nanoterm-cli below the minimum on every route, before auth; newer and other clients pass', async () => {
    await start({ minCliVersion: '2.1.0' });
    const key = keyOf('full');
    const cli = (version?: string) => ({
      'x-client-name': 'nanoterm-cli',
      ...(version === undefined ? {} : { 'x-client-version': version }),
    });
    for (const path of ['/api/workspaces', '/api/keys', '/api/nope']) {
      const res = await call(path, { key, headers: cli('2.0.9') });
      const error = await expectEnvelope(res, 426, 'CLI_VERSION_TOO_OLD');
      expect(error.message).toBe('CLI 2.0.9 is below the minimum required version (2.1.0).');
      expect(error.action).toBe('Run: npm install -g @nanoterm/cli@latest');
      expect(error.retryable).toBe(false);
    }
    // Without a key too: the gate comes first.
    await expectEnvelope(
      await call('/api/workspaces', { headers: cli('1.0.0') }),
      426,
      'CLI_VERSION_TOO_OLD',
    );
    await expectEnvelope(
      await call('/api/workspaces', { key, headers: cli('2.1.0-beta.1') }),
      426,
      'CLI_VERSION_TOO_OLD',
    );
    await expectEnvelope(await call('/api/workspaces', { key, headers: cli() }), 426, 'CLI_VERSION_TOO_OLD');
    await expectEnvelope(
      await call('/api/workspaces', { key, headers: cli('garbage') }),
      426,
      'CLI_VERSION_TOO_OLD',
    );

    for (const version of ['2.1.0', '2.10.0', '3.0.0', 'v2.1.1']) {
      expect((await call('/api/workspaces', { key, headers: cli(version) })).status).toBe(200);
    }
    for (const name of ['latchkey', 'nanoterm-sdk', 'NanoTerm-CLI']) {
      const res = await call('/api/workspaces', {
        key,
        headers: { 'x-client-name': name, 'x-client-version': '0.0.1' },
      });
      expect(res.status).toBe(200);
    }
  });

  it('defaults the minimum to 2.0.0', async () => {
    await start();
    const key = keyOf('read');
    const headers = (v: string) => ({ 'x-client-name': 'nanoterm-cli', 'x-client-version': v });
    expect((await call('/api/workspaces', { key, headers: headers('1.9.9') })).status).toBe(426);
    expect((await call('/api/workspaces', { key, headers: headers('2.0.0') })).status).toBe(200);
  });

  it('rejects an invalid minCliVersion', async () => {
    await expect(startNanoTermEmulator({ minCliVersion: 'two' })).rejects.toThrow(/semver/);
  });
});

describe('NanoTerm emulator: rate limits', () => {
  it('free: 60 per window, then 429 RATE_LIMITED with Retry-After by the clock', async () => {
    await start();
    const key = keyOf('read');
    for (let i = 0; i < 30; i++) expect((await call('/api/workspaces', { key })).status).toBe(200);
    clock.advance(17_000);
    for (let i = 0; i < 30; i++) expect((await call('/api/workspaces', { key })).status).toBe(200);
    clock.advance(26_000); // 43 s after the first 30 requests
    const res = await call('/api/workspaces', { key });
    expect(res.headers.get('retry-after')).toBe('17');
    const error = await expectEnvelope(res, 429, 'RATE_LIMITED');
    expect(error).toMatchObject({
      message: 'Rate limit exceeded. Slow down requests or upgrade your plan.',
      retryable: true,
    });
    expect(error.action).toBe(
      'Retry after 17s, or upgrade to Developer for 600/min at https://nanoterm.dev/pricing',
    );
    // Another key has its own budget.
    expect((await call('/api/workspaces', { key: keyOf('read') })).status).toBe(200);
    clock.advance(16_999);
    expect((await call('/api/workspaces', { key })).headers.get('retry-after')).toBe('1');
    clock.advance(1);
    expect((await call('/api/workspaces', { key })).status).toBe(200);
  });

  it('follows the key plan and the configured window', async () => {
    await start({ rateLimits: { windowMs: 1_000 } });
    const dev = keyOf('full', { plan: 'developer' });
    const results = await Promise.all(
      Array.from({ length: 601 }, () => call('/api/workspaces', { key: dev })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(600);
    const limited = results.find((r) => r.status === 429)!;
    expect(limited.headers.get('retry-after')).toBe('1');
    expect((await expectEnvelope(limited, 429, 'RATE_LIMITED')).action).toContain(
      'upgrade to Team for 3,000/min',
    );
    clock.advance(1_000);
    expect((await call('/api/workspaces', { key: dev })).status).toBe(200);
  });

  it('can be turned off', async () => {
    await start({ rateLimits: false });
    const key = keyOf('read');
    const results = await Promise.all(Array.from({ length: 80 }, () => call('/api/workspaces', { key })));
    expect(results.every((r) => r.status === 200)).toBe(true);
  });
});

describe('NanoTerm emulator: request log', () => {
  it('records time, method, path, route, lower-cased headers (Authorization as-is) and status', async () => {
    await start();
    const key = keyOf('full');
    await call('/api/workspaces?x=1', { key, headers: { 'X-Client-Name': 'latchkey' } });
    clock.advance(1_000);
    await call('/api/keys/key_nope', { method: 'DELETE', key });
    await call('/api/keys', { key: keyOf('read') });
    await call('/elsewhere');
    expect(
      emulator!.requests.map(({ at, method, path, route, status }) => ({ at, method, path, route, status })),
    ).toEqual([
      { at: 1_700_000_000_000, method: 'GET', path: '/api/workspaces?x=1', route: 'workspaces', status: 200 },
      { at: 1_700_000_001_000, method: 'DELETE', path: '/api/keys/key_nope', route: 'key', status: 404 },
      { at: 1_700_000_001_000, method: 'GET', path: '/api/keys', route: 'keys', status: 403 },
      { at: 1_700_000_001_000, method: 'GET', path: '/elsewhere', route: 'other', status: 401 },
    ]);
    expect(emulator!.requests[0]!.headers).toMatchObject({
      authorization: `Bearer ${key}`,
      'x-client-name': 'latchkey',
    });
  });
});

describe('NanoTerm emulator: faults', () => {
  it('envelope: answers the given envelope before auth, with defaults by code and extra headers', async () => {
    await start();
    emulator!.faults.add({ route: 'workspaces', kind: 'envelope', status: 503, code: 'RUNTIME_UNAVAILABLE' });
    const error = await expectEnvelope(await call('/api/workspaces'), 503, 'RUNTIME_UNAVAILABLE');
    expect(error.retryable).toBe(true);

    emulator!.faults.add({
      route: '*',
      kind: 'envelope',
      status: 429,
      code: 'QUOTA_EXCEEDED',
      message: 'Workspace quota hit.',
      action: 'Delete a workspace.',
      retryable: false,
      headers: { 'x-extra': 'yes' },
    });
    const res = await call('/api/keys');
    expect(res.headers.get('x-extra')).toBe('yes');
    expect(await expectEnvelope(res, 429, 'QUOTA_EXCEEDED')).toEqual({
      code: 'QUOTA_EXCEEDED',
      message: 'Workspace quota hit.',
      action: 'Delete a workspace.',
      retryable: false,
      docs: 'https://docs.nanoterm.dev/errors/QUOTA_EXCEEDED',
    });

    emulator!.faults.add({
      route: 'workspaces',
      kind: 'envelope',
      status: 429,
      code: 'RATE_LIMITED',
      headers: { 'Retry-After': '3' },
    });
    const limited = await call('/api/workspaces');
    expect(limited.headers.get('retry-after')).toBe('3');
    expect((await expectEnvelope(limited, 429, 'RATE_LIMITED')).action).toContain('Retry after 3s');
    emulator!.faults.add({ route: 'workspaces', kind: 'envelope', status: 429, code: 'RATE_LIMITED' });
    expect((await call('/api/workspaces')).headers.get('retry-after')).toBe('1');

    emulator!.faults.add({ route: 'workspaces', kind: 'envelope', status: 426, code: 'CLI_VERSION_TOO_OLD' });
    await expectEnvelope(await call('/api/workspaces'), 426, 'CLI_VERSION_TOO_OLD');
    emulator!.faults.add({ route: 'workspaces', kind: 'envelope', status: 500, code: 'INTERNAL_ERROR' });
    expect((await expectEnvelope(await call('/api/workspaces'), 500, 'INTERNAL_ERROR')).retryable).toBe(true);
    emulator!.faults.add({ route: 'workspaces', kind: 'envelope', status: 501, code: 'NOT_SUPPORTED' });
    await expectEnvelope(await call('/api/workspaces'), 501, 'NOT_SUPPORTED');
  });

  it('html: answers a CDN-style HTML error page', async () => {
    await start();
    emulator!.faults.add({ route: 'workspaces', kind: 'html', status: 502 });
    const res = await call('/api/workspaces', { key: keyOf('full') });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('502 Bad Gateway');
  });

  it('empty: answers an empty body', async () => {
    await start();
    emulator!.faults.add({ route: 'keys', kind: 'empty', status: 504 });
    const res = await call('/api/keys', { key: keyOf('full') });
    expect(res.status).toBe(504);
    expect(await res.text()).toBe('');
  });

  it('delay: waits in real time, then answers normally (or with the next fault)', async () => {
    await start();
    const key = keyOf('full');
    emulator!.faults.add({ route: 'workspaces', kind: 'delay', ms: 60 });
    const began = Date.now();
    expect((await call('/api/workspaces', { key })).status).toBe(200);
    expect(Date.now() - began).toBeGreaterThanOrEqual(50);

    emulator!.faults.add({ route: 'workspaces', kind: 'delay', ms: 10 });
    emulator!.faults.add({ route: 'workspaces', kind: 'html', status: 503 });
    expect((await call('/api/workspaces', { key })).status).toBe(503);
  });

  it('drop: resets the connection without answering, recorded as status 0', async () => {
    await start();
    emulator!.faults.add({ route: 'workspaces', kind: 'drop' });
    await expect(call('/api/workspaces', { key: keyOf('full') })).rejects.toThrow();
    expect(emulator!.requests.at(-1)).toMatchObject({ route: 'workspaces', status: 0 });
  });

  it('are consumed in order, first matching route, `*` for any; times repeats; clear() drops them', async () => {
    await start();
    const key = keyOf('full');
    emulator!.faults.add({ route: 'keys', kind: 'empty', status: 500 });
    emulator!.faults.add({ route: '*', kind: 'empty', status: 503 });
    emulator!.faults.add({ route: 'workspaces', kind: 'empty', status: 504, times: 2 });
    expect((await call('/api/workspaces', { key })).status).toBe(503);
    expect((await call('/api/workspaces', { key })).status).toBe(504);
    expect((await call('/api/workspaces', { key })).status).toBe(504);
    expect((await call('/api/workspaces', { key })).status).toBe(200);
    expect((await call('/api/keys', { key })).status).toBe(500);
    emulator!.faults.add({ route: '*', kind: 'empty', status: 500, times: 5 });
    emulator!.faults.clear();
    expect((await call('/api/keys', { key })).status).toBe(200);
  });
});
