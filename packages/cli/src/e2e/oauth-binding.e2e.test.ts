/**
 * Issue 20 items 3, 5 and `expires_in`, through the built `latchkey` binary against REAL OpenID providers
 * (oidc-provider) on 127.0.0.1:
 *
 * - a stored OAuth credential goes only to the endpoints that issued it: a providers.json rewritten to name
 *   a second server (modes kept 0600) makes `auth token` on a due token, `auth logout` and `auth status`
 *   exit 1 STORAGE_TAMPERED, and the second server receives nothing; `auth providers add --force` with
 *   another issuer logs the accounts out at the old one first;
 * - RFC 8414 / OIDC Discovery exactly: `--issuer` with a query or fragment is exit 2 before any request,
 *   metadata naming no issuer is refused, and the issuer is compared character for character;
 * - `expires_in: 0` means already expired: the next `auth token` refreshes (or, without a refresh token,
 *   says TOKEN_EXPIRED).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, type CliRun, type CliSession } from '@latchkey/conformance/tools';
import { type OidcServer } from '@latchkey/testkit';
import { expectExit } from './harness.js';
import {
  CONDITION_WAIT_MS,
  DEVICE_GRANT,
  OauthWorld,
  addProvider,
  deviceLogin,
  opts,
  storedProviders,
} from './oauth-support.js';

const world = new OauthWorld();
afterEach(() => world.cleanup());
afterAll(async () => {
  await world.dispose();
  assertNoSecretLeaks(world.runs(), world.allSecrets());
});

/** A provider `corp-idp` added by discovery at `server`, and alice signed in there. */
async function signedIn(server: OidcServer, extra: string[] = []): Promise<CliSession> {
  const session = await world.session();
  expectExit(await addProvider(session, 'corp-idp', server.issuer, extra), 0);
  const { run } = await deviceLogin(session, 'corp-idp', (code) => server.approve(code));
  expectExit(run, 0);
  return session;
}

/** Rewrites corp-idp's endpoints in providers.json in place (the file keeps its 0600 mode). */
async function rewriteEndpoints(configDir: string, to: OidcServer): Promise<void> {
  const file = join(configDir, 'providers.json');
  const doc = JSON.parse(await readFile(file, 'utf8')) as {
    providers: Record<string, Record<string, string>>;
  };
  doc.providers['corp-idp']!.tokenUrl = to.endpoints.token;
  doc.providers['corp-idp']!.revocationUrl = to.endpoints.revocation;
  await writeFile(file, JSON.stringify(doc, null, 2));
  expect((await stat(file)).mode & 0o777).toBe(0o600);
}

const errorOf = (run: CliRun) =>
  (JSON.parse(run.stdout) as { error: { code: string; message: string } }).error;

describe('a stored OAuth credential goes only to the endpoints that issued it', () => {
  it('a rewritten tokenUrl/revocationUrl: auth token (due), auth status and auth logout exit 1 STORAGE_TAMPERED; the second server receives nothing', async () => {
    const good = await world.server({ accessTokenTtl: 2 });
    const evil = await world.server();
    const session = await signedIn(good);
    const issued = good.requestsTo('token', DEVICE_GRANT).at(-1)!.answer!;
    await expect
      .poll(() => good.isActive(String(issued.access_token)), { timeout: CONDITION_WAIT_MS, interval: 250 })
      .toBe(false);
    await rewriteEndpoints(session.configDir, evil);

    const token = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
    expectExit(token, 1);
    expect(token.stdout).toBe('');
    expect(token.stderr).toContain(JSON.stringify(evil.endpoints.token));
    expect(token.stderr).toContain(JSON.stringify(good.endpoints.token));

    const status = await session.run(['auth', 'status', '--provider', 'corp-idp', '--json'], opts());
    expectExit(status, 1);
    const [row] = (JSON.parse(status.stdout) as { result: { credentials: Array<Record<string, unknown>> } })
      .result.credentials;
    expect(row).toMatchObject({ validity: 'error', error: { code: 'STORAGE_TAMPERED' } });

    const logout = await session.run(['auth', 'logout', '--provider', 'corp-idp', '--json'], opts());
    expectExit(logout, 1);
    expect(errorOf(logout)).toMatchObject({
      code: 'STORAGE_TAMPERED',
      message: expect.stringContaining(JSON.stringify(good.endpoints.token)),
    });
    expect(logout.stderr).not.toContain('revoked');

    expect(evil.requests).toEqual([]);
    expect(good.requestsTo('token', 'refresh_token')).toEqual([]);
    expect(good.requestsTo('revocation')).toEqual([]);
    // Nothing was deleted: put the definition back, and the logout revokes at the server that issued it.
    await rewriteEndpoints(session.configDir, good);
    const restored = await session.run(['auth', 'logout', '--provider', 'corp-idp'], opts());
    expectExit(restored, 0);
    expect(restored.stderr).toContain('revoked on the server');
    expect(good.requestsTo('revocation').map((r) => r.status)).toEqual([200, 200]);
    expect(evil.requests).toEqual([]);
  });

  it('auth providers add --force with another issuer logs the accounts out at the old server first', async () => {
    const old = await world.server();
    const next = await world.server();
    const session = await signedIn(old);
    const added = await addProvider(session, 'corp-idp', next.issuer, ['--force']);
    expectExit(added, 0);
    expect(added.stderr).toContain('Logged out of corp-idp');
    expect(old.requestsTo('revocation').map((r) => r.status)).toEqual([200, 200]);
    expect(next.requests.filter((r) => r.endpoint !== 'metadata')).toEqual([]);
    expect((await storedProviders(session.configDir))['corp-idp']).toMatchObject({ issuer: next.issuer });
    const status = await session.run(['auth', 'status', '--provider', 'corp-idp', '--json'], opts());
    expectExit(status, 4);
    expect(errorOf(status).code).toBe('NOT_SIGNED_IN');
  });
});

