/**
 * OAuth servers as they really are (issue 25), through the built `latchkey` binary: what an independent
 * OpenID Connect server did that the other tests' servers do not. Against the REAL oidc-provider where it
 * can give the answer: a server that advertises `openid` but no `offline_access` (openid is asked for), a
 * client the server limits to some scopes (`invalid_scope`: exit 2 saying to pass --scope), a device code
 * that lives 12 s (shown as 12 seconds, not the poll loop's 30 s floor). Against a small real server
 * (interop-server.ts) for what oidc-provider does not answer: lowercase `token_type: "bearer"`, JWT access
 * tokens whose `aud` is the scope string, `slow_down` for an early poll, `403 unauthorized_client`.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks } from '@latchkey/conformance/tools';
import { expectExit, expectNothingStored } from './harness.js';
import {
  INTEROP_DEVICE_GRANT,
  startInteropServer,
  type InteropServer,
  type InteropServerOptions,
} from './interop-server.js';
import {
  DEVICE_GRANT,
  OauthWorld,
  addProvider,
  deviceLogin,
  opts,
  resultOf,
  storedProviders,
  waitUntil,
} from './oauth-support.js';

const world = new OauthWorld();
afterEach(() => world.cleanup());
afterAll(() => world.dispose());

describe('scopes', () => {
  it('no --scope and no offline_access offered: openid, which the server advertises, is asked for', async () => {
    // A server that supports openid (and the claim scopes) but not offline_access.
    const server = await world.server({ scopes: ['openid'], accessTokenTtl: 600 });
    const session = await world.session();
    expectExit(await addProvider(session, 'corp-idp', server.issuer), 0);
    expect((await storedProviders(session.configDir))['corp-idp']).toMatchObject({ scopes: ['openid'] });
    const { run } = await deviceLogin(session, 'corp-idp', (code) => server.approve(code));
    expectExit(run, 0);
    expect(server.requestsTo('device_authorization')).toMatchObject([
      { body: { scope: 'openid' }, status: 200 },
    ]);
    expect(server.requestsTo('token', DEVICE_GRANT).at(-1)).toMatchObject({
      status: 200,
      answer: { scope: 'openid' },
    });
    expect(run.stderr).toContain('alice');
  });

  it('a scope the server refuses (invalid_scope): exit 2, the server words, and how to pass --scope; nothing stored', async () => {
    const server = await world.server({ clients: [{ clientId: 'limited', scope: 'openid' }] });
    const session = await world.session();
    expectExit(
      await addProvider(session, 'corp-idp', server.issuer, ['--client-id', 'limited', '--scope', 'email']),
      0,
    );
    const { run } = await deviceLogin(session, 'corp-idp', async () => undefined);
    expectExit(run, 2);
    expect(server.requestsTo('device_authorization')).toMatchObject([
      { status: 400, error: 'invalid_scope' },
    ]);
    expect(run.stderr).toContain(`refused the scope "email": requested scope is not allowed.`);
    expect(run.stderr).toContain('--scope');
    expect(run.stderr).toContain(
      `\`latchkey auth providers add corp-idp --force --issuer ${server.issuer} --client-id limited --scope SCOPE\``,
    );
    expect(run.stderr).not.toMatch(/run .* again/i);
    await expectNothingStored(session.configDir);
  });
});

describe('device codes', () => {
  it("a code that lives 12 s is shown as expiring in 12 seconds; unapproved, the server's own answer past the 12 s ends the login (exit 4)", async () => {
    const server = await world.server({ deviceCodeTtl: 12 });
    const session = await world.session();
    expectExit(await addProvider(session, 'corp-idp', server.issuer), 0);
    const run = await session.run(['auth', 'login', '--provider', 'corp-idp'], opts());
    expect(server.requestsTo('device_authorization')).toMatchObject([
      { status: 200, answer: { expires_in: 12 } },
    ]);
    expect(run.stderr).toContain('The code expires in 12 seconds.');
    expect(run.stderr).not.toContain('30 seconds');
    expectExit(run, 4);
    // The loop (at least 30 s) kept polling until the server's own answer ended it (oidc-provider has
    // forgotten the code by then: invalid_grant, as a store with expiring records answers), not its own
    // count of 12 s (its last answer would then be authorization_pending). oidc-provider counts whole
    // seconds from the second the code was issued in, so with polls 1 s apart that answer may come up to
    // 1 s before 12 s of this test's milliseconds.
    const [authorization] = server.requestsTo('device_authorization');
    const last = server.requestsTo('token', DEVICE_GRANT).at(-1)!;
    expect(last.at - authorization!.at).toBeGreaterThanOrEqual(11_000);
    expect(last).toMatchObject({
      status: 400,
      error: expect.stringMatching(/^(expired_token|invalid_grant)$/),
    });
    await expectNothingStored(session.configDir);
  });
});

describe('an independent server (a small real one, for answers oidc-provider does not give)', () => {
  const servers: InteropServer[] = [];
  const interop = async (options: InteropServerOptions = {}) => {
    const server = await startInteropServer(options);
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      world.secrets.push(...server.issuedSecrets());
      await server.close();
    }
  });

  it('lowercase token_type "bearer" and a JWT access token whose aud is the scope string: sign in, status, token, refresh', async () => {
    const server = await interop({ accessTokenTtl: 2 });
    const session = await world.session();
    expectExit(await addProvider(session, 'indie', server.url), 0);
    const { run } = await deviceLogin(session, 'indie', async (code) => server.approve(code));
    expectExit(run, 0);
    expect(run.stderr).toContain('alice@interop.example');
    const granted = server.requestsTo('/token', INTEROP_DEVICE_GRANT).at(-1)!;
    expect(granted).toMatchObject({ status: 200, answer: { token_type: 'bearer' } });
    const first = String(granted.answer!.access_token);
    expect(server.claimsOf(first)).toMatchObject({ aud: 'openid offline_access', sub: 'alice' });
    // The userinfo endpoint accepted it (latchkey sends the standard "Bearer" scheme).
    expect(server.requestsTo('/userinfo')).toMatchObject([{ status: 200, authScheme: 'Bearer' }]);

    // Once it has expired, auth token refreshes (the refresh answer is "bearer" too) and prints the new JWT.
    await waitUntil(granted.at + 2_500);
    const token = await session.run(['auth', 'token', '--provider', 'indie'], opts());
    expectExit(token, 0);
    const refreshed = server.requestsTo('/token', 'refresh_token');
    expect(refreshed).toMatchObject([{ status: 200, answer: { token_type: 'bearer' } }]);
    const second = String(refreshed[0]!.answer!.access_token);
    expect(second).not.toBe(first);
    expect(token.stdout).toBe(`${second}\n`);
    expect(server.claimsOf(second)).toMatchObject({ aud: 'openid offline_access' });

    const status = await session.run(['auth', 'status', '--provider', 'indie'], opts());
    expectExit(status, 0);
    expect(status.stdout).toContain('alice@interop.example');
    expect(server.requestsTo('/userinfo').at(-1)).toMatchObject({ status: 200 });
  });

  it('no userinfo endpoint: the account is named from the JWT access token, whatever its aud', async () => {
    const server = await interop({ userinfo: false });
    const session = await world.session();
    expectExit(await addProvider(session, 'indie', server.url), 0);
    const { run } = await deviceLogin(session, 'indie', async (code) => server.approve(code));
    expectExit(run, 0);
    expect(run.stderr).toContain('alice@interop.example');
    const status = await session.run(['auth', 'status', '--provider', 'indie', '--json'], opts());
    expectExit(status, 0);
    expect(resultOf<{ credentials: Array<Record<string, unknown>> }>(status).credentials).toMatchObject([
      { account: 'alice@interop.example', identity: { name: 'Alice Interop' } },
    ]);
  });

  it('slow_down when a poll is early: 5 s more for that and every later poll, never early again, signed in', async () => {
    // It announces a 1 s interval but wants polls 3 s apart: the second poll is early.
    const server = await interop({ interval: 1, minPollGap: 3 });
    const session = await world.session();
    expectExit(await addProvider(session, 'indie', server.url), 0);
    const { run } = await deviceLogin(session, 'indie', async (code) => server.approve(code));
    expectExit(run, 0);
    const [authorization] = server.requestsTo('/device');
    const polls = server.requestsTo('/token', INTEROP_DEVICE_GRANT);
    // The first poll came at the announced 1 s: early for this server, slow_down; the next one 1 + 5 s
    // after it (latchkey waits from the answer, so the server sees at least that), and it got the tokens.
    expect(polls.map((p) => p.error ?? p.status)).toEqual(['slow_down', 200]);
    expect(polls[0]!.at - authorization!.at).toBeGreaterThanOrEqual(990);
    expect(polls[1]!.at - polls[0]!.at).toBeGreaterThanOrEqual(5_990);
    expect(run.stderr).toContain('alice@interop.example');
  });

  for (const errorEncoding of ['json', 'form'] as const) {
    it(`403 unauthorized_client for an unknown client id (${errorEncoding === 'form' ? 'a form-encoded answer' : 'JSON'}): exit 2 naming the client id and how to fix it, no poll, nothing stored`, async () => {
      const server = await interop({ errorEncoding });
      const session = await world.session();
      expectExit(await addProvider(session, 'indie', server.url, ['--client-id', 'not-registered']), 0);
      const run = await session.run(['auth', 'login', '--provider', 'indie'], opts());
      expectExit(run, 2);
      expect(server.requestsTo('/device')).toMatchObject([{ status: 403, error: 'unauthorized_client' }]);
      expect(run.stderr).toMatch(
        /does not accept the client id "not-registered": (unknown client|unauthorized_client)\./,
      );
      expect(run.stderr).toContain('latchkey auth providers add indie --force --client-id ID');
      expect(server.requestsTo('/token')).toEqual([]);
      await expectNothingStored(session.configDir);
    });
  }
});

describe('interop leaks', () => {
  it('never shows a token, refresh token or device code outside auth token', () => {
    const runs = world.runs();
    expect(runs.length).toBeGreaterThan(3);
    assertNoSecretLeaks(runs, world.allSecrets());
  });
});
