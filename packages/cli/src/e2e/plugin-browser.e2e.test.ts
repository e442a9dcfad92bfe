/**
 * A third-party plugin's browser sign-in and refresh (issue 24) through the built binary: the example
 * plugin (examples/acme, built on plugin-kit's `browserLogin()` and `refreshAccessToken()`) linked into a
 * real latchkey, its local server, and a REAL chromium. `auth token` then renews the short-lived token with
 * the plugin's own `refresh()`, under the host's lock: the fast path hands over to the full CLI, which loads
 * the plugin; one refresh request, the rotated refresh token stored.
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import {
  assertNoSecretLeaks,
  createCliSession,
  startAcmeEmulator,
  type AcmeEmulator,
  type CliSession,
} from '@latchkey/conformance/tools';
import { RUN_TIMEOUT_MS, expectExit, readIndex } from './harness.js';
import { browserLogin, freshPage, launchChromium } from './browser-support.js';
import { waitUntil } from './oauth-support.js';

const acmeRoot = resolve(import.meta.dirname, '../../../../examples/acme');
let browser: Browser;
let session: CliSession;
let emulator: AcmeEmulator;
let env: Record<string, string>;

beforeAll(async () => {
  browser = await launchChromium();
  session = await createCliSession();
  env = { LATCHKEY_DATA_DIR: join(session.homeDir, '.local', 'share', 'latchkey') };
  const link = await session.run(['plugins', 'link', '--no-install', acmeRoot], { env, timeoutMs: 60_000 });
  expectExit(link, 0);
  // Access tokens that live 2 s: due (half their life gone) a second after they are issued.
  emulator = await startAcmeEmulator({ interval: 1, tokenExpiresIn: 2 });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await emulator?.close();
  await session?.dispose();
});

describe('a plugin built on browserLogin() and refresh()', () => {
  it("auth login --web through the plugin, then auth token renews the token with the plugin's refresh()", async () => {
    const { context, page } = await freshPage(browser);
    const { run } = await browserLogin(
      session,
      ['--provider', 'acme', '--web', '--base-url', emulator.url],
      async (url) => {
        // Acme's authorize endpoint approves a signed-in person at once and sends the browser back.
        await page.goto(url);
        await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
      },
      { env },
    );
    await context.close();
    expectExit(run, 0);
    expect(run.stderr).toContain('Logged in to Acme as Acme Developer dev@acme.example');
    expect(run.stderr).toContain('Signed in with the browser (authorization code + PKCE).');
    const [first] = emulator.issuedTokens();
    const [firstRefresh] = emulator.issuedRefreshTokens();
    const [record] = (await readIndex(session.configDir))!.accounts;
    expect(record).toMatchObject({
      provider: 'acme',
      account: 'dev@acme.example',
      method: 'browser',
      refreshable: true,
    });

    await waitUntil(Date.parse(String((record as { expiresAt?: string }).expiresAt)) - 900);
    const token = await session.run(['auth', 'token', '--provider', 'acme'], {
      env,
      timeoutMs: RUN_TIMEOUT_MS,
    });
    expectExit(token, 0);
    const refreshes = emulator.requests.filter(
      (r) => r.route === 'token' && r.fields?.grant_type === 'refresh_token',
    );
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]!.fields?.refresh_token).toBe(firstRefresh);
    const second = emulator.issuedTokens()[1]!;
    expect(second).not.toBe(first);
    expect(token.stdout).toBe(`${second}\n`);
    // The rotated refresh token was stored: the next renewal sends it (and only it).
    const [renewed] = (await readIndex(session.configDir))!.accounts;
    expect(renewed).toMatchObject({ refreshable: true });
    await waitUntil(Date.parse(String((renewed as { expiresAt?: string }).expiresAt)) - 900);
    const status = await session.run(['auth', 'status', '--provider', 'acme'], {
      env,
      timeoutMs: RUN_TIMEOUT_MS,
    });
    expectExit(status, 0);
    expect(status.stdout).toMatch(/Signed in: +with the browser/);
    const later = emulator.requests.filter(
      (r) => r.route === 'token' && r.fields?.grant_type === 'refresh_token',
    );
    expect(later).toHaveLength(2);
    expect(later[1]!.fields?.refresh_token).toBe(emulator.issuedRefreshTokens()[1]);
  });

  it('never shows a token or refresh token outside auth token', () => {
    assertNoSecretLeaks(session.runs, [...emulator.issuedTokens(), ...emulator.issuedRefreshTokens()]);
  });
});
