/** `auth status` for OAuth credentials: the access token's expiry, whether a refresh token is held, and a refresh first when due. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { defineIdp } from '../testing/configured-idp.js';
import { fakeHosts, fakeProvider } from '../testing/fake-host.js';
import { describeStatus, status } from './status.js';

const start = fakeHosts();
const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

describe('auth status: OAuth expiry and refresh', () => {
  it('shows when the token expires and whether a refresh token is held (expiresAt, refreshable)', async () => {
    const provider = fakeProvider(
      { id: 'acme' },
      { accounts: { 'at-0123456789abcdef': { account: 'ada' }, plain: { account: 'bob' } } },
    );
    const h = await start({ providers: [provider] });
    const expiresAt = '2027-06-01T12:00:00.000Z';
    await h.store.save({
      provider: 'acme',
      account: 'ada',
      secret: 'at-0123456789abcdef',
      refreshToken: 'rt-0123456789abcdef',
      expiresAt,
    });
    await h.store.save({ provider: 'acme', account: 'bob', secret: 'plain' });
    const results = await status(h.runtime);
    expect(results.map((r) => [r.account, r.expiresAt, r.refreshable])).toEqual([
      ['ada', expiresAt, true],
      ['bob', undefined, false],
    ]);
    const text = describeStatus(results, h.configDir);
    expect(text).toContain(
      '    Refresh:    a refresh token is held: the access token is renewed when it expires\n',
    );
    expect(text.match(/Refresh:/g)).toHaveLength(1);
    expect(text).not.toContain('rt-0123456789abcdef');
  });

  it('a due token of a configured provider is refreshed first, and the live one is the one shown', async () => {
    let grants = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        grants++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            access_token: 'at-new-0123456789abcdef',
            refresh_token: 'rt-new-0123456789abcdef',
            expires_in: 600,
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.close());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const h = await start({});
    await defineIdp(h.configDir, url);
    await h.store.save({
      provider: 'idp',
      account: 'ada',
      secret: 'at-old-0123456789abcdef',
      refreshToken: 'rt-old-0123456789abcdef',
      expiresAt: '2025-01-01T00:00:00.000Z',
      baseUrl: url,
    });
    const before = Date.now();
    const [result] = await status(h.runtime);
    expect(grants).toBe(1);
    // Refreshed; the server has no userinfo endpoint, so the live token is shown as not checked.
    expect(result).toMatchObject({ provider: 'idp', validity: 'unchecked', refreshable: true });
    expect(Date.parse(result!.expiresAt!)).toBeGreaterThanOrEqual(before + 599_000);
    expect((await h.store.get('idp', 'ada'))!.secret).toBe('at-new-0123456789abcdef');
  });
});
