/**
 * Refresh (issue 13 item 3) through the built `latchkey` binary against a REAL OpenID provider
 * (oidc-provider, rotating refresh tokens for public clients): an expired access token is refreshed by
 * `auth token` with one request and the rotated refresh token is stored; concurrent `auth token` (a few
 * per core) at the refresh margin make exactly one refresh request and all print the new token; a refresh
 * rejected with invalid_grant, or with an empty 400/401, is exit 4 "sign in again" and `auth status` says
 * "expired"; exec refreshes too. Every printed token is checked
 * live on the server.
 *
 * `auth token` refreshes when the stored token has less than 60 s left (tokens that live a minute or less:
 * half their lifetime). The tests with a 2 s TTL wait until the token has really expired on the server, so
 * they hold whichever margin applies; one concurrency test uses a TTL a little over 60 s and waits for the
 * 60 s margin.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, tasksAtOnce, type CliSession } from '@latchkey/conformance/tools';
import { OIDC_PUBLIC_CLIENT_ID, type OidcServer } from '@latchkey/testkit';
import { expectExit, expectSecretNotOnDisk } from './harness.js';
import {
  CONDITION_WAIT_MS,
  DEVICE_GRANT,
  OauthWorld,
  addProvider,
  deviceLogin,
  execTokenHash,
  opts,
  sha256,
  waitUntil,
} from './oauth-support.js';

const world = new OauthWorld();
/** A login, a wait for the token to age, then many processes: room for a loaded 2-core machine. */
const SLOW_TEST_MS = 300_000;
/**
 * Concurrent `auth token` processes: three per core, at most 20. At the margin they must all have read
 * the token while the refreshed one is fresh (15 s), which a busy machine does with a few per core.
 */
const CALLERS = Math.min(20, tasksAtOnce(3));
afterEach(() => world.cleanup());
afterAll(() => world.dispose());

/** A server with this access-token TTL, a provider `corp-idp` added by discovery, and alice signed in. */
async function signedIn(accessTokenTtl: number): Promise<{
  server: OidcServer;
  session: CliSession;
  issued: Record<string, unknown>;
  issuedAt: number;
}> {
  const server = await world.server({ accessTokenTtl });
  const session = await world.session();
  expectExit(await addProvider(session, 'corp-idp', server.issuer), 0);
  const { run } = await deviceLogin(session, 'corp-idp', (code) => server.approve(code));
  expectExit(run, 0);
  const grant = server.requestsTo('token', DEVICE_GRANT).at(-1)!;
  expect(grant.status).toBe(200);
  return { server, session, issued: grant.answer!, issuedAt: grant.at };
}

const refreshes = (server: OidcServer) => server.requestsTo('token', 'refresh_token');

/** The next `auth token` (its access token expired) refreshes with `refreshToken`, the one stored last. */
async function expectNextRefreshUses(server: OidcServer, session: CliSession, refreshToken: string) {
  const next = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
  expectExit(next, 0);
  expect(refreshes(server).at(-1)).toMatchObject({ status: 200, body: { refresh_token: refreshToken } });
}

