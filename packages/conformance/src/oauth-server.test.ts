/**
 * The refresh and revocation checks themselves: a small OAuth server that follows RFC 6749/7009 passes
 * every check, and each of its flaws (switched on one at a time) makes exactly the check for that rule
 * fail. (testkit runs the checks against a real server, oidc-provider.)
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { readBody, startEmulatorServer, type EmulatorServer } from './http-emulator.js';
import { oauthServerChecks, type OAuthServerConformanceOptions } from './oauth-server.js';

interface Flaws {
  /** The refresh answer may be cached (no Cache-Control: no-store). */
  cacheable?: boolean;
  /** A rotated refresh token keeps working. */
  reusableRotated?: boolean;
  /** The error for a refresh token it never issued (default invalid_grant; used or revoked ones get that). */
  unknownRefreshError?: string;
  /** Revoking a refresh token answers 200 but does nothing. */
  refreshRevokeIgnored?: boolean;
  /** Revoking an access token answers 200 but does nothing. */
  accessRevokeIgnored?: boolean;
  /** The status for revoking an unknown token (default 200). */
  unknownRevokeStatus?: number;
}

let server: EmulatorServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function startServer(flaws: Flaws): Promise<OAuthServerConformanceOptions> {
  const refreshTokens = new Map<string, boolean>(); // token -> still usable
  const accessTokens = new Set<string>();
  const issue = () => {
    const access = `at-${randomBytes(12).toString('hex')}`;
    const refresh = `rt-${randomBytes(12).toString('hex')}`;
    accessTokens.add(access);
    refreshTokens.set(refresh, true);
    return { access, refresh };
  };
  server = await startEmulatorServer({
    async handle(req, res) {
      const fields = Object.fromEntries(new URLSearchParams(await readBody(req)));
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (fields.client_id !== 'cli') return json(401, { error: 'invalid_client' });
      if (req.url === '/token') {
        const token = fields.refresh_token ?? '';
        if (fields.grant_type !== 'refresh_token') return json(400, { error: 'unsupported_grant_type' });
        if (!refreshTokens.has(token))
          return json(400, { error: flaws.unknownRefreshError ?? 'invalid_grant' });
        if (refreshTokens.get(token) !== true) return json(400, { error: 'invalid_grant' });
        if (!flaws.reusableRotated) refreshTokens.set(token, false);
        const next = issue();
        return json(
          200,
          { access_token: next.access, token_type: 'bearer', expires_in: 300, refresh_token: next.refresh },
          flaws.cacheable ? {} : { 'cache-control': 'no-store' },
        );
      }
      if (req.url === '/revoke') {
        const token = fields.token ?? '';
        if (refreshTokens.has(token)) {
          if (!flaws.refreshRevokeIgnored) refreshTokens.set(token, false);
        } else if (accessTokens.has(token)) {
          if (!flaws.accessRevokeIgnored) accessTokens.delete(token);
        } else {
          return json(flaws.unknownRevokeStatus ?? 200, {});
        }
        return json(200, {});
      }
      return json(404, { error: 'not_found' });
    },
  });
  const url = server.url;
  return {
    tokenUrl: `${url}/token`,
    revocationUrl: `${url}/revoke`,
    client: { clientId: 'cli' },
    signIn: async () => {
      const { access, refresh } = issue();
      return { access_token: access, refresh_token: refresh };
    },
    accessTokenWorks: async (token) => accessTokens.has(token),
  };
}

/** Runs every check; returns the names of those that failed, each with the first line of its error. */
async function failures(options: OAuthServerConformanceOptions): Promise<Array<[string, string]>> {
  const failed: Array<[string, string]> = [];
  for (const check of oauthServerChecks(options)) {
    try {
      await check.run();
    } catch (error) {
      failed.push([check.name, String((error as Error).message).split('\n')[0] ?? '']);
    }
  }
  return failed;
}

describe('oauthServerChecks', () => {
  it('a server that keeps the rules passes all six checks', async () => {
    const options = await startServer({});
    expect(oauthServerChecks(options)).toHaveLength(6);
    expect(await failures(options)).toEqual([]);
  });

  it('without a revocation endpoint only the three refresh checks are made', async () => {
    const { revocationUrl: _unused, ...options } = await startServer({});
    expect(oauthServerChecks(options).map((c) => c.name)).toEqual([
      expect.stringMatching(/^refresh \(RFC 6749 s6\)/),
      expect.stringMatching(/^a rotated refresh token is single-use/),
      expect.stringMatching(/^an unknown refresh token/),
    ]);
  });

  const cases: Array<[string, Flaws, RegExp, RegExp]> = [
    ['a cacheable refresh answer', { cacheable: true }, /^refresh \(RFC 6749 s6\)/, /Cache-Control/],
    [
      'a rotated refresh token that still works',
      { reusableRotated: true },
      /^a rotated refresh token is single-use/,
      /the replaced refresh token still works/,
    ],
    [
      'invalid_request for an unknown refresh token',
      { unknownRefreshError: 'invalid_request' },
      /^an unknown refresh token/,
      /invalid_request/,
    ],
    [
      'a refresh-token revocation that does nothing',
      { refreshRevokeIgnored: true },
      /^revoking the refresh token/,
      /a revoked refresh token still refreshes/,
    ],
    [
      'an access-token revocation that does nothing',
      { accessRevokeIgnored: true },
      /^revoking the access token/,
      /the revoked access token still works/,
    ],
    [
      '400 for revoking an unknown token',
      { unknownRevokeStatus: 400 },
      /^revoking a token the server does not know/,
      /HTTP 400/,
    ],
  ];
  for (const [what, flaws, check, message] of cases) {
    it(`${what}: exactly that check fails, saying why`, async () => {
      const failed = await failures(await startServer(flaws));
      expect(failed).toEqual([[expect.stringMatching(check), expect.stringMatching(message)]]);
    });
  }
});
