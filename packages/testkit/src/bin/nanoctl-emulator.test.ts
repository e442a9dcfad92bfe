import { describe, expect, it } from 'vitest';
import { commandStarter } from '../test-support/standalone-command.js';

const startCommand = commandStarter('nanoctl-emulator');

const GOOD = 'nsv_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6';
const SECOND = 'second-token-0123456789';
const EXPIRED = 'nsv_Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp';

describe('latchkey-nanoctl-emulator', () => {
  it('prints one JSON line with the URL, serves --token and --expired-token, masks tokens, stops on SIGTERM', async () => {
    const cmd = startCommand(['--token', GOOD, '--token', SECOND, '--expired-token', EXPIRED]);
    const line = await cmd.readyLine();
    expect(Object.keys(line)).toEqual(['url']);
    const url = line.url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const whoami = (token: string) =>
      fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
    const ok = await whoami(GOOD);
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { username: string; expiresAt: string };
    expect(body.username).toBe('dev-user');
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(89 * 24 * 3600 * 1000);
    expect((await whoami(SECOND)).status).toBe(200);

    const expired = await whoami(EXPIRED);
    expect(expired.status).toBe(401);
    const expiredBody = (await expired.json()) as { error: string; message: string };
    expect(expiredBody.error).toBe('token_expired');
    expect(expiredBody.message).toMatch(/^token expired on \d{4}-\d\d-\d\dT/);

    expect((await whoami('nsv_unknownunknownunknown')).status).toBe(401);
    expect((await fetch(`${url}/v1/whoami?token=${GOOD}`)).status).toBe(401);

    await cmd.stderrIncludes('token=nsv_A1b2...');
    const err = cmd.stderr();
    expect(err).toContain('GET /v1/whoami -> 200 (token nsv_A1b2...)');
    expect(err).toContain('GET /v1/whoami -> 401 (token nsv_Zz9Y...)');
    expect(err).toContain('(no token)');
    for (const secret of [GOOD, SECOND, EXPIRED, 'nsv_unknownunknownunknown'])
      expect(err).not.toContain(secret);

    cmd.child.kill('SIGTERM');
    expect(await cmd.exitCode()).toBe(0);
    expect(cmd.stdout().trim().split('\n')).toHaveLength(1);
  });

  it('stops on SIGINT too, and works with no token at all', async () => {
    const cmd = startCommand(['--port', '0']);
    const { url } = await cmd.readyLine<{ url: string }>();
    expect((await fetch(`${url}/v1/whoami`)).status).toBe(401);
    cmd.child.kill('SIGINT');
    expect(await cmd.exitCode()).toBe(0);
  });

  it('rejects a bad flag, a bad port and a duplicate token with exit 2', async () => {
    for (const args of [['--bogus'], ['--port', 'abc'], ['--token', GOOD, '--expired-token', GOOD]]) {
      const cmd = startCommand(args);
      expect(await cmd.exitCode()).toBe(2);
      expect(cmd.stdout()).toBe('');
      expect(cmd.stderr()).toContain('Usage: latchkey-nanoctl-emulator');
      expect(cmd.stderr()).not.toContain(GOOD);
    }
  });
});