describe('refresh through auth token', () => {
  it('an expired access token: one refresh_token grant, the new token printed, the rotated refresh token stored and used next', async () => {
    const { server, session, issued } = await signedIn(2);
    const firstAccess = String(issued.access_token);
    const firstRefresh = String(issued.refresh_token);
    // Let the access token really expire on the server (a condition, polled, bounded).
    await expect
      .poll(() => server.isActive(firstAccess), { timeout: CONDITION_WAIT_MS, interval: 250 })
      .toBe(false);

    const token = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
    expectExit(token, 0);
    expect(refreshes(server)).toHaveLength(1);
    const [refresh] = refreshes(server);
    expect(refresh).toMatchObject({
      method: 'POST',
      contentType: expect.stringMatching(/^application\/x-www-form-urlencoded/),
      body: { grant_type: 'refresh_token', refresh_token: firstRefresh, client_id: OIDC_PUBLIC_CLIENT_ID },
      status: 200,
    });
    const secondAccess = String(refresh!.answer!.access_token);
    const secondRefresh = String(refresh!.answer!.refresh_token);
    expect(secondRefresh).not.toBe(firstRefresh);
    expect(token.stdout).toBe(`${secondAccess}\n`);
    expect(await server.isActive(firstRefresh)).toBe(false);
    await expectSecretNotOnDisk(session.configDir, secondAccess);
    await expectSecretNotOnDisk(session.configDir, secondRefresh);

    // status knows the expiry and that a refresh token is still held. (It may refresh a token inside the
    // margin itself, with the stored refresh token: then it shows that one's expiry.)
    const status = await session.run(['auth', 'status', '--provider', 'corp-idp', '--json'], opts());
    expectExit(status, 0);
    const [row] = (JSON.parse(status.stdout) as { result: { credentials: Array<Record<string, unknown>> } })
      .result.credentials;
    expect(row).toMatchObject({ refreshable: true });
    const latest = refreshes(server).at(-1)!;
    expect(Math.abs(Date.parse(String(row!.expiresAt)) - (latest.at + 2_000))).toBeLessThan(10_000);

    // Once the refreshed token has expired too, the next call refreshes again: with the ROTATED refresh
    // token the previous refresh answered, which must have been stored.
    const newest = String(refreshes(server).at(-1)!.answer!.access_token);
    await expect
      .poll(() => server.isActive(newest), { timeout: CONDITION_WAIT_MS, interval: 250 })
      .toBe(false);
    const next = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
    expectExit(next, 0);
    // Every request the server has received is answered (none still in its queue) before the log is read.
    await expect
      .poll(() => refreshes(server).every((r) => r.status !== 0), { timeout: CONDITION_WAIT_MS })
      .toBe(true);
    const chain = refreshes(server);
    expect(chain.length).toBeGreaterThanOrEqual(2);
    // Every refresh used the refresh token the one before it was given: the rotation chain is unbroken, and
    // none was refused (a burnt or stale refresh token would be invalid_grant).
    expect(chain.map((r) => r.status)).toEqual(chain.map(() => 200));
    for (let i = 1; i < chain.length; i += 1) {
      expect(chain[i]!.body.refresh_token).toBe(String(chain[i - 1]!.answer!.refresh_token));
    }
    expect(next.stdout).toBe(`${String(chain.at(-1)!.answer!.access_token)}\n`);
  });

  it('exec refreshes an expired token before the command starts and hands it the new one', async () => {
    const { server, session, issued } = await signedIn(2);
    await expect
      .poll(() => server.isActive(String(issued.access_token)), { timeout: CONDITION_WAIT_MS, interval: 250 })
      .toBe(false);
    const exec = await execTokenHash(session);
    expectExit(exec, 0);
    expect(refreshes(server)).toHaveLength(1);
    const fresh = String(refreshes(server)[0]!.answer!.access_token);
    expect(exec.stdout).toBe(sha256(fresh));
  });

  it(
    `${CALLERS} concurrent auth token at the refresh margin: exactly one refresh request, every process prints the new, live token`,
    async () => {
      // 75 s: 15 s after issue the token enters the 60 s margin; the refreshed one then has 75 s, so the
      // processes that re-read after the refresh (on a loaded machine, seconds later) find it fresh.
      const { server, session, issuedAt } = await signedIn(75);
      await waitUntil(issuedAt + 15_000 + 1_500);

      const runs = await Promise.all(
        Array.from({ length: CALLERS }, () =>
          session.run(['auth', 'token', '--provider', 'corp-idp'], opts()),
        ),
      );
      const problems = runs.filter((r) => r.exitCode !== 0).map((r) => `${r.exitCode}: ${r.stderr}`);
      expect(problems).toEqual([]);
      await expect
        .poll(() => refreshes(server).every((r) => r.status !== 0), { timeout: CONDITION_WAIT_MS })
        .toBe(true);
      expect(refreshes(server).map((r) => r.status)).toEqual([200]);
      const fresh = String(refreshes(server)[0]!.answer!.access_token);
      expect(new Set(runs.map((r) => r.stdout))).toEqual(new Set([`${fresh}\n`]));
      expect(await server.isActive(fresh)).toBe(true);
    },
    SLOW_TEST_MS,
  );

  it(
    `${CALLERS} concurrent auth token after a token shorter-lived than the margin expired: refreshes one at a time, the rotation chain unbroken, never the expired token`,
    async () => {
      // 15 s: the refreshed token is short-lived too, so on a slow machine a process that starts long after
      // the refresh may find it due again and refresh once more. What must hold is that the processes never
      // race: each refresh uses the refresh token the previous one stored (a reused rotated token would be
      // invalid_grant and end the session), and none prints the expired token.
      const { server, session, issued } = await signedIn(15);
      await expect
        .poll(() => server.isActive(String(issued.access_token)), {
          timeout: CONDITION_WAIT_MS,
          interval: 250,
        })
        .toBe(false);

      const runs = await Promise.all(
        Array.from({ length: CALLERS }, () =>
          session.run(['auth', 'token', '--provider', 'corp-idp'], opts()),
        ),
      );
      expect(runs.filter((r) => r.exitCode !== 0).map((r) => `${r.exitCode}: ${r.stderr}`)).toEqual([]);
      await expect
        .poll(() => refreshes(server).every((r) => r.status !== 0), { timeout: CONDITION_WAIT_MS })
        .toBe(true);
      const chain = refreshes(server);
      expect(chain.length).toBeGreaterThanOrEqual(1);
      expect(chain.map((r) => r.status)).toEqual(chain.map(() => 200));
      expect(chain[0]!.body.refresh_token).toBe(String(issued.refresh_token));
      for (let i = 1; i < chain.length; i += 1) {
        expect(chain[i]!.body.refresh_token).toBe(String(chain[i - 1]!.answer!.refresh_token));
      }
      const refreshed = new Set(chain.map((r) => `${String(r.answer!.access_token)}\n`));
      for (const run of runs) expect(refreshed.has(run.stdout), 'printed a token no refresh gave').toBe(true);
    },
    SLOW_TEST_MS,
  );

  it('a slow token endpoint (3 s) during auth token: it waits for the answer, prints the new token and keeps the rotated refresh token', async () => {
    const { server, session, issued } = await signedIn(2);
    await expect
      .poll(() => server.isActive(String(issued.access_token)), { timeout: CONDITION_WAIT_MS, interval: 250 })
      .toBe(false);
    server.slowNext('token', { ms: 3_000 });
    const token = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
    expectExit(token, 0);
    const [slow] = refreshes(server);
    expect(slow).toMatchObject({ status: 200, delayedMs: 3_000 });
    expect(token.stdout).toBe(`${String(slow!.answer!.access_token)}\n`);
    // The rotated refresh token was stored: once the new token has expired (its 2 s counted from when the
    // answer arrived), the next refresh uses it and succeeds.
    await waitUntil(Date.now() + 2_500);
    await expectNextRefreshUses(server, session, String(slow!.answer!.refresh_token));
  });

  it('a slow token endpoint (3 s, over the status limit) during auth status: the refresh is waited for, so the rotated refresh token is kept and the session survives', async () => {
    // 10 s: outlives the 3 s delay, so the refreshed token is still live for the check (7 s of room).
    const { server, session, issued } = await signedIn(10);
    await expect
      .poll(() => server.isActive(String(issued.access_token)), { timeout: CONDITION_WAIT_MS, interval: 250 })
      .toBe(false);
    server.slowNext('token', { ms: 3_000 });
    const status = await session.run(['auth', 'status', '--provider', 'corp-idp', '--json'], opts());
    expectExit(status, 0);
    const [slow] = refreshes(server);
    expect(slow).toMatchObject({ status: 200, delayedMs: 3_000 });
    // Cut short, the refresh would have left only the refresh token the server had just retired stored, and
    // this would be exit 4 "sign in again".
    await expect
      .poll(() => server.isActive(String(slow!.answer!.access_token)), {
        timeout: CONDITION_WAIT_MS,
        interval: 250,
      })
      .toBe(false);
    await expectNextRefreshUses(server, session, String(slow!.answer!.refresh_token));
  });

  it('a refresh refused with invalid_grant: exit 4 "sign in again", nothing printed', async () => {
    const { server, session, issued } = await signedIn(2);
    expect(server.revokeRefreshTokens()).toBe(1);
    await expect
      .poll(() => server.isActive(String(issued.access_token)), { timeout: CONDITION_WAIT_MS, interval: 250 })
      .toBe(false);
    const token = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
    expectExit(token, 4);
    expect(token.stdout).toBe('');
    expect(token.stderr).toMatch(/sign in again/i);
    expect(token.stderr).toContain('latchkey auth login --provider corp-idp');
    expect(refreshes(server).map((r) => [r.status, r.error])).toEqual([[400, 'invalid_grant']]);
  });

  for (const status of [400, 401]) {
    it(`a refresh refused with an empty HTTP ${status} (no invalid_grant): exit 4 "sign in again", status says expired, never sent again`, async () => {
      const { server, session, issued } = await signedIn(2);
      await expect
        .poll(() => server.isActive(String(issued.access_token)), {
          timeout: CONDITION_WAIT_MS,
          interval: 250,
        })
        .toBe(false);
      // A server that answers a refresh token it no longer accepts with a bare status: no body at all.
      server.failNext('token', { status, body: '' });
      const token = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
      expectExit(token, 4);
      expect(token.stdout).toBe('');
      expect(token.stderr).toContain(`no longer accepts the refresh token: HTTP ${status} without a reason`);
      expect(token.stderr).toMatch(/sign in again/i);
      expect(token.stderr).toContain('latchkey auth login --provider corp-idp');
      expect(token.stderr).not.toMatch(/unexpected response/i);
      expect(refreshes(server).map((r) => [r.status, r.injected])).toEqual([[status, true]]);

      const statusJson = await session.run(['auth', 'status', '--provider', 'corp-idp', '--json'], opts());
      expectExit(statusJson, 4);
      const [row] = (
        JSON.parse(statusJson.stdout) as { result: { credentials: Array<Record<string, unknown>> } }
      ).result.credentials;
      expect(row).toMatchObject({
        account: 'alice',
        validity: 'expired',
        error: { code: 'SESSION_EXPIRED' },
      });
      const human = await session.run(['auth', 'status', '--provider', 'corp-idp'], opts());
      expectExit(human, 4);
      expect(human.stdout).toContain('alice (active): expired (sign in again)');
      expect(human.stdout).not.toMatch(/unreachable/);
      // The refresh token is not sent again: only a new sign-in helps.
      expect(refreshes(server)).toHaveLength(1);
    });
  }

  it('an expired access token and no refresh token (the client may not refresh): exit 4, no request', async () => {
    const server = await world.server({
      accessTokenTtl: 2,
      clients: [{ clientId: 'device-only', grantTypes: [DEVICE_GRANT] }],
    });
    const session = await world.session();
    expectExit(await addProvider(session, 'corp-idp', server.issuer, ['--client-id', 'device-only']), 0);
    const { run } = await deviceLogin(session, 'corp-idp', (code) => server.approve(code));
    expectExit(run, 0);
    const issued = server.requestsTo('token', DEVICE_GRANT).at(-1)!.answer!;
    expect(issued.refresh_token).toBeUndefined();
    const status = await session.run(['auth', 'status', '--provider', 'corp-idp', '--json'], opts());
    const [row] = (JSON.parse(status.stdout) as { result: { credentials: Array<Record<string, unknown>> } })
      .result.credentials;
    expect(row).toMatchObject({ refreshable: false });
    await expect
      .poll(() => server.isActive(String(issued.access_token)), { timeout: CONDITION_WAIT_MS, interval: 250 })
      .toBe(false);
    const token = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
    expectExit(token, 4);
    expect(token.stdout).toBe('');
    expect(token.stderr).toContain('latchkey auth login --provider corp-idp');
    expect(refreshes(server)).toEqual([]);
  });

  it('the token server unreachable while the token is expired: exit 1 naming the server, never the expired token', async () => {
    const { server, session, issued } = await signedIn(2);
    await expect
      .poll(() => server.isActive(String(issued.access_token)), { timeout: CONDITION_WAIT_MS, interval: 250 })
      .toBe(false);
    await server.close();
    const token = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
    expectExit(token, 1);
    expect(token.stdout).toBe('');
    expect(token.stderr).toContain('127.0.0.1');
  });
});

describe('refresh leaks', () => {
  it('never shows a token, refresh token or device code outside auth token', () => {
    const runs = world.runs();
    const secrets = world.allSecrets();
    expect(runs.length).toBeGreaterThan(20);
    expect(secrets.length).toBeGreaterThan(10);
    assertNoSecretLeaks(runs, secrets);
  });
});
