import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// The built command (turbo runs `build` before `test`).
const bin = fileURLToPath(new URL('../../dist/bin/nanoterm-emulator.js', import.meta.url));
let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
});

function startCommand(args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  return { child: proc, stdout: () => out, stderr: () => err };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('latchkey-nanoterm-emulator', () => {
  it('prints one JSON line with the URL and keys, logs masked keys on stderr and stops on SIGTERM', async () => {
    const cmd = startCommand(['--key-full', '--key-read', '--min-cli-version', '3.0.0']);
    await until(() => cmd.stdout().includes('\n'), 'the URL line');
    const { url, keys } = JSON.parse(cmd.stdout()) as { url: string; keys: Record<string, string> };
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

    await until(() => cmd.stderr().includes('?token='), 'the ?token= log line');
    expect(cmd.stderr()).toContain(`${keys.full!.slice(0, 12)}...`);
    expect(cmd.stderr()).toContain('GET /api/keys -> 403');
    for (const key of Object.values(keys)) expect(cmd.stderr()).not.toContain(key);

    cmd.child.kill('SIGTERM');
    const [code] = (await once(cmd.child, 'close')) as [number | null];
    expect(code).toBe(0);
    expect(cmd.stdout().trim().split('\n')).toHaveLength(1);
  });

  it('prints an empty keys object without key flags', async () => {
    const cmd = startCommand(['--no-rate-limits']);
    await until(() => cmd.stdout().includes('\n'), 'the URL line');
    expect(JSON.parse(cmd.stdout())).toEqual({ url: expect.any(String), keys: {} });
    cmd.child.kill('SIGINT');
    const [code] = (await once(cmd.child, 'close')) as [number | null];
    expect(code).toBe(0);
  });

  it('rejects a bad flag with exit 2', async () => {
    for (const args of [['--port', 'abc'], ['--plan', 'gold'], ['--key-admin']]) {
      const cmd = startCommand(args);
      const [code] = (await once(cmd.child, 'close')) as [number | null];
      expect(code).toBe(2);
      expect(cmd.stderr()).toContain('Usage');
    }
  });
});
