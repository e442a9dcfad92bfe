/**
 * The browser sign-in from afar and by resource (issue 24), through the built binary against a REAL
 * oidc-provider and a REAL chromium: `--web --paste` for a browser on another machine (the redirect back
 * never reaches this one; the person pastes the address it ended on), and `auth providers add --resource`
 * finding the authorization server from an API's RFC 9728 metadata or from its 401's hint.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertNoSecretLeaks, startEmulatorServer } from '@latchkey/conformance/tools';
import { expectExit, expectNothingStored, readIndex } from './harness.js';
import { OauthWorld, addProvider, opts, readProviders, resultOf } from './oauth-support.js';
import { browserLogin, freshPage, launchChromium, signInElsewhere } from './browser-support.js';

const world = new OauthWorld();
const closers: Array<() => Promise<void>> = [];
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await world.cleanup();
});
afterAll(async () => {
  await browser?.close();
  await world.dispose();
});

describe('auth login --web --paste: a browser on another machine', () => {
  it('prints the URL, reads the pasted address from standard input, finishes with the same checks', async () => {
    const server = await world.server({ accessTokenTtl: 600 });
    const session = await world.session();
    expectExit(await addProvider(session, 'corp-idp', server.issuer), 0);
    const { context, page } = await freshPage(browser);
    const { run } = await browserLogin(
      session,
      ['--provider', 'corp-idp', '--web', '--paste'],
      async (url, stdin) => {
        const ended = await signInElsewhere(page, url, '#sign-in-alice');
        expect(ended).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
        stdin.end(`${ended}\n`);
      },
      { keepStdinOpen: true },
    );
    await context.close();
    expectExit(run, 0);
    expect(run.stderr).toContain('On another machine that page does not load: copy the whole address');
    expect(run.stderr).not.toContain('Waiting for the browser to come back');
    expect(server.requestsTo('token', 'authorization_code')).toHaveLength(1);
    expect((await readIndex(session.configDir))?.accounts).toMatchObject([
      { account: 'alice', method: 'browser' },
    ]);
  });

  it('a pasted address that is not the redirect, or of another sign-in: refused, nothing stored', async () => {
    const server = await world.server();
    const session = await world.session();
    expectExit(await addProvider(session, 'corp-idp', server.issuer), 0);
    const elsewhere = await browserLogin(
      session,
      ['--provider', 'corp-idp', '--web', '--paste'],
      async (_url, stdin) => void stdin.end('https://example.com/callback?code=x&state=y\n'),
      { keepStdinOpen: true },
    );
    expectExit(elsewhere.run, 2);
    expect(elsewhere.run.stderr).toContain('That is not the address the browser ended on.');
    const other = await browserLogin(
      session,
      ['--provider', 'corp-idp', '--web', '--paste'],
      async (url, stdin) => {
        const redirect = new URL(url).searchParams.get('redirect_uri');
        stdin.end(`${redirect}?code=stolen&state=someone-elses\n`);
      },
      { keepStdinOpen: true },
    );
    expectExit(other.run, 1);
    expect(other.run.stderr).toContain('The pasted address is a callback with a wrong state');
    expect(server.requestsTo('token', 'authorization_code')).toEqual([]);
    await expectNothingStored(session.configDir);
  });
});

/** An API at 127.0.0.1 guarded by `issuer`: its metadata at the well-known address, or only the 401's hint. */
async function api(issuer: string, how: 'well-known' | 'hint') {
  const state = { url: '' };
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const server = await startEmulatorServer({
    handle: async (req: IncomingMessage, res: ServerResponse) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const document = {
        resource: `${state.url}/v1`,
        authorization_servers: [issuer],
        scopes_supported: ['openid'],
      };
      if (how === 'well-known' && path === '/.well-known/oauth-protected-resource/v1')
        return send(res, 200, document);
      if (how === 'hint' && path === '/meta/v1') return send(res, 200, document);
      if (path === '/v1') {
        return send(
          res,
          401,
          { error: 'unauthorized' },
          {
            'www-authenticate': `Bearer realm="api", resource_metadata="${state.url}/meta/v1"`,
          },
        );
      }
      send(res, 404, { error: 'not_found' });
    },
  });
  state.url = server.url;
  closers.push(server.close);
  return server.url;
}

