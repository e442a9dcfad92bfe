import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// The built command (turbo runs `build` before `test`).
const bin = fileURLToPath(new URL('../../dist/bin/nanogpt-emulator.js', import.meta.url));
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

describe('latchkey-nanogpt-emulator', () => {
  it('prints one JSON line with the URL, logs masked keys on stderr and stops on SIGTERM', async () => {
    const cmd = startCommand(['--interval', '1', '--expires-in', '60', '--auto-approve-after', '1']);
    await until(() => cmd.stdout().includes('\n'), 'the URL line');
    const { url } = JSON.parse(cmd.stdout()) as { url: string };
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

    await until(() => cmd.stderr().includes('delivered'), 'the delivery log line');
    expect(cmd.stderr()).toContain(`${approved.key.slice(0, 12)}...`);
    expect(cmd.stderr()).not.toContain(approved.key);
    expect(cmd.stderr()).not.toContain(started.device_code);

    cmd.child.kill('SIGTERM');
    const [code] = (await once(cmd.child, 'close')) as [number | null];
    expect(code).toBe(0);
    expect(cmd.stdout().trim().split('\n')).toHaveLength(1);
  });

  it('rejects a bad flag with exit 2', async () => {
    const cmd = startCommand(['--port', 'abc']);
    const [code] = (await once(cmd.child, 'close')) as [number | null];
    expect(code).toBe(2);
    expect(cmd.stderr()).toContain('--port');
  });
});
