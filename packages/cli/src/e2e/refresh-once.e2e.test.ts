/**
 * One refresh request per due token, whatever happens (issue 20 item 4), through the built `latchkey`
 * binary against a REAL OpenID provider (oidc-provider, rotating refresh tokens) on 127.0.0.1:
 *
 * - rounds of concurrent `auth token` at expiry: one refresh request per round, every caller prints the same
 *   new, live token, and each round's refresh uses the refresh token the previous one stored (none lost);
 * - a token endpoint answering 500: one request, every caller reports the same error, and within the
 *   back-off nobody sends the refresh token again; after it, the session still works;
 * - a hanging token endpoint: one request, every caller ends with the same timeout error (the lock holder
 *   waits out its request; the others wait for it instead of each sending the refresh token in turn);
 * - a token endpoint answering after 9 s (past the old 8 s limit) with a rotated refresh token: it is
 *   stored, and the next refresh uses it.
 *
 * The failures are the server's (an injected 500, an answer held back after the work is done), never a
 * wall-clock bound in the test. `LATCHKEY_E2E_REFRESH_CALLERS` / `_ROUNDS` / `_TTL` size the first test
 * for a manual run on a bigger machine (default two callers per core, at most 10; 3 rounds; 75 s tokens).
 * The callers of a round must all have read the token while the refreshed one is fresh (15 s): a few
 * processes per core leave a busy machine room for that.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, tasksAtOnce, type CliRun, type CliSession } from '@latchkey/conformance/tools';
import { type OidcServer } from '@latchkey/testkit';
import { expectExit } from './harness.js';
import {
  CONDITION_WAIT_MS,
  DEVICE_GRANT,
  OauthWorld,
  addProvider,
  deviceLogin,
  opts,
  waitUntil,
} from './oauth-support.js';

const world = new OauthWorld();
afterEach(() => world.cleanup());
afterAll(() => world.dispose());

const CALLERS = Number(process.env.LATCHKEY_E2E_REFRESH_CALLERS ?? Math.min(10, tasksAtOnce(2)));
/**
 * Callers of the failure tests: they must all have asked within the 10 s back-off after the failure, which
 * a busy machine does with a few processes per core.
 */
const CROWD = Math.min(10, tasksAtOnce(2));
const ROUNDS = Number(process.env.LATCHKEY_E2E_REFRESH_ROUNDS ?? 3);
/** A token's margin is 60 s: a 75 s token is due 15 s after it was issued, and fresh for 15 s after a refresh. */
const TTL = Number(process.env.LATCHKEY_E2E_REFRESH_TTL ?? 75);
/** Logins, waits for tokens to age, and many processes at once: room for a loaded 2-core machine. */
const SLOW_TEST_MS = 120_000 + ROUNDS * (TTL - 60 + 45) * 1_000;

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
const authToken = (session: CliSession) => session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
const concurrent = (session: CliSession, n: number) =>
  Promise.all(Array.from({ length: n }, () => authToken(session)));
/** Every request the server received has been answered (none still in its queue). */
const allAnswered = (server: OidcServer) =>
  expect
    .poll(() => refreshes(server).every((r) => r.status !== 0), { timeout: CONDITION_WAIT_MS })
    .toBe(true);
/** What a run said about its failure: its stderr without the lines of a lock wait. */
const errorOf = (run: CliRun) =>
  run.stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('Waiting for another latchkey process'))
    .join('\n');