describe('auth providers add --resource (RFC 9728)', () => {
  for (const how of ['well-known', 'hint'] as const) {
    it(`finds the authorization server from the API (${how}); the API is the base URL and the resource indicator`, async () => {
      const server = await world.server({ accessTokenTtl: 600 });
      const session = await world.session();
      const resource = `${await api(server.issuer, how)}/v1`;
      const add = await session.run(
        [
          'auth',
          'providers',
          'add',
          'corp-api',
          '--resource',
          resource,
          '--client-id',
          'latchkey-cli',
          '--json',
        ],
        opts(),
      );
      expectExit(add, 0);
      expect(add.stderr).toContain(`${resource} is guarded by ${server.issuer}`);
      expect(resultOf(add)).toMatchObject({ issuer: server.issuer, baseUrl: resource, resource });
      expect((await readProviders(session.configDir))?.doc.providers['corp-api']).toMatchObject({
        issuer: server.issuer,
        baseUrl: resource,
        resource,
        authorizationUrl: server.endpoints.authorization,
      });

      const { context, page } = await freshPage(browser);
      const { run } = await browserLogin(session, ['--provider', 'corp-api', '--web'], async (url) => {
        await page.goto(url);
        await page.click('#sign-in-alice');
        await page.waitForURL(/\/callback\?/);
      });
      await context.close();
      expectExit(run, 0);
      expect(server.requestsTo('authorization')[0]!.query.resource).toBe(resource);
      const status = await session.run(['auth', 'status', '--provider', 'corp-api', '--json'], opts());
      expect(resultOf<{ credentials: Array<Record<string, unknown>> }>(status).credentials[0]).toMatchObject({
        baseUrl: resource,
      });
      const reference = await session.run(['inject'], opts({}, 'BASE={{ latchkey://corp-api#base-url }}\n'));
      expectExit(reference, 0);
      expect(reference.stdout).toBe(`BASE=${resource}\n`);
    });
  }

  it('an API with no metadata and no hint, or --resource with --issuer: a clear error, nothing stored', async () => {
    const server = await world.server();
    const session = await world.session();
    const plain = await startEmulatorServer({
      handle: async (_req, res) => {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{}');
      },
    });
    closers.push(plain.close);
    const none = await session.run(
      ['auth', 'providers', 'add', 'corp-api', '--resource', `${plain.url}/v1`, '--client-id', 'x'],
      opts(),
    );
    expectExit(none, 1);
    expect(none.stderr).toContain('publishes no protected resource metadata (RFC 9728)');
    const both = await session.run(
      [
        'auth',
        'providers',
        'add',
        'corp-api',
        '--resource',
        `${plain.url}/v1`,
        '--issuer',
        server.issuer,
        '--client-id',
        'x',
      ],
      opts(),
    );
    expectExit(both, 2);
    expect(await readProviders(session.configDir)).toBeUndefined();
  });
});

describe('auth providers add --discovery-url', () => {
  it('reads the metadata at an address of its own; an issuer on another host is refused', async () => {
    const server = await world.server();
    const session = await world.session();
    const document = `${server.issuer}/.well-known/openid-configuration`;
    const add = await session.run(
      [
        'auth',
        'providers',
        'add',
        'corp-idp',
        '--discovery-url',
        document,
        '--client-id',
        'latchkey-cli',
        '--json',
      ],
      opts(),
    );
    expectExit(add, 0);
    expect(resultOf(add)).toMatchObject({
      issuer: server.issuer,
      authorizationUrl: server.endpoints.authorization,
      tokenUrl: server.endpoints.token,
    });
    const elsewhere = await startEmulatorServer({
      handle: async (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ issuer: server.issuer, token_endpoint: server.endpoints.token }));
      },
    });
    closers.push(elsewhere.close);
    const other = await session.run(
      [
        'auth',
        'providers',
        'add',
        'other-idp',
        '--discovery-url',
        `${elsewhere.url}/meta`,
        '--client-id',
        'x',
      ],
      opts(),
    );
    expectExit(other, 2);
    expect(other.stderr).toContain('names the issuer');
    expect(other.stderr).toContain('--issuer');
  });
});

describe('remote and resource leaks', () => {
  it('never shows a token or code verifier outside auth token', () => {
    const secrets = [
      ...world.allSecrets(),
      ...world.servers
        .flatMap((s) => s.requestsTo('token').map((r) => r.body.code_verifier ?? ''))
        .filter((v) => v !== ''),
    ];
    assertNoSecretLeaks(world.runs(), secrets);
  });
});
