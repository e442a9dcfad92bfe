/**
 * `npm run demo` (scripts/demo.mjs) as a new user runs it, headless: it signs in to the bundled NanoGPT
 * emulator with the built CLI, prints the key, and leaves nothing in the user's home (no ~/.cache/latchkey,
 * no ~/.config/latchkey, nothing at all). HOME is a fresh empty directory standing in for the real one.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
/** The whole demo (an emulator, a login, a token): a hang detector, generous for a loaded machine. */
const DEMO_TIMEOUT_MS = 150_000;
let home: string | undefined;

afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

it(
  'signs in, prints the key and leaves the home directory exactly as it was (empty)',
  async () => {
    home = await mkdtemp(join(tmpdir(), 'latchkey-demo-home-'));
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home };
    // No XDG_* and no LATCHKEY_* variables: the defaults would all point into HOME. TMPDIR is kept, so
    // the demo's own directory is made inside the test run's (removed at its end even if this one fails).
    if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve, reject) => {
        const child = spawn(process.execPath, [join(repoRoot, 'scripts', 'demo.mjs'), '--auto-approve'], {
          cwd: home,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
        child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
        const timer = setTimeout(() => child.kill('SIGKILL'), DEMO_TIMEOUT_MS);
        child.once('error', reject);
        child.once('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^sk-nano-[A-Za-z0-9-]+$/m);
    expect(run.stderr).toContain('Demo finished');
    expect(await readdir(home, { recursive: true })).toEqual([]);
  },
  DEMO_TIMEOUT_MS + 30_000,
);
