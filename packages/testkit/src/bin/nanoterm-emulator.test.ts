import { describe, expect, it } from 'vitest';
import { commandStarter } from '../test-support/standalone-command.js';

const startCommand = commandStarter('nanoterm-emulator');

describe('latchkey-nanoterm-emulator', () => {
  it('prints one JSON line with the URL and keys, logs masked keys on stderr and stops on SIGTERM', async () => {
    const cmd = startCommand(['--key-full', '--key-read', '--min-cli-version', '3.0.0']);
    const { url, keys } = await cmd.readyLine<{ url: string; keys: Record<string, string> }>();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Object.keys(keys).sort()).toEqual(['full', 'read']);
    expect(keys.full).toMatch(/^nt_live_[0-9A-Za-z]{32}$/);

    const get = (path: string, key: string, headers: Record<string, string> = {}) =>
      fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}`, ...headers } });
    expect((await get('/api/keys', keys.full!)).status).toBe(200);
    expect((await get('/api/keys', keys.read!)).status).toBe(403);
    const gated = await get('/api/workspaces', keys.read!, {
      'x-client-name': 'nanoterm-cli',
      'x-client-version': '2.9.9',
    });
    expect(gated.status).toBe(426);
    expect((await fetch(`${url}/api/workspaces?token=${keys.full}`)).status).toBe(401);

    await cmd.stderrIncludes('?token=');
    expect(cmd.stderr()).toContain(`${keys.full!.slice(0, 12)}...`);
    expect(cmd.stderr()).toContain('GET /api/keys -> 403');
    for (const key of Object.values(keys)) expect(cmd.stderr()).not.toContain(key);

    cmd.child.kill('SIGTERM');
    expect(await cmd.exitCode()).toBe(0);
    expect(cmd.stdout().trim().split('\n')).toHaveLength(1);
  });

  it('prints an empty keys object without key flags', async () => {
    const cmd = startCommand(['--no-rate-limits']);
    expect(await cmd.readyLine()).toEqual({ url: expect.any(String), keys: {} });
    cmd.child.kill('SIGINT');
    expect(await cmd.exitCode()).toBe(0);
  });

  it('rejects a bad flag with exit 2', async () => {
    for (const args of [['--port', 'abc'], ['--plan', 'gold'], ['--key-admin']]) {
      const cmd = startCommand(args);
      expect(await cmd.exitCode()).toBe(2);
      expect(cmd.stderr()).toContain('Usage');
    }
  });
});
