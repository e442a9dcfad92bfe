import { describe, expect, it } from 'vitest';
import { commandStarter } from '../test-support/standalone-command.js';

const startCommand = commandStarter('kaneo-server');

describe('latchkey-kaneo-server', () => {
  it('prints the URL, a demo user and how to approve; a script can do the whole device flow', async () => {
    const cmd = startCommand(['--interval', '1', '--expires-in', '120']);
    const { url } = await cmd.readyLine<{ url: string }>();
    await cmd.stderrIncludes('approve');
    const err = cmd.stderr();

    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const demo = /demo user: (\S+) \/ (\S+)/.exec(err);
    expect(demo).not.toBeNull();
    expect(err).toContain('/api/auth/device/approve');
    expect(err).toContain(`Origin: ${url}`);

    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${url}/api/auth${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const code = (await (await post('/device/code', { client_id: 'kaneo-cli' })).json()) as {
      device_code: string;
      user_code: string;
      interval: number;
      expires_in: number;
    };
    expect(code).toMatchObject({ interval: 1, expires_in: 120 });

    // As the instructions say: sign in, claim the code, approve (a script uses the session as Bearer).
    // better-auth refuses a sign-in without a trusted Origin (403 MISSING_OR_NULL_ORIGIN).
    const noOrigin = await post('/sign-in/email', { email: demo![1], password: demo![2] });
    expect(noOrigin.status).toBe(403);
    expect(await noOrigin.json()).toEqual({
      message: 'Missing or null Origin',
      code: 'MISSING_OR_NULL_ORIGIN',
    });
    const signIn = await post('/sign-in/email', { email: demo![1], password: demo![2] }, { origin: url });
    expect(signIn.status).toBe(200);
    const { token } = (await signIn.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };
    expect(
      (await fetch(`${url}/api/auth/device?user_code=${code.user_code}`, { headers: auth })).status,
    ).toBe(200);
    expect((await post('/device/approve', { userCode: code.user_code }, auth)).status).toBe(200);

    const granted = await post('/device/token', {
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: code.device_code,
      client_id: 'kaneo-cli',
    });
    expect(granted.status).toBe(200);
    expect(await granted.json()).toMatchObject({ token_type: 'Bearer' });

    cmd.child.kill('SIGTERM');
    expect(await cmd.exitCode()).toBe(0);
    expect(cmd.stderr()).toContain('SIGTERM: stopping');
  });

  it('refuses a bad flag with exit code 2 and the usage', async () => {
    const cmd = startCommand(['--interval', 'soon']);
    expect(await cmd.exitCode()).toBe(2);
    expect(cmd.stderr()).toContain('Usage: latchkey-kaneo-server');
  });
});
