/**
 * The loopback listener of `auth login --web` under hostile requests (issue 24), through the built binary
 * against a REAL oidc-provider: plain HTTP requests to the listener with a wrong or missing state, another
 * Host header (DNS rebinding), a callback from another issuer (RFC 9207), the time limit, and what the
 * command line refuses. The real sign-in, where there is one, is done by a REAL chromium.
 */
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertNoSecretLeaks } from '@latchkey/conformance/tools';
import { expectExit, expectNothingStored, textWatcher, RUN_TIMEOUT_MS } from './harness.js';
import { OauthWorld, addProvider, opts } from './oauth-support.js';
import { authorizationUrlIn, freshPage, launchChromium } from './browser-support.js';

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

/** A GET to the listener with any Host header, as an attacker's page or process could send it. */
function get(url: string, host?: string): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: `${target.pathname}${target.search}`,
        headers: { host: host ?? target.host, connection: 'close' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Starts `auth login --provider corp-idp --web` and returns the authorization URL it printed. */
async function startWebLogin(env: Record<string, string> = {}, extra: string[] = []) {
  const session = world.sessions.at(-1)!;
  const watcher = textWatcher();
  const { done } = session.spawn(['auth', 'login', '--provider', 'corp-idp', '--web', ...extra], {
    env,
    timeoutMs: RUN_TIMEOUT_MS,
    onStderr: (chunk) => watcher.feed(chunk),
  });
  const seen = await Promise.race([
    watcher.until((t) => authorizationUrlIn(t) !== undefined, 'the authorization URL'),
    done.then((r) => r.stderr),
  ]);
  const url = new URL(authorizationUrlIn(seen) ?? 'http://invalid.example/');
  return {
    done,
    watcher,
    url,
    redirectUri: url.searchParams.get('redirect_uri') ?? '',
    state: url.searchParams.get('state') ?? '',
  };
}

async function configured(options: Parameters<OauthWorld['server']>[0] = {}) {
  const server = await world.server({ accessTokenTtl: 600, ...options });
  const session = await world.session();
  expectExit(await addProvider(session, 'corp-idp', server.issuer), 0);
  return { server, session };
}

describe('the loopback listener of the built binary', () => {
  it('answers 400 to a wrong state, a missing state and another Host, keeps waiting, then takes the real browser', async () => {
    const { server, session } = await configured();
    const login = await startWebLogin();
    expect(login.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const port = new URL(login.redirectUri).port;

    const wrong = await get(`${login.redirectUri}?code=forged&state=not-the-state`);
    expect(wrong.status).toBe(400);
    expect(wrong.body).not.toContain('forged');
    expect((await get(`${login.redirectUri}?code=forged`)).status).toBe(400);
    for (const host of [`localhost:${port}`, `attacker.example:${port}`]) {
      // Even with the right state: a page of another origin rebound to 127.0.0.1 is not the browser's redirect.
      expect((await get(`${login.redirectUri}?code=forged&state=${login.state}`, host)).status).toBe(400);
    }
    expect((await get(login.redirectUri.replace('/callback', '/other'))).status).toBe(404);
    await login.watcher.until(
      (t) => (t.match(/still waiting/g) ?? []).length >= 4,
      'four "ignored ... still waiting" lines',
    );

    const { context, page } = await freshPage(browser);
    await page.goto(login.url.href);
    await page.click('#sign-in-alice');
    await page.waitForURL(/\/callback\?/);
    await context.close();
    const run = await login.done;
    expectExit(run, 0);
    expect(run.stderr).toContain(
      'Ignored a callback with a wrong state on the sign-in address (answered 400); still waiting.',
    );
    expect(run.stderr).toContain('Ignored a callback without state');
    expect(run.stderr).toContain('Ignored a request for another host name');
    // The forged code was never sent anywhere: one exchange, the browser's.
    const exchanges = server.requestsTo('token', 'authorization_code');
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.body.code).not.toBe('forged');
    // One-shot: replaying the browser's callback finds nobody listening.
    await expect(get(`${login.redirectUri}?code=again&state=${login.state}`)).rejects.toThrow(/ECONNREFUSED/);
    expect((await session.run(['auth', 'token', '--provider', 'corp-idp'], opts())).exitCode).toBe(0);
  });

  it('a callback with the right state from another issuer (RFC 9207): exit 1, no token request, nothing stored', async () => {
    const { server, session } = await configured();
    const login = await startWebLogin();
    const answer = await get(
      `${login.redirectUri}?code=mixed-up&state=${login.state}&iss=${encodeURIComponent('https://evil.example')}`,
    );
    expect(answer.status).toBe(400);
    const run = await login.done;
    expectExit(run, 1);
    expect(run.stderr).toContain('is from another issuer ("https://evil.example", expected');
    expect(server.requestsTo('token', 'authorization_code')).toEqual([]);
    await expectNothingStored(session.configDir);
  });

  it('a callback without iss from a server that always sends it: exit 1, nothing stored', async () => {
    const { server, session } = await configured();
    const login = await startWebLogin();
    expect((await get(`${login.redirectUri}?code=c&state=${login.state}`)).status).toBe(400);
    const run = await login.done;
    expectExit(run, 1);
    expect(run.stderr).toContain('names no issuer');
    expect(server.requestsTo('token', 'authorization_code')).toEqual([]);
    await expectNothingStored(session.configDir);
  });

  it('an error redirect with the right state ends the login with exit 4, its description cleaned of terminal controls', async () => {
    const { server, session } = await configured();
    const login = await startWebLogin();
    const description = encodeURIComponent('Policy says \u001b]0;owned\u0007no');
    const iss = encodeURIComponent(server.issuer);
    await get(
      `${login.redirectUri}?error=access_denied&error_description=${description}&state=${login.state}&iss=${iss}`,
    );
    const run = await login.done;
    expectExit(run, 4);
    expect(run.stderr).toContain('The sign-in was denied at 127.0.0.1');
    expect(run.stderr).toContain('Policy says no (access_denied)');
    expect(run.stderr).not.toContain('\u001b');
    await expectNothingStored(session.configDir);
  });

  it('nobody comes back within LATCHKEY_BROWSER_TIMEOUT: exit 4 "not approved in time", the listener closed', async () => {
    const { session } = await configured();
    const login = await startWebLogin({ LATCHKEY_BROWSER_TIMEOUT: '2' });
    const run = await login.done;
    expectExit(run, 4);
    expect(run.stderr).toContain(
      'The sign-in was not approved in time: no answer from the browser within 2 s.',
    );
    expect(run.stderr).toContain('latchkey auth login --provider corp-idp --web');
    await expect(get(`${login.redirectUri}?code=late&state=${login.state}`)).rejects.toThrow(/ECONNREFUSED/);
    await expectNothingStored(session.configDir);
  });
});

describe('what the command line refuses', () => {
  it('--paste without --web, --web and --device together, a bad LATCHKEY_BROWSER_TIMEOUT, --web for a device-only provider: exit 2', async () => {
    const server = await world.server();
    const session = await world.session();
    expectExit(
      await addProvider(session, 'dev-only', undefined, [
        '--device-authorization-url',
        server.endpoints.deviceAuthorization,
        '--token-url',
        server.endpoints.token,
      ]),
      0,
    );
    const paste = await session.run(['auth', 'login', '--provider', 'dev-only', '--paste'], opts());
    expectExit(paste, 2);
    expect(paste.stderr).toMatch(/--web/);
    const both = await session.run(['auth', 'login', '--provider', 'dev-only', '--web', '--device'], opts());
    expectExit(both, 2);
    const web = await session.run(['auth', 'login', '--provider', 'dev-only', '--web'], opts());
    expectExit(web, 2);
    expect(web.stderr).toContain('dev-only has no browser sign-in.');
    expect(web.stderr).toContain('latchkey auth login --provider dev-only');
    const timeout = await session.run(
      ['auth', 'login', '--provider', 'dev-only', '--web'],
      opts({ LATCHKEY_BROWSER_TIMEOUT: '5m' }),
    );
    expectExit(timeout, 2);
    expect(timeout.stderr).toContain('LATCHKEY_BROWSER_TIMEOUT must be a whole number of seconds');
    expect(server.requests.filter((r) => r.endpoint !== 'metadata')).toEqual([]);
  });
});

describe('hostile-callback leaks', () => {
  it('never shows a token or code verifier outside auth token', () => {
    const secrets = [
      ...world.allSecrets(),
      ...world.servers
        .flatMap((s) => s.requestsTo('token').map((r) => r.body.code_verifier ?? ''))
        .filter((v) => v !== ''),
    ];
    expect(secrets.length).toBeGreaterThan(0);
    assertNoSecretLeaks(world.runs(), secrets);
  });
});