describe('one refresh request per due token', () => {
  it(
    `${CALLERS} concurrent auth token at expiry, ${ROUNDS} rounds: one refresh request each, every caller prints the same new live token, no session lost`,
    async () => {
      const { server, session, issued, issuedAt } = await signedIn(TTL);
      let refreshToken = String(issued.refresh_token);
      let issuedAtMs = issuedAt;
      for (let round = 1; round <= ROUNDS; round += 1) {
        // The token enters its 60 s margin TTL - 60 s after it was issued (a little later, to be sure).
        await waitUntil(issuedAtMs + (TTL - 60) * 1_000 + 1_500, (TTL + 5) * 1_000);
        const before = refreshes(server).length;
        const runs = await concurrent(session, CALLERS);
        await allAnswered(server);
        expect(
          runs.filter((r) => r.exitCode !== 0).map((r) => `${r.exitCode}: ${r.stderr}`),
          `round ${round}`,
        ).toEqual([]);
        const mine = refreshes(server).slice(before);
        expect(
          mine.map((r) => [r.status, r.body.refresh_token]),
          `round ${round}: one request, with the refresh token stored last`,
        ).toEqual([[200, refreshToken]]);
        const fresh = String(mine[0]!.answer!.access_token);
        expect(new Set(runs.map((r) => r.stdout)), `round ${round}`).toEqual(new Set([`${fresh}\n`]));
        expect(await server.isActive(fresh)).toBe(true);
        refreshToken = String(mine[0]!.answer!.refresh_token);
        issuedAtMs = mine[0]!.at;
      }
    },
    SLOW_TEST_MS,
  );

  it(`${CROWD} callers while the token endpoint answers 500: one request, all report the same error; within the back-off no request; after it the session works`, async () => {
    const { server, session, issued } = await signedIn(2);
    await expect
      .poll(() => server.isActive(String(issued.access_token)), { timeout: CONDITION_WAIT_MS, interval: 250 })
      .toBe(false);
    server.failNext('token', { status: 500 });
    const runs = await concurrent(session, CROWD);
    await allAnswered(server);
    expect(refreshes(server).map((r) => [r.status, r.body.refresh_token])).toEqual([
      [500, String(issued.refresh_token)],
    ]);
    expect(runs.map((r) => r.exitCode)).toEqual(Array(CROWD).fill(1));
    expect(runs.map((r) => r.stdout)).toEqual(Array(CROWD).fill(''));
    const errors = new Set(runs.map(errorOf));
    expect(errors.size, [...errors].join('\n---\n')).toBe(1);
    expect([...errors][0]).toContain('HTTP 500');
    // The failure is in the account's index record, with its time: no secret there.
    const index = await readFile(join(session.configDir, 'accounts.json'), 'utf8');
    const failure = (JSON.parse(index) as { accounts: Array<{ refreshFailure?: Record<string, string> }> })
      .accounts[0]!.refreshFailure!;
    expect(failure).toMatchObject({ code: 'UNEXPECTED_RESPONSE', exitCode: 1 });
    expect(Date.parse(failure.retryAt!) - Date.parse(failure.at!)).toBe(10_000);
    for (const secret of server.issuedSecrets()) expect(index).not.toContain(secret);

    // Once the back-off is over, the next call refreshes with the same (still valid) refresh token.
    await waitUntil(Date.parse(failure.retryAt!) + 250);
    const next = await authToken(session);
    expectExit(next, 0);
    await allAnswered(server);
    const [, retry] = refreshes(server);
    expect(retry).toMatchObject({ status: 200, body: { refresh_token: String(issued.refresh_token) } });
    expect(next.stdout).toBe(`${String(retry!.answer!.access_token)}\n`);
  });

  it('a hanging token endpoint: one request, and every caller ends with the same timeout error', async () => {
    const { server, session, issued } = await signedIn(2);
    await expect
      .poll(() => server.isActive(String(issued.access_token)), { timeout: CONDITION_WAIT_MS, interval: 250 })
      .toBe(false);
    server.slowNext('token', { ms: 600_000 }); // never, as far as the test is concerned
    const runs = await concurrent(session, CROWD);
    expect(refreshes(server)).toHaveLength(1);
    expect(runs.map((r) => r.exitCode)).toEqual(Array(CROWD).fill(1));
    const errors = new Set(runs.map(errorOf));
    expect(errors.size, [...errors].join('\n---\n')).toBe(1);
    expect([...errors][0]).toMatch(/did not answer within 15 s \(1 try\)/);
  });

  it('a token endpoint answering after 9 s (past the old 8 s limit) with a rotated refresh token: it is stored, and the next refresh uses it', async () => {
    const { server, session, issued } = await signedIn(2);
    await expect
      .poll(() => server.isActive(String(issued.access_token)), { timeout: CONDITION_WAIT_MS, interval: 250 })
      .toBe(false);
    server.slowNext('token', { ms: 9_000 });
    const runs = await concurrent(session, 3);
    await allAnswered(server);
    expect(runs.filter((r) => r.exitCode !== 0).map((r) => `${r.exitCode}: ${r.stderr}`)).toEqual([]);
    const chain = refreshes(server);
    expect(chain[0]).toMatchObject({
      status: 200,
      delayedMs: 9_000,
      body: { refresh_token: String(issued.refresh_token) },
    });
    // The 2 s tokens may be due again by the time a waiter reads them: then it refreshes once more, with
    // the refresh token the slow answer rotated to (stored, not lost), and so on down the chain.
    expect(chain.map((r) => r.status)).toEqual(chain.map(() => 200));
    for (let i = 1; i < chain.length; i += 1) {
      expect(chain[i]!.body.refresh_token).toBe(String(chain[i - 1]!.answer!.refresh_token));
    }
    const given = new Set(chain.map((r) => `${String(r.answer!.access_token)}\n`));
    for (const run of runs) expect(given.has(run.stdout), 'printed a token no refresh gave').toBe(true);

    // The next auth token (its token expired) refreshes with the refresh token stored last, and works.
    await waitUntil(Date.now() + 2_500);
    const next = await authToken(session);
    expectExit(next, 0);
    await allAnswered(server);
    const last = refreshes(server).at(-1)!;
    expect(last).toMatchObject({
      status: 200,
      body: { refresh_token: String(chain.at(-1)!.answer!.refresh_token) },
    });
    expect(next.stdout).toBe(`${String(last.answer!.access_token)}\n`);
  });
});

describe('refresh-once leaks', () => {
  it('never shows a token, refresh token or device code outside auth token', () => {
    expect(world.runs().length).toBeGreaterThan(20);
    assertNoSecretLeaks(world.runs(), world.allSecrets());
  });
});