describe('RFC 8414 / OIDC Discovery exactly', () => {
  it('--issuer with a query or a fragment is exit 2 before any request; a trailing slash the server does not use is exit 2', async () => {
    const server = await world.server();
    const session = await world.session();
    for (const issuer of [`${server.issuer}/?q=1`, `${server.issuer}#f`, `${server.issuer}?`]) {
      const run = await addProvider(session, 'corp-idp', issuer);
      expectExit(run, 2);
      expect(run.stderr).toContain('query or a fragment');
    }
    expect(server.requests).toEqual([]);
    const slash = await addProvider(session, 'corp-idp', `${server.issuer}/`);
    expectExit(slash, 2);
    expect(slash.stderr).toContain('different issuer');
    expect(await storedProviders(session.configDir)).toEqual({});
  });

  it('metadata that names no issuer is refused (exit 1) and nothing is stored', async () => {
    const server = createServer((req, res) => {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      if (req.url === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            device_authorization_endpoint: `${base}/device`,
            token_endpoint: `${base}/token`,
          }),
        );
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const session = await world.session();
      const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const run = await addProvider(session, 'corp-idp', issuer);
      expectExit(run, 1);
      expect(run.stderr).toContain('names no issuer');
      expect(await storedProviders(session.configDir)).toEqual({});
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('expires_in', () => {
  it('0: the token is stored as already expired and the next auth token refreshes', async () => {
    const server = await world.server({ accessTokenTtl: 300 });
    server.expiresInNext(0);
    const session = await signedIn(server);
    const grant = server.requestsTo('token', DEVICE_GRANT).at(-1)!;
    expect(grant.answer).toMatchObject({ expires_in: 0 });
    const token = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
    expectExit(token, 0);
    const refreshes = server.requestsTo('token', 'refresh_token');
    expect(refreshes.map((r) => r.status)).toEqual([200]);
    expect(refreshes[0]!.body.refresh_token).toBe(String(grant.answer!.refresh_token));
    expect(token.stdout).toBe(`${String(refreshes[0]!.answer!.access_token)}\n`);
    // The refreshed token lives its real 300 s: the next call prints it without another request.
    const again = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
    expectExit(again, 0);
    expect(again.stdout).toBe(token.stdout);
    expect(server.requestsTo('token', 'refresh_token')).toHaveLength(1);
  });

  it('0 without a refresh token: auth token says TOKEN_EXPIRED (exit 4) and prints nothing', async () => {
    const server = await world.server({ accessTokenTtl: 300 });
    server.expiresInNext(0);
    const session = await signedIn(server, ['--scope', 'openid']);
    expect(server.requestsTo('token', DEVICE_GRANT).at(-1)!.answer!.refresh_token).toBeUndefined();
    const token = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
    expectExit(token, 4);
    expect(token.stdout).toBe('');
    expect(token.stderr).toContain('has expired');
    expect(server.requestsTo('token', 'refresh_token')).toEqual([]);
  });
});
