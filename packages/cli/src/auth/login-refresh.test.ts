/** What `auth login` keeps of a refresh token: a configured provider's, never a plugin's (latchkey could not use it). */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoginResult } from '@latchkey/plugin-kit';
import { defineIdp } from '../testing/configured-idp.js';
import { fakeHosts, fakeProvider } from '../testing/fake-host.js';
import { login } from './login.js';

const start = fakeHosts();
const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

const request = { withToken: false, browser: false, readStdin: async () => '' };

describe('auth login: refresh tokens', () => {
  it("a plugin's login result carrying a refresh token: only the token is stored", async () => {
    const result = {
      token: 'plugin-at-0123456789',
      identity: { account: 'ada' },
      refreshToken: 'plugin-rt-0123456789',
    };
    const provider = fakeProvider({ id: 'acme' }, { device: result as LoginResult });
    const h = await start({ providers: [provider] });
    await login(h.runtime, { ...request, provider: 'acme' });
    const stored = await h.store.get('acme', 'ada');
    expect(stored).toMatchObject({ secret: 'plugin-at-0123456789' });
    expect(stored?.refreshToken).toBeUndefined();
    expect(stored?.record.refreshable).toBeUndefined();
  });

  it("a configured provider's device login: the refresh token and the expiry are stored", async () => {
    let polls = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const json = (body: object) =>
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (req.url === '/device') {
          json({
            device_code: 'dc-0123456789abcdef',
            user_code: 'ABCD-EFGH',
            verification_uri: `${url}/activate`,
            interval: 1,
          });
        } else {
          polls++;
          json({
            access_token: 'cfg-at-0123456789',
            refresh_token: 'cfg-rt-0123456789',
            expires_in: 600,
            id_token: `e30.${Buffer.from('{"sub":"u1","email":"ada@example.com"}').toString('base64url')}.x`,
          });
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.close());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const h = await start({});
    await defineIdp(h.configDir, url);
    const outcome = await login(h.runtime, { ...request, provider: 'idp' });
    expect(outcome).toMatchObject({ account: 'ada@example.com', stored: true, method: 'device' });
    expect(polls).toBe(1);
    const stored = await h.store.get('idp', 'ada@example.com');
    expect(stored).toMatchObject({
      secret: 'cfg-at-0123456789',
      refreshToken: 'cfg-rt-0123456789',
      record: { refreshable: true },
    });
    expect(stored?.record.expiresAt).toBe(
      new Date(Date.parse('2026-01-01T00:00:00Z') + 600_000).toISOString(),
    );
    expect(h.stdout()).toBe('');
    expect(h.stderr()).not.toContain('cfg-rt-0123456789');
  });
});
