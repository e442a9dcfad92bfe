/**
 * A provider added by configuration (issue 13), through the built `latchkey` binary, against a REAL OpenID
 * provider (panva's oidc-provider, in-process on 127.0.0.1): discovery (OIDC and RFC 8414, and a document
 * at an address of its own with --discovery-url, held to the issuer rules), explicit
 * endpoints, the https-or-loopback rule, names that shadow a bundled provider, the device login with
 * identity from userinfo, status (expiry, refresh token held), `auth token`, exec's variable, logout's
 * revocations, a failing revocation endpoint, one that wants client authentication (401), remove with and without --force, a confidential client, and
 * the leak check. Refresh (expiry, rotation, 20 concurrent processes, invalid_grant) is in
 * oauth-refresh.e2e.test.ts.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, startEmulatorServer } from '@latchkey/conformance/tools';
import {
  OIDC_CONFIDENTIAL_CLIENT_ID,
  OIDC_CONFIDENTIAL_CLIENT_SECRET,
  OIDC_PUBLIC_CLIENT_ID,
} from '@latchkey/testkit';
import { expectExit, expectNothingStored, expectSecretNotOnDisk, readIndex } from './harness.js';
import {
  CONDITION_WAIT_MS,
  DEVICE_GRANT,
  OauthWorld,
  addProvider,
  deviceLogin,
  opts,
  readProviders,
  resultOf,
  storedProviders,
  execTokenHash,
  sha256,
} from './oauth-support.js';

const world = new OauthWorld();
afterEach(() => world.cleanup());
afterAll(() => world.dispose());

describe('a provider added by OIDC discovery', () => {
  it('add -> providers -> login (device flow, userinfo identity) -> status -> token -> exec -> logout revokes both tokens', async () => {
    // No `interval` in the device authorization answer, as oidc-provider sends it.
    const server = await world.server({ accessTokenTtl: 600, pollInterval: undefined });
    const session = await world.session();

    const add = await addProvider(session, 'corp-idp', server.issuer);
    expectExit(add, 0);
    expect(add.stdout).toBe('');
    expect(add.stderr).toContain('corp-idp');
    expect(add.stderr).toContain('latchkey auth login --provider corp-idp');
    // RFC 8414's document first (oidc-provider has none: 404), then OIDC discovery.
    expect(server.requestsTo('metadata').map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/.well-known/oauth-authorization-server', 404],
      ['GET', '/.well-known/openid-configuration', 200],
    ]);
    const stored = await readProviders(session.configDir);
    expect(stored?.mode).toBe(0o600);
    expect(stored?.doc.version).toBe(1);
    expect(stored?.doc.providers['corp-idp']).toMatchObject({
      issuer: server.issuer,
      clientId: OIDC_PUBLIC_CLIENT_ID,
      encoding: 'form',
      deviceAuthorizationUrl: server.endpoints.deviceAuthorization,
      tokenUrl: server.endpoints.token,
      revocationUrl: server.endpoints.revocation,
      userinfoUrl: server.endpoints.userinfo,
    });

    const list = await session.run(['auth', 'providers'], opts());
    expectExit(list, 0);
    const row = list.stdout.split('\n').find((line) => line.includes('corp-idp')) ?? '';
    expect(row).toContain('configured');
    expect(list.stdout).toContain(server.issuer);

    const { run: login, userCode } = await deviceLogin(session, 'corp-idp', (code) => server.approve(code));
    expectExit(login, 0);
    expect(login.stdout).toBe('');
    expect(userCode).not.toBe('');
    // Without --scope, offline_access (listed in scopes_supported) and openid (an OIDC server) are asked for.
    const [authorization] = server.requestsTo('device_authorization');
    expect(authorization).toMatchObject({
      method: 'POST',
      contentType: expect.stringMatching(/^application\/x-www-form-urlencoded/),
      body: { client_id: OIDC_PUBLIC_CLIENT_ID, scope: 'openid offline_access' },
      status: 200,
    });
    // RFC 8628: oidc-provider sends no `interval`, so the client waits the default 5 s between polls.
    const polls = server.requestsTo('token', DEVICE_GRANT);
    expect(polls.at(-1)).toMatchObject({ status: 200, body: { client_id: OIDC_PUBLIC_CLIENT_ID } });
    expect(polls[0]!.at - authorization!.at).toBeGreaterThanOrEqual(4_500);
    for (let i = 1; i < polls.length; i += 1) {
      expect(polls[i]!.at - polls[i - 1]!.at).toBeGreaterThanOrEqual(4_500);
    }
    // Identity from the userinfo endpoint: with the default scopes the server releases only `sub`.
    const userinfo = server.requestsTo('userinfo');
    expect(userinfo.length).toBeGreaterThanOrEqual(1);
    expect(userinfo[0]).toMatchObject({ authScheme: 'bearer', status: 200 });
    expect(login.stderr).toContain('alice');

    const issued = polls.at(-1)!.answer!;
    const accessToken = String(issued.access_token);
    const refreshToken = String(issued.refresh_token);
    expect(refreshToken.length).toBeGreaterThan(10);
    const index = await readIndex(session.configDir);
    expect(index?.accounts).toMatchObject([
      { provider: 'corp-idp', account: 'alice', baseUrl: server.issuer },
    ]);
    await expectSecretNotOnDisk(session.configDir, accessToken);
    await expectSecretNotOnDisk(session.configDir, refreshToken);

    const statusJson = await session.run(['auth', 'status', '--provider', 'corp-idp', '--json'], opts());
    expectExit(statusJson, 0);
    const rows = resultOf<{ credentials: Array<Record<string, unknown>> }>(statusJson).credentials;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ refreshable: true });
    const expiresAt = Date.parse(String(rows[0]!.expiresAt));
    const expectedExpiry = polls.at(-1)!.at + 600_000;
    expect(Math.abs(expiresAt - expectedExpiry)).toBeLessThan(15_000);
    const status = await session.run(['auth', 'status', '--provider', 'corp-idp'], opts());
    expectExit(status, 0);
    expect(status.stdout).toContain('alice');
    expect(status.stdout).toMatch(/expires/i);
    expect(status.stdout).toMatch(/refresh/i);

    // The stored token has 10 minutes left: printed as it is, without a request.
    const before = server.requests.length;
    const token = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
    expectExit(token, 0);
    expect(token.stdout).toBe(`${accessToken}\n`);
    expect(server.requests.length).toBe(before);

    // LATCHKEY_CORP_IDP_TOKEN in the environment wins over the stored token, as for every provider.
    const fromEnv = await session.run(
      ['auth', 'token', '--provider', 'corp-idp'],
      opts({ LATCHKEY_CORP_IDP_TOKEN: 'env-token-for-corp-idp' }),
    );
    expectExit(fromEnv, 0);
    expect(fromEnv.stdout).toBe('env-token-for-corp-idp\n');
    expect(server.requests.length).toBe(before);

    // exec hands it to the command as LATCHKEY_CORP_IDP_TOKEN (the command prints only its hash).
    const exec = await execTokenHash(session);
    expectExit(exec, 0);
    expect(exec.stdout).toBe(sha256(accessToken));

    expect(await server.isActive(accessToken)).toBe(true);
    expect(await server.isActive(refreshToken)).toBe(true);
    const logout = await session.run(['auth', 'logout', '--provider', 'corp-idp'], opts());
    expectExit(logout, 0);
    expect(logout.stdout).toBe('');
    // RFC 7009: the refresh token first, then the access token, each form-encoded with the client id.
    expect(
      server.requestsTo('revocation').map((r) => [r.body.token_type_hint, r.body.token, r.status]),
    ).toEqual([
      ['refresh_token', refreshToken, 200],
      ['access_token', accessToken, 200],
    ]);
    for (const r of server.requestsTo('revocation')) {
      expect(r.contentType).toMatch(/^application\/x-www-form-urlencoded/);
      // The bytes on the wire are that form, nothing else.
      expect(Object.fromEntries(new URLSearchParams(r.rawBody))).toEqual(r.body);
      expect(r.body.client_id).toBe(OIDC_PUBLIC_CLIENT_ID);
    }
    expect(await server.isActive(accessToken)).toBe(false);
    expect(await server.isActive(refreshToken)).toBe(false);
    expect((await readIndex(session.configDir))?.accounts).toEqual([]);
    const after = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
    expectExit(after, 4);
    expect(after.stdout).toBe('');
    // The definition stays: only `auth providers remove` removes it.
    expect(Object.keys(await storedProviders(session.configDir))).toEqual(['corp-idp']);
  });

  it('RFC 8414 metadata at an issuer with a path is found; --scope is sent exactly and the name comes from userinfo', async () => {
    const server = await world.server({
      issuerPath: '/realms/test',
      metadata: 'rfc8414',
      accessTokenTtl: 600,
    });
    const session = await world.session();
    const add = await addProvider(session, 'keycloakish', server.issuer, [
      '--scope',
      'openid',
      '--scope',
      'profile',
      '--scope',
      'email',
      '--scope',
      'offline_access',
    ]);
    expectExit(add, 0);
    // The well-known segment goes before the issuer's path (RFC 8414 section 3); found there, so no more.
    expect(server.requestsTo('metadata').map((r) => [r.path, r.status])).toEqual([
      ['/.well-known/oauth-authorization-server/realms/test', 200],
    ]);
    expect((await storedProviders(session.configDir)).keycloakish).toMatchObject({
      issuer: server.issuer,
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      deviceAuthorizationUrl: `${server.issuer}/device/auth`,
      tokenUrl: `${server.issuer}/token`,
      revocationUrl: `${server.issuer}/token/revocation`,
      userinfoUrl: `${server.issuer}/me`,
    });

    const { run } = await deviceLogin(session, 'keycloakish', (code) => server.approve(code));
    expectExit(run, 0);
    expect(server.requestsTo('device_authorization')[0]?.body.scope).toBe(
      'openid profile email offline_access',
    );
    expect(run.stderr).toContain('Alice Example');
    const status = await session.run(['auth', 'status', '--provider', 'keycloakish'], opts());
    expectExit(status, 0);
    expect(status.stdout).toContain('Alice Example');
  });

  it('metadata only under a sub-path: --discovery-url reads exactly that document, keeps the issuer it names, and signs in', async () => {
    const at = '/api/oidc/.well-known/openid-configuration';
    const server = await world.server({ metadataAt: at, accessTokenTtl: 600 });
    const session = await world.session();
    // The issuer's well-known addresses have nothing: --issuer alone cannot find the server.
    const byIssuer = await addProvider(session, 'subpath', server.issuer);
    expectExit(byIssuer, 1);
    expect(byIssuer.stderr).toContain('publishes no OAuth server metadata');
    const before = server.requestsTo('metadata').length;

    const add = await addProvider(session, 'subpath', undefined, [
      '--discovery-url',
      `${server.url}${at}`,
      '--json',
    ]);
    expectExit(add, 0);
    // One request, to exactly that address.
    expect(
      server
        .requestsTo('metadata')
        .slice(before)
        .map((r) => [r.method, r.path, r.status]),
    ).toEqual([['GET', at, 200]]);
    // The issuer is the one the document names (not the document's address), and accounts bind to it.
    expect(resultOf(add)).toMatchObject({ issuer: server.issuer, baseUrl: server.issuer });
    expect((await storedProviders(session.configDir)).subpath).toMatchObject({
      issuer: server.issuer,
      deviceAuthorizationUrl: server.endpoints.deviceAuthorization,
      tokenUrl: server.endpoints.token,
      revocationUrl: server.endpoints.revocation,
      userinfoUrl: server.endpoints.userinfo,
      baseUrl: server.issuer,
    });
    const { run } = await deviceLogin(session, 'subpath', (code) => server.approve(code));
    expectExit(run, 0);
    expect(run.stderr).toContain('alice');
    // With --issuer too, it must be the issuer the document names, character for character.
    const mismatch = await addProvider(session, 'subpath2', `${server.issuer}/`, [
      '--discovery-url',
      `${server.url}${at}`,
    ]);
    expectExit(mismatch, 2);
    expect(mismatch.stderr).toContain('describes a different issuer');
    expect(Object.keys(await storedProviders(session.configDir))).toEqual(['subpath']);
  });

  it('explicit --*-url flags win over discovered ones', async () => {
    const server = await world.server();
    const session = await world.session();
    const add = await addProvider(session, 'override', server.issuer, [
      '--revocation-url',
      `${server.url}/elsewhere/revoke`,
    ]);
    expectExit(add, 0);
    expect((await storedProviders(session.configDir)).override).toMatchObject({
      tokenUrl: server.endpoints.token,
      revocationUrl: `${server.url}/elsewhere/revoke`,
    });
  });
});

describe('a provider given by explicit endpoints, with a confidential client', () => {
  it('no --issuer, --client-secret-env: the secret is sent as HTTP Basic from the environment and never stored', async () => {
    const server = await world.server({ accessTokenTtl: 600 });
    const session = await world.session();
    world.secrets.push(OIDC_CONFIDENTIAL_CLIENT_SECRET);
    const env = { CORP_CLIENT_SECRET: OIDC_CONFIDENTIAL_CLIENT_SECRET };
    const add = await addProvider(
      session,
      'corp-conf',
      undefined,
      [
        '--client-id',
        OIDC_CONFIDENTIAL_CLIENT_ID,
        '--client-secret-env',
        'CORP_CLIENT_SECRET',
        '--device-authorization-url',
        server.endpoints.deviceAuthorization,
        '--token-url',
        server.endpoints.token,
        '--revocation-url',
        server.endpoints.revocation,
        '--userinfo-url',
        server.endpoints.userinfo,
        '--scope',
        'openid',
        '--scope',
        'profile',
        '--scope',
        'offline_access',
      ],
      env,
    );
    expectExit(add, 0);
    const stored = await readProviders(session.configDir);
    expect(stored?.doc.providers['corp-conf']).toMatchObject({
      clientId: OIDC_CONFIDENTIAL_CLIENT_ID,
      clientSecretEnv: 'CORP_CLIENT_SECRET',
      deviceAuthorizationUrl: server.endpoints.deviceAuthorization,
      tokenUrl: server.endpoints.token,
    });
    expect(stored?.text).not.toContain(OIDC_CONFIDENTIAL_CLIENT_SECRET);
    // No metadata was asked for: the endpoints were all given.
    expect(server.requests).toEqual([]);

    const { run } = await deviceLogin(session, 'corp-conf', (code) => server.approve(code), { env });
    expectExit(run, 0);
    expect(run.stderr).toContain('Alice Example');
    for (const r of [...server.requestsTo('device_authorization'), ...server.requestsTo('token')]) {
      expect(r.basic).toEqual({
        clientId: OIDC_CONFIDENTIAL_CLIENT_ID,
        clientSecret: OIDC_CONFIDENTIAL_CLIENT_SECRET,
      });
    }
    await expectSecretNotOnDisk(session.configDir, OIDC_CONFIDENTIAL_CLIENT_SECRET);

    const logout = await session.run(['auth', 'logout', '--provider', 'corp-conf'], opts(env));
    expectExit(logout, 0);
    expect(
      server.requestsTo('revocation').map((r) => [r.body.token_type_hint, r.status, r.basic?.clientId]),
    ).toEqual([
      ['refresh_token', 200, OIDC_CONFIDENTIAL_CLIENT_ID],
      ['access_token', 200, OIDC_CONFIDENTIAL_CLIENT_ID],
    ]);
  });
});

describe('without a userinfo endpoint, and through references', () => {
  it('identity from the ID token claims; inject resolves latchkey://NAME, refreshing an expired token first', async () => {
    const server = await world.server({ accessTokenTtl: 2 });
    const session = await world.session();
    const add = await addProvider(session, 'no-userinfo', undefined, [
      '--device-authorization-url',
      server.endpoints.deviceAuthorization,
      '--token-url',
      server.endpoints.token,
      '--scope',
      'openid',
      '--scope',
      'offline_access',
    ]);
    expectExit(add, 0);
    const { run } = await deviceLogin(session, 'no-userinfo', (code) => server.approve(code));
    expectExit(run, 0);
    const issued = server.requestsTo('token', DEVICE_GRANT).at(-1)!.answer!;
    expect(issued.id_token).toBeTypeOf('string');
    // The ID token's `sub` names the account; no userinfo endpoint was configured, none was asked.
    expect(server.requestsTo('userinfo')).toEqual([]);
    expect(run.stderr).toContain('alice');
    expect((await readIndex(session.configDir))?.accounts).toMatchObject([
      { provider: 'no-userinfo', account: 'alice' },
    ]);

    // A template reference, written to a 0600 file (never to stdout here): the token is due, so it is refreshed.
    await expect
      .poll(() => server.isActive(String(issued.access_token)), { timeout: CONDITION_WAIT_MS, interval: 250 })
      .toBe(false);
    const out = join(session.homeDir, 'app.env');
    const inject = await session.run(['inject', '-o', out], opts({}, 'TOKEN={{ latchkey://no-userinfo }}\n'));
    expectExit(inject, 0);
    expect(inject.stdout).toBe('');
    const refreshed = server.requestsTo('token', 'refresh_token');
    expect(refreshed).toHaveLength(1);
    expect(refreshed[0]).toMatchObject({
      body: { refresh_token: String(issued.refresh_token) },
      status: 200,
    });
    expect(await readFile(out, 'utf8')).toBe(`TOKEN=${String(refreshed[0]!.answer!.access_token)}\n`);
    expect((await stat(out)).mode & 0o777).toBe(0o600);

    // Nothing could ask the server whether the token is good: "not checked", never "valid" (exit 0).
    const status = await session.run(['auth', 'status', '--provider', 'no-userinfo'], opts());
    expectExit(status, 0);
    expect(status.stdout).toContain('- alice (active): not checked');
    expect(status.stdout).toMatch(/Check: +not checked: the server has no userinfo endpoint/);
    expect(status.stdout).not.toContain('✓');
    const json = await session.run(['auth', 'status', '--provider', 'no-userinfo', '--json'], opts());
    expectExit(json, 0);
    expect(JSON.parse(json.stdout).result.credentials).toMatchObject([
      { account: 'alice', validity: 'unchecked', check: expect.stringContaining('no userinfo endpoint') },
    ]);
    expect(server.requestsTo('userinfo')).toEqual([]);
  });
});

describe('what `auth providers add` refuses (exit 2, nothing stored)', () => {
  it('a plain-http issuer or endpoint that is not loopback, named in the error', async () => {
    const session = await world.session();
    const issuer = await addProvider(session, 'plain', 'http://idp.example.com');
    expectExit(issuer, 2);
    expect(issuer.stderr).toContain('https://');
    expect(issuer.stderr).toContain('--issuer');

    const server = await world.server();
    const token = await addProvider(session, 'plain', undefined, [
      '--device-authorization-url',
      server.endpoints.deviceAuthorization,
      '--token-url',
      'http://idp.example.com/token',
    ]);
    expectExit(token, 2);
    expect(token.stderr).toContain('--token-url');
    expect(await storedProviders(session.configDir)).toEqual({});
  });

  it('discovered metadata naming a plain-http endpoint off this machine, or another issuer', async () => {
    // A hostile metadata server: its answer says what the test sets in `doc`.
    let doc: (issuer: string) => Record<string, unknown> = () => ({});
    const metadata = await startEmulatorServer({
      async handle(req, res) {
        if ((req.url ?? '').startsWith('/.well-known/')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(doc(`http://${req.headers.host ?? ''}`)));
          return;
        }
        res.writeHead(404).end();
      },
    });
    try {
      const session = await world.session();
      doc = (issuer) => ({
        issuer,
        device_authorization_endpoint: `${issuer}/device`,
        token_endpoint: 'http://evil.example.com/token',
        grant_types_supported: [DEVICE_GRANT, 'refresh_token'],
      });
      const insecure = await addProvider(session, 'hostile', metadata.url);
      expectExit(insecure, 2);
      expect(insecure.stderr).toContain('token_endpoint');
      expect(insecure.stderr).toContain('https://');

      // RFC 8414 section 3.3: the document must name the issuer it was asked for.
      doc = (issuer) => ({
        issuer: 'https://idp.other.example',
        device_authorization_endpoint: `${issuer}/device`,
        token_endpoint: `${issuer}/token`,
      });
      const mismatch = await addProvider(session, 'hostile', metadata.url);
      expectExit(mismatch, 2);
      expect(mismatch.stderr).toContain('https://idp.other.example');
      expect(await storedProviders(session.configDir)).toEqual({});
    } finally {
      await metadata.close();
    }
  });

  it("--discovery-url: a document naming another server's issuer is refused unless --issuer confirms it (mix-up defence)", async () => {
    let doc: (base: string) => Record<string, unknown> = () => ({});
    const hostile = await startEmulatorServer({
      async handle(req, res) {
        if ((req.url ?? '') === '/api/oidc/.well-known/openid-configuration') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(doc(`http://${req.headers.host ?? ''}`)));
          return;
        }
        res.writeHead(404).end();
      },
    });
    try {
      const session = await world.session();
      const url = `${hostile.url}/api/oidc/.well-known/openid-configuration`;
      doc = (base) => ({
        issuer: 'https://accounts.other.example',
        device_authorization_endpoint: `${base}/device`,
        token_endpoint: `${base}/token`,
      });
      const claimed = await addProvider(session, 'claimed', undefined, ['--discovery-url', url]);
      expectExit(claimed, 2);
      expect(claimed.stderr).toContain('"https://accounts.other.example"');
      expect(claimed.stderr).toContain(`which is not on ${hostile.url}`);
      expect(claimed.stderr).toContain('pass --issuer https://accounts.other.example with --discovery-url');
      expect(await storedProviders(session.configDir)).toEqual({});
      // The user vouches for that issuer: then it is the provider's, and what callbacks are held against.
      const confirmed = await addProvider(session, 'claimed', 'https://accounts.other.example', [
        '--discovery-url',
        url,
      ]);
      expectExit(confirmed, 0);
      expect((await storedProviders(session.configDir)).claimed).toMatchObject({
        issuer: 'https://accounts.other.example',
        tokenUrl: `${hostile.url}/token`,
      });

      // RFC 8414 section 2 for the issuer it names: no query, no fragment, https off this machine.
      for (const issuer of [`${hostile.url}?tenant=1`, 'http://idp.other.example']) {
        doc = (base) => ({ issuer, device_authorization_endpoint: `${base}/d`, token_endpoint: `${base}/t` });
        const bad = await addProvider(session, 'bad-issuer', undefined, ['--discovery-url', url]);
        expectExit(bad, 2);
      }
      // Not a metadata document at all.
      const missing = await addProvider(session, 'missing', undefined, [
        '--discovery-url',
        `${hostile.url}/nothing-here`,
      ]);
      expectExit(missing, 1);
      expect(missing.stderr).toContain('is not an OAuth server metadata document: HTTP 404');
      expect(Object.keys(await storedProviders(session.configDir))).toEqual(['claimed']);
    } finally {
      await hostile.close();
    }
  });

  it('a NAME that shadows a bundled provider, a malformed NAME, and a second add of the same NAME without --force', async () => {
    const server = await world.server();
    const session = await world.session();
    const shadow = await addProvider(session, 'kaneo', server.issuer);
    expectExit(shadow, 2);
    expect(shadow.stderr).toContain('kaneo');
    const malformed = await addProvider(session, 'Bad_Name', server.issuer);
    expectExit(malformed, 2);
    expect(await storedProviders(session.configDir)).toEqual({});

    expectExit(await addProvider(session, 'twice', server.issuer), 0);
    const again = await addProvider(session, 'twice', server.issuer, ['--scope', 'openid']);
    expectExit(again, 2);
    expect(again.stderr).toContain('--force');
    expect((await storedProviders(session.configDir)).twice?.scopes).not.toEqual(['openid']);
    expectExit(await addProvider(session, 'twice', server.issuer, ['--scope', 'openid', '--force']), 0);
    expect((await storedProviders(session.configDir)).twice?.scopes).toEqual(['openid']);
  });
});

describe('logout and remove', () => {
  it('a failing revocation endpoint: one warning naming the host, the local copy deleted, exit 0', async () => {
    const server = await world.server({ accessTokenTtl: 600 });
    const session = await world.session();
    expectExit(await addProvider(session, 'corp-idp', server.issuer), 0);
    expectExit((await deviceLogin(session, 'corp-idp', (code) => server.approve(code))).run, 0);
    server.failNext('revocation', { status: 503, times: 2 });
    const logout = await session.run(['auth', 'logout', '--provider', 'corp-idp'], opts());
    expectExit(logout, 0);
    expect(logout.stderr).toMatch(/Could not revoke[^\n]*127\.0\.0\.1[^\n]*local copy was deleted/);
    expect(server.requestsTo('revocation').length).toBeGreaterThanOrEqual(1);
    expect((await readIndex(session.configDir))?.accounts).toEqual([]);
    expectExit(await session.run(['auth', 'token', '--provider', 'corp-idp'], opts()), 4);
  });

  it('revocation answered 401 for a public client: the warning says the session stays valid until the refresh token expires, how to end it, and --client-secret-env', async () => {
    const server = await world.server({ accessTokenTtl: 600 });
    const session = await world.session();
    expectExit(await addProvider(session, 'corp-idp', server.issuer), 0);
    expectExit((await deviceLogin(session, 'corp-idp', (code) => server.approve(code))).run, 0);
    const issued = server.requestsTo('token', DEVICE_GRANT).at(-1)!.answer!;
    // A server that revokes only for an authenticated client: a bare 401, as such servers send.
    server.failNext('revocation', { status: 401, body: '', times: 2 });
    const logout = await session.run(['auth', 'logout', '--provider', 'corp-idp'], opts());
    expectExit(logout, 0);
    const host = new URL(server.url).host;
    expect(logout.stderr).toContain(
      `! Could not revoke it on the server (${host}): ${host} did not revoke the refresh token: it revokes only for a client that authenticates, and latchkey is a public client there (HTTP 401); the local copy was deleted here anyway.`,
    );
    expect(logout.stderr).toContain(
      `The session stays valid at ${host} until its refresh token expires. To end it now, sign out of it at the server`,
    );
    expect(logout.stderr).toContain(
      `\`latchkey auth providers add corp-idp --force --issuer ${server.issuer} --client-id ID --client-secret-env VAR\``,
    );
    expect(server.requestsTo('revocation').map((r) => [r.body.token_type_hint, r.status])).toEqual([
      ['refresh_token', 401],
      ['access_token', 401],
    ]);
    // What the warning says is true: the server still honours the session.
    expect(await server.isActive(String(issued.refresh_token))).toBe(true);
    expect((await readIndex(session.configDir))?.accounts).toEqual([]);
  });

  it('remove refuses while accounts exist (naming them); --force logs them out with revocation and removes it', async () => {
    const server = await world.server({ accessTokenTtl: 600 });
    const session = await world.session();
    expectExit(await addProvider(session, 'corp-idp', server.issuer), 0);
    expectExit((await deviceLogin(session, 'corp-idp', (code) => server.approve(code))).run, 0);

    const refused = await session.run(['auth', 'providers', 'remove', 'corp-idp'], opts());
    expectExit(refused, 2);
    expect(refused.stderr).toContain('alice');
    expect(refused.stderr).toContain('--force');
    expect(Object.keys(await storedProviders(session.configDir))).toEqual(['corp-idp']);
    expect(server.requestsTo('revocation')).toEqual([]);

    const forced = await session.run(['auth', 'providers', 'remove', 'corp-idp', '--force'], opts());
    expectExit(forced, 0);
    expect(server.requestsTo('revocation').map((r) => [r.body.token_type_hint, r.status])).toEqual([
      ['refresh_token', 200],
      ['access_token', 200],
    ]);
    expect(await storedProviders(session.configDir)).toEqual({});
    await expectNothingStored(session.configDir);
    const list = await session.run(['auth', 'providers'], opts());
    expect(list.stdout).not.toContain('corp-idp');
    const unknown = await session.run(['auth', 'providers', 'remove', 'corp-idp'], opts());
    expectExit(unknown, 2);
  });

  it('logout --all revokes too (refresh token, then access token)', async () => {
    const server = await world.server({ accessTokenTtl: 600 });
    const session = await world.session();
    expectExit(await addProvider(session, 'corp-idp', server.issuer), 0);
    expectExit((await deviceLogin(session, 'corp-idp', (code) => server.approve(code))).run, 0);
    const issued = server.requestsTo('token', DEVICE_GRANT).at(-1)!.answer!;
    const logout = await session.run(['auth', 'logout', '--provider', 'corp-idp', '--all'], opts());
    expectExit(logout, 0);
    expect(
      server.requestsTo('revocation').map((r) => [r.body.token_type_hint, r.body.token, r.status]),
    ).toEqual([
      ['refresh_token', String(issued.refresh_token), 200],
      ['access_token', String(issued.access_token), 200],
    ]);
    await expectNothingStored(session.configDir);
  });

  it('a denied request: exit 4, nothing stored', async () => {
    const server = await world.server();
    const session = await world.session();
    expectExit(await addProvider(session, 'corp-idp', server.issuer), 0);
    const { run } = await deviceLogin(session, 'corp-idp', (code) => server.deny(code));
    expectExit(run, 4);
    expect(run.stderr).toMatch(/denied/i);
    await expectNothingStored(session.configDir);
  });
});

describe('configured-provider leaks', () => {
  it('never shows a token, refresh token, device code or client secret outside auth token', () => {
    const runs = world.runs();
    const secrets = world.allSecrets();
    expect(runs.length).toBeGreaterThan(20);
    expect(secrets.length).toBeGreaterThan(10);
    assertNoSecretLeaks(runs, secrets);
  });
});
