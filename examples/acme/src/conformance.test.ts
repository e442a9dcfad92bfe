import { fileURLToPath } from 'node:url';
import { HttpClient, isLatchkeyError, systemClock, type ProviderContext } from '@latchkey/plugin-kit';
import { startAcmeEmulator } from '@latchkey/conformance/tools';
import { describeProviderConformance } from '@latchkey/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { acme } from './provider.js';

const emulator = await startAcmeEmulator({
  interval: 1,
  tokens: [{ token: 'acme_ValidToken0123456789', email: 'ada@acme.example', name: 'Ada' }],
});
afterAll(() => emulator.close());

describeProviderConformance({
  provider: acme,
  packageJson: fileURLToPath(new URL('../package.json', import.meta.url)),
  baseUrl: emulator.url,
  validToken: () => 'acme_ValidToken0123456789',
  rejectedToken: 'acme_NotIssuedByTheServer42',
  malformedTokens: [
    '',
    'acme_short',
    'ghp_0123456789abcdef0123',
    'acme_has spaces in it 0123',
    ' acme_ValidToken0123456789',
  ],
  deviceFlow: { approve: (userCode) => emulator.approve(userCode) },
  browserFlow: { approve: (url) => emulator.authorize(url) },
  cli: { pluginDir: fileURLToPath(new URL('..', import.meta.url)) },
});

function ctxFor(baseUrl: string): ProviderContext {
  return {
    baseUrl: new URL(baseUrl),
    http: new HttpClient({ clientName: 'latchkey', clientVersion: '0.0.0-test' }),
    clock: systemClock,
    signal: new AbortController().signal,
    ui: { showVerification: () => undefined, info: () => undefined, warn: () => undefined },
    options: {},
  };
}

describe('acme against its emulator', () => {
  it('names the account by the email the server returns', async () => {
    expect(await acme.verify('acme_ValidToken0123456789', ctxFor(emulator.url))).toEqual({
      account: 'ada@acme.example',
      email: 'ada@acme.example',
      name: 'Ada',
    });
  });

  it('speaks form bodies to the OAuth endpoints, as the strict server requires', async () => {
    const server = await startAcmeEmulator({ interval: 1, autoApproveAfterPolls: 0 });
    try {
      const { token, identity } = await acme.login!(ctxFor(server.url));
      expect(server.issuedTokens()).toEqual([token]);
      expect(identity.account).toBe('dev@acme.example');
      const oauth = server.requests.filter((r) => r.route === 'device-code' || r.route === 'token');
      expect(oauth.map((r) => [r.route, r.status, r.contentType])).toEqual([
        ['device-code', 200, 'application/x-www-form-urlencoded'],
        ['token', 200, 'application/x-www-form-urlencoded'],
      ]);
      expect(oauth.every((r) => r.fields?.client_id === 'latchkey')).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('the browser sign-in: Deny ends it with exit 4 and no token request; an approved one refreshes once per refresh token', async () => {
    const server = await startAcmeEmulator({ interval: 1 });
    try {
      const ctx = ctxFor(server.url);
      ctx.ui.showAuthorization = async (prompt) => {
        await (await fetch(server.authorize(prompt.url, 'deny'))).text();
      };
      const error = await acme.browserLogin!(ctx).catch((e: unknown) => e);
      expect(isLatchkeyError(error) && [error.code, error.exitCode]).toEqual(['ACCESS_DENIED', 4]);
      expect(server.requests.filter((r) => r.route === 'token')).toEqual([]);

      ctx.ui.showAuthorization = async (prompt) => {
        await (await fetch(server.authorize(prompt.url))).text();
      };
      const { token, refreshToken, identity } = await acme.browserLogin!(ctx);
      expect(identity.account).toBe('dev@acme.example');
      expect(identity.expiresAt).toMatch(/^\d{4}-/);
      const renewed = await acme.refresh!({ token, refreshToken: refreshToken! }, ctx);
      expect(server.issuedRefreshTokens()).toEqual([refreshToken, renewed.refreshToken]);
      // A refresh token works once (the server rotates them): the old one is refused, exit 4.
      const reused = await acme.refresh!({ token, refreshToken: refreshToken! }, ctx).catch(
        (e: unknown) => e,
      );
      expect(isLatchkeyError(reused) && [reused.code, reused.exitCode]).toEqual(['SESSION_EXPIRED', 4]);
    } finally {
      await server.close();
    }
  });

  it('a denied login ends with exit 4', async () => {
    const denying = await startAcmeEmulator({ interval: 1 });
    try {
      const ctx = ctxFor(denying.url);
      ctx.ui.showVerification = (v) => denying.deny(v.userCode);
      const error = await acme.login!(ctx).catch((e: unknown) => e);
      expect(isLatchkeyError(error) && error.exitCode).toBe(4);
      expect(denying.requests.filter((r) => r.route === 'token').map((r) => r.error)).toEqual([
        'access_denied',
      ]);
    } finally {
      await denying.close();
    }
  });
});
