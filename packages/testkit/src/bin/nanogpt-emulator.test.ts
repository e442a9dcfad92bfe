import { describe, expect, it } from 'vitest';
import { commandStarter } from '../test-support/standalone-command.js';

const startCommand = commandStarter('nanogpt-emulator');

describe('latchkey-nanogpt-emulator', () => {
  it('prints one JSON line with the URL, logs masked keys on stderr and stops on SIGTERM', async () => {
    const cmd = startCommand(['--interval', '1', '--expires-in', '60', '--auto-approve-after', '1']);
    const { url } = await cmd.readyLine<{ url: string }>();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const post = async (path: string, body: unknown) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const started = (await (await post('/api/cli-login/start', { client_name: 'e2e' })).json()) as {
      device_code: string;
      interval: number;
      expires_in: number;
    };
    expect(started).toMatchObject({ interval: 1, expires_in: 60 });
    expect((await post('/api/cli-login/poll', { device_code: started.device_code })).status).toBe(202);
    const approved = (await (
      await post('/api/cli-login/poll', { device_code: started.device_code })
    ).json()) as {
      key: string;
    };
    expect(approved.key).toMatch(/^sk-nano-/);

    await cmd.stderrIncludes('delivered');
    expect(cmd.stderr()).toContain(`${approved.key.slice(0, 12)}...`);
    expect(cmd.stderr()).not.toContain(approved.key);
    expect(cmd.stderr()).not.toContain(started.device_code);

    cmd.child.kill('SIGTERM');
    expect(await cmd.exitCode()).toBe(0);
    expect(cmd.stdout().trim().split('\n')).toHaveLength(1);
  });

  it('rejects a bad flag with exit 2', async () => {
    const cmd = startCommand(['--port', 'abc']);
    expect(await cmd.exitCode()).toBe(2);
    expect(cmd.stderr()).toContain('--port');
  });
});
