/**
 * The Kaneo better-auth server (a REAL better-auth, configured like Kaneo's) added as a GENERIC provider by
 * configuration, through the built binary: its own endpoints given explicitly (better-auth publishes no
 * RFC 8414 document for its device plugin) and `--encoding json` (better-auth's endpoints take JSON
 * bodies). Login by the device flow, then `auth token` prints a session token better-auth accepts.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, createCliSession, type CliSession } from '@latchkey/conformance/tools';
import { startKaneoServer, type KaneoServer } from '@latchkey/testkit/kaneo';
import { expectExit, expectSecretNotOnDisk, readIndex } from './harness.js';
import { addProvider, deviceLogin, opts, storedProviders } from './oauth-support.js';

const servers: KaneoServer[] = [];
const sessions: CliSession[] = [];
const secrets: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
});

describe('Kaneo (better-auth) as a configured provider', () => {
  it('explicit endpoints + --encoding json: add, device login with JSON bodies, auth token works against better-auth', async () => {
    const server = await startKaneoServer({ interval: 1 });
    servers.push(server);
    const user = await server.signUp({ name: 'Grace Hopper', email: 'grace@example.com' });
    secrets.push(user.sessionToken);
    const session = await createCliSession();
    sessions.push(session);

    const add = await addProvider(session, 'my-kaneo', undefined, [
      '--client-id',
      'kaneo-cli',
      '--device-authorization-url',
      `${server.url}/api/auth/device/code`,
      '--token-url',
      `${server.url}/api/auth/device/token`,
      '--encoding',
      'json',
      '--base-url',
      server.url,
    ]);
    expectExit(add, 0);
    expect((await storedProviders(session.configDir))['my-kaneo']).toMatchObject({
      clientId: 'kaneo-cli',
      encoding: 'json',
      deviceAuthorizationUrl: `${server.url}/api/auth/device/code`,
      tokenUrl: `${server.url}/api/auth/device/token`,
      baseUrl: server.url,
    });

    const { run } = await deviceLogin(session, 'my-kaneo', (code) => server.approve(code, user));
    expectExit(run, 0);
    // The bodies were JSON (better-auth records the field names it parsed from them).
    const code = server.requests.find((r) => r.path === '/api/auth/device/code');
    expect(code).toMatchObject({ method: 'POST', status: 200 });
    expect(code?.bodyKeys).toContain('client_id');
    const polls = server.requests.filter((r) => r.path === '/api/auth/device/token');
    expect(polls.at(-1)).toMatchObject({ status: 200 });
    expect(polls.at(-1)?.bodyKeys).toEqual(
      expect.arrayContaining(['grant_type', 'device_code', 'client_id']),
    );
    expect((await readIndex(session.configDir))?.accounts).toMatchObject([
      { provider: 'my-kaneo', baseUrl: server.url },
    ]);

    const token = await session.run(['auth', 'token', '--provider', 'my-kaneo'], opts());
    expectExit(token, 0);
    const accessToken = token.stdout.trimEnd();
    expect(token.stdout).toBe(`${accessToken}\n`);
    expect(accessToken.length).toBeGreaterThan(10);
    secrets.push(accessToken);
    await expectSecretNotOnDisk(session.configDir, accessToken);
    expect(await server.getSession({ bearer: accessToken })).toMatchObject({
      user: { email: 'grace@example.com' },
    });

    // No revocation endpoint was given: logout deletes the local copy and tells the server nothing, so the
    // session stays valid there until it expires.
    const before = server.requests.length;
    const logout = await session.run(['auth', 'logout', '--provider', 'my-kaneo'], opts());
    expectExit(logout, 0);
    expect((await readIndex(session.configDir))?.accounts).toEqual([]);
    expect(server.requests.slice(before)).toEqual([]);
    expect(await server.getSession({ bearer: accessToken })).toMatchObject({
      user: { email: 'grace@example.com' },
    });
  });

  it('never shows the token outside auth token', () => {
    const runs = sessions.flatMap((s) => s.runs);
    expect(runs.length).toBeGreaterThanOrEqual(4);
    assertNoSecretLeaks(runs, secrets);
  });
});
