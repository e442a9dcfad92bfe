/**
 * The browser sign-in (issue 24) of a provider added by configuration, through the built `latchkey` binary,
 * against a REAL OpenID provider (panva's oidc-provider: PKCE required, S256 only, RFC 9207 `iss` in every
 * authorization response, native clients on any loopback port) and a REAL browser (Debian's chromium,
 * headless, driven by playwright-core): the person opens the URL latchkey printed, signs in or cancels on
 * the server's page, and the browser is sent back to latchkey's loopback listener.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertNoSecretLeaks } from '@latchkey/conformance/tools';
import { OIDC_PUBLIC_CLIENT_ID } from '@latchkey/testkit';
import { expectExit, expectNothingStored, expectSecretNotOnDisk, readIndex } from './harness.js';
import { OauthWorld, addProvider, opts, readProviders, resultOf } from './oauth-support.js';
import { browserLogin, freshPage, launchChromium } from './browser-support.js';

const world = new OauthWorld();
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterEach(() => world.cleanup());
afterAll(async () => {
  await browser?.close();
  await world.dispose();
});

describe('auth login --web, a configured provider, a real browser', () => {
  it('add -> login --web (sign in on the server page) -> the browser comes back -> stored; status and token say so', async () => {
    const server = await world.server({ accessTokenTtl: 600 });
    const session = await world.session();
    const add = await addProvider(session, 'corp-idp', server.issuer);
    expectExit(add, 0);
    expect(add.stderr).toContain('It signs in in the browser (--web) or with a device code (--device).');
    const stored = await readProviders(session.configDir);
    expect(stored?.doc.providers['corp-idp']).toMatchObject({
      authorizationUrl: server.endpoints.authorization,
      deviceAuthorizationUrl: server.endpoints.deviceAuthorization,
      issParameterSupported: true,
      codeChallengeMethods: ['S256'],
    });

    const { context, page } = await freshPage(browser);
    let landed = '';
    const { run, url } = await browserLogin(session, ['--provider', 'corp-idp', '--web'], async (address) => {
      await page.goto(address);
      await page.click('#sign-in-alice');
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
      landed = (await page.textContent('body')) ?? '';
    });
    await context.close();
    expectExit(run, 0);
    expect(run.stdout).toBe('');
    expect(landed).toContain('Signed in to latchkey');
    expect(landed).toContain('return to the terminal');
    expect(run.stderr).toContain('Signed in with the browser (authorization code + PKCE).');
    expect(run.stderr).toMatch(/Waiting for the browser to come back to http:\/\/127\.0\.0\.1:\d+\/callback/);

    // What the server saw: S256 PKCE, our state, a loopback redirect URI on an ephemeral port.
    const [authorize] = server.requestsTo('authorization');
    expect(authorize!.query).toMatchObject({
      response_type: 'code',
      client_id: OIDC_PUBLIC_CLIENT_ID,
      code_challenge_method: 'S256',
      scope: 'openid offline_access',
    });
    expect(url).toContain(server.endpoints.authorization);
    const redirectUri = authorize!.query.redirect_uri!;
    expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:(\d+)\/callback$/);
    expect(Number(new URL(redirectUri).port)).toBeGreaterThan(1023);
    const [exchange] = server.requestsTo('token', 'authorization_code');
    expect(exchange).toMatchObject({
      status: 200,
      body: { redirect_uri: redirectUri, client_id: OIDC_PUBLIC_CLIENT_ID },
    });
    expect(exchange!.body.code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The listener is gone: one-shot.
    await expect(fetch(redirectUri)).rejects.toThrow();

    const accessToken = String(exchange!.answer!.access_token);
    const refreshToken = String(exchange!.answer!.refresh_token);
    const index = await readIndex(session.configDir);
    expect(index?.accounts).toMatchObject([
      { provider: 'corp-idp', account: 'alice', method: 'browser', baseUrl: server.issuer },
    ]);
    await expectSecretNotOnDisk(session.configDir, accessToken);
    await expectSecretNotOnDisk(session.configDir, refreshToken);

    const token = await session.run(['auth', 'token', '--provider', 'corp-idp'], opts());
    expectExit(token, 0);
    expect(token.stdout).toBe(`${accessToken}\n`);
    const status = await session.run(['auth', 'status', '--provider', 'corp-idp'], opts());
    expectExit(status, 0);
    expect(status.stdout).toMatch(/Signed in: +with the browser \(authorization code \+ PKCE\)/);
    const json = await session.run(['auth', 'status', '--provider', 'corp-idp', '--json'], opts());
    expect(resultOf<{ credentials: Array<Record<string, unknown>> }>(json).credentials[0]).toMatchObject({
      method: 'browser',
      refreshable: true,
    });
  });

  it("Cancel on the server page: exit 4 with the server's words, nothing stored, the page says to return to the terminal", async () => {
    const server = await world.server();
    const session = await world.session();
    expectExit(await addProvider(session, 'corp-idp', server.issuer), 0);
    const { context, page } = await freshPage(browser);
    let landed = '';
    const { run } = await browserLogin(session, ['--provider', 'corp-idp', '--web'], async (address) => {
      await page.goto(address);
      await page.click('#cancel');
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
      landed = (await page.textContent('body')) ?? '';
    });
    await context.close();
    expectExit(run, 4);
    expect(run.stderr).toContain('The sign-in was denied at 127.0.0.1');
    expect(run.stderr).toContain('The user cancelled the sign-in (access_denied)');
    expect(landed).toContain('Return to the terminal');
    expect(server.requestsTo('token', 'authorization_code')).toEqual([]);
    await expectNothingStored(session.configDir);
  });
});

describe('client registration (RFC 7591) when --client-id is left out', () => {
  it('registers a public native client, stores only its id, says so; the browser sign-in then works with it', async () => {
    const server = await world.server({ accessTokenTtl: 600 });
    const session = await world.session();
    const add = await session.run(
      ['auth', 'providers', 'add', 'corp-idp', '--issuer', server.issuer],
      opts(),
    );
    expectExit(add, 0);
    const [registration] = server.requestsTo('registration');
    expect(registration).toMatchObject({ method: 'POST', status: 201 });
    const sent = JSON.parse(registration!.rawBody) as Record<string, unknown>;
    expect(sent).toMatchObject({
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback'],
      response_types: ['code'],
      client_name: 'latchkey',
    });
    expect(sent.grant_types).toEqual(
      expect.arrayContaining([
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code',
      ]),
    );
    const clientId = String(registration!.answer!.client_id);
    expect(add.stderr).toContain(
      `Registered latchkey as a public client at ${server.endpoints.registration}: client id ${clientId} (no secret).`,
    );
    const stored = await readProviders(session.configDir);
    expect(stored?.doc.providers['corp-idp']).toMatchObject({ clientId, registeredClient: true });
    expect(stored?.doc.providers['corp-idp']).not.toHaveProperty('clientSecretEnv');
    // Nothing the server answered beyond the id is kept: no registration access token, no secret.
    expect(stored?.text).not.toContain(String(registration!.answer!.registration_access_token));

    const { context, page } = await freshPage(browser);
    const { run } = await browserLogin(session, ['--provider', 'corp-idp', '--web'], async (address) => {
      await page.goto(address);
      await page.click('#sign-in-alice');
      await page.waitForURL(/\/callback\?/);
    });
    await context.close();
    expectExit(run, 0);
    expect(server.requestsTo('authorization')[0]!.query.client_id).toBe(clientId);
    expect(server.requestsTo('token', 'authorization_code')[0]).toMatchObject({
      status: 200,
      body: { client_id: clientId },
    });
  });

  it('no registration endpoint and no --client-id: exit 2 that says to pass --client-id; nothing stored, nothing registered', async () => {
    const server = await world.server({ registration: false });
    const session = await world.session();
    const add = await session.run(
      ['auth', 'providers', 'add', 'corp-idp', '--issuer', server.issuer],
      opts(),
    );
    expectExit(add, 2);
    expect(add.stderr).toContain('--client-id is required');
    expect(add.stderr).toContain('offers no client registration (RFC 7591)');
    expect(add.stderr).toContain(
      `latchkey auth providers add corp-idp --issuer ${server.issuer} --client-id ID`,
    );
    expect(await readProviders(session.configDir)).toBeUndefined();
  });

  it('a registration the server refuses: exit 1 in its words, nothing stored', async () => {
    const server = await world.server();
    const session = await world.session();
    server.failNext('registration', { status: 400, error: 'invalid_client_metadata' });
    const add = await session.run(
      ['auth', 'providers', 'add', 'corp-idp', '--issuer', server.issuer],
      opts(),
    );
    expectExit(add, 1);
    expect(add.stderr).toContain('refused to register latchkey as a client: injected by the test.');
    expect(add.stderr).toContain('--client-id');
    expect(await readProviders(session.configDir)).toBeUndefined();
  });
});

describe('browser sign-in leaks', () => {
  it('never shows a token, refresh token or code verifier outside auth token', () => {
    const runs = world.runs();
    const secrets = [
      ...world.allSecrets(),
      ...world.servers
        .flatMap((s) => s.requestsTo('token').map((r) => r.body.code_verifier ?? ''))
        .filter((v) => v !== ''),
    ];
    expect(runs.length).toBeGreaterThan(4);
    expect(secrets.length).toBeGreaterThan(2);
    assertNoSecretLeaks(runs, secrets);
  });
});
