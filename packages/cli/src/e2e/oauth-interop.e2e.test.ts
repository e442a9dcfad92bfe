/**
 * OAuth servers as they really are (issue 25), through the built `latchkey` binary: what an independent
 * OpenID Connect server did that the other tests' servers do not. Against the REAL oidc-provider where it
 * can give the answer: a server that advertises `openid` but no `offline_access` (openid is asked for), a
 * client the server limits to some scopes (`invalid_scope`: exit 2 saying to pass --scope), a device code
 * that lives 12 s (shown as 12 seconds, not the poll loop's 30 s floor).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks } from '@latchkey/conformance/tools';
import { expectExit, expectNothingStored } from './harness.js';
import {
  DEVICE_GRANT,
  OauthWorld,
  addProvider,
  deviceLogin,
  opts,
  storedProviders,
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
    // The loop (at least 30 s) kept polling past the 12 s; the server's own answer ended it (oidc-provider
    // has forgotten the code by then: invalid_grant, as a store with expiring records answers).
    const [authorization] = server.requestsTo('device_authorization');
    const last = server.requestsTo('token', DEVICE_GRANT).at(-1)!;
    expect(last.at - authorization!.at).toBeGreaterThanOrEqual(12_000);
    expect(last).toMatchObject({
      status: 400,
      error: expect.stringMatching(/^(expired_token|invalid_grant)$/),
    });
    await expectNothingStored(session.configDir);
  });
});

describe('interop leaks', () => {
  it('never shows a token, refresh token or device code outside auth token', () => {
    const runs = world.runs();
    expect(runs.length).toBeGreaterThan(3);
    assertNoSecretLeaks(runs, world.allSecrets());
  });
});
