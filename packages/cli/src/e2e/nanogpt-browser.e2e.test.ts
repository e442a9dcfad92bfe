/**
 * `auth login nanogpt --web` (issue 24) through the built binary, against the local NanoGPT emulator's
 * published endpoints (RFC 8414 metadata, RFC 7591 registration, authorize with an approval page, token)
 * and a REAL chromium clicking Approve or Deny. The key it stores is the one the device login stores, under
 * the same account name, and `auth token` prints the same bytes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertNoSecretLeaks } from '@latchkey/conformance/tools';
import {
  E2eFile,
  RUN_TIMEOUT_MS,
  expectExit,
  expectNothingStored,
  readIndex,
  requestsTo,
} from './harness.js';
import { browserLogin, freshPage, launchChromium } from './browser-support.js';

const file = new E2eFile();
const opts = { timeoutMs: RUN_TIMEOUT_MS };
let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterEach(() => file.cleanup());
afterAll(() => browser?.close());

/** Opens the URL, clicks `button` (#approve or #deny) on NanoGPT's page, waits to be sent back. */
const click = (button: string) => async (url: string) => {
  const { context, page } = await freshPage(browser);
  try {
    await page.goto(url);
    await page.click(button);
    await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
  } finally {
    await context.close();
  }
};

describe('NanoGPT in the browser', () => {
  it('metadata -> registration -> approve -> token: the same key, account and auth token bytes as the device login', async () => {
    const emulator = await file.emulator({ interval: 1, autoApproveAfterPolls: 0 });
    const session = await file.session();

    // The device login first: the account it names and the key it stores.
    const device = await session.run(
      ['auth', 'login', 'nanogpt', '--device', '--base-url', emulator.url],
      opts,
    );
    expectExit(device, 0);
    const [deviceAccount] = (await readIndex(session.configDir))!.accounts;
    const key = emulator.issuedKeys()[0]!;

    const { run, url } = await browserLogin(
      session,
      ['nanogpt', '--web', '--base-url', emulator.url],
      click('#approve'),
    );
    expectExit(run, 0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Signed in with the browser (authorization code + PKCE).');
    expect(run.stderr).toContain(`Replaced the stored credential for ${deviceAccount!.account}.`);

    // What NanoGPT saw: its metadata, a public native client registered, S256, the verifier at /oauth/token.
    expect(requestsTo(emulator, 'oauth-metadata').map((r) => r.status)).toEqual([200]);
    const [registration] = requestsTo(emulator, 'register');
    expect(registration!.body).toMatchObject({
      client_name: 'latchkey',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code'],
    });
    const [client] = emulator.oauthClients();
    const authorize = new URL(url);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${emulator.url}/oauth/authorize`);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: client!.clientId,
      code_challenge_method: 'S256',
      scope: 'api.use models.read',
    });
    const [exchange] = requestsTo(emulator, 'oauth-token');
    expect(exchange).toMatchObject({
      status: 200,
      body: { grant_type: 'authorization_code', client_id: client!.clientId },
    });
    expect((exchange!.body as Record<string, string>).code_verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // Same key (NanoGPT reuses the key of a client name), same account, method browser now.
    expect(emulator.issuedKeys()).toEqual([key]);
    const index = await readIndex(session.configDir);
    expect(index!.accounts).toHaveLength(1);
    expect(index!.accounts[0]).toMatchObject({
      provider: 'nanogpt',
      account: deviceAccount!.account,
      identity: deviceAccount!.identity,
      method: 'browser',
    });
    const token = await session.run(['auth', 'token', 'nanogpt'], opts);
    expectExit(token, 0);
    expect(token.stdout).toBe(`${key}\n`);
    const status = await session.run(['auth', 'status', 'nanogpt'], opts);
    expect(status.stdout).toMatch(/Signed in: +with the browser \(authorization code \+ PKCE\)/);
  });

  it('Deny on the NanoGPT page: exit 4 in its words, no key created, nothing stored', async () => {
    const emulator = await file.emulator();
    const session = await file.session();
    const { run } = await browserLogin(
      session,
      ['nanogpt', '--web', '--base-url', emulator.url, '--client-name', 'laptop'],
      click('#deny'),
    );
    expectExit(run, 4);
    expect(run.stderr).toContain('The user denied the request (access_denied)');
    expect(emulator.oauthClients()[0]!.clientName).toBe('laptop');
    expect(emulator.issuedKeys()).toEqual([]);
    expect(requestsTo(emulator, 'oauth-token')).toEqual([]);
    await expectNothingStored(session.configDir);
  });

  it('a NanoGPT without the OAuth metadata: exit 1 that points at the device flow', async () => {
    const emulator = await file.emulator();
    emulator.faults.add({ route: 'oauth-metadata', kind: 'status', status: 404, times: 5 });
    const session = await file.session();
    const run = await session.run(['auth', 'login', 'nanogpt', '--web', '--base-url', emulator.url], opts);
    expectExit(run, 1);
    expect(run.stderr).toContain('publishes no OAuth server metadata');
    // The hint keeps the server it is about (--base-url).
    expect(run.stderr).toContain(
      `latchkey auth login --provider nanogpt --base-url ${emulator.url} --device`,
    );
    await expectNothingStored(session.configDir);
  });
});

describe('NanoGPT browser sign-in leaks', () => {
  it('never shows a key or code verifier outside auth token', () => {
    const verifiers = file.emulators.flatMap((e) =>
      requestsTo(e, 'oauth-token').map((r) => String((r.body as Record<string, string>).code_verifier)),
    );
    expect(file.secrets().length).toBeGreaterThan(0);
    assertNoSecretLeaks(file.runs(), [...file.secrets(), ...verifiers]);
  });
});
