// The main job, end to end on this machine: starts the bundled NanoGPT emulator on 127.0.0.1, runs a real
// `latchkey auth login --provider nanogpt` against it, then `auth status` and `auth token`.
// In a terminal you approve the code in the browser page the login prints; without one (or with
// --auto-approve) the emulator approves by itself after a few polls.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { startNanoGptEmulator } = await import(join(root, 'packages/testkit/dist/index.js'));
const bin = join(root, 'packages/cli/bin/run.js');

const args = process.argv.slice(2);
const headless =
  args.includes('--auto-approve') || !process.stdin.isTTY || !process.stderr.isTTY || Boolean(process.env.CI);
const emulator = await startNanoGptEmulator({ interval: 2, autoApproveAfterPolls: headless ? 2 : undefined });
const configDir = await mkdtemp(join(tmpdir(), 'latchkey-demo-'));
const env = { ...process.env, LATCHKEY_CONFIG_DIR: configDir, LATCHKEY_NANOGPT_BASE_URL: emulator.url };

function latchkey(...argv) {
  console.error(`\n$ latchkey ${argv.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...argv], { env, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1)));
  });
}

let exitCode = 0;
try {
  console.error(`NanoGPT emulator listening on ${emulator.url} (credentials go to ${configDir})`);
  console.error(
    headless
      ? 'Headless run: the emulator approves the code by itself after 2 polls.'
      : 'Open the URL below in a browser on this machine and click Approve (or re-run with: npm run demo -- --auto-approve).',
  );
  exitCode = await latchkey('auth', 'login', '--provider', 'nanogpt');
  if (exitCode === 0) exitCode = await latchkey('auth', 'status', '--provider', 'nanogpt');
  if (exitCode === 0) exitCode = await latchkey('auth', 'token', '--provider', 'nanogpt');
  console.error(
    exitCode === 0
      ? '\nDemo finished: signed in, checked, and the key printed for scripts.'
      : `\nDemo failed (exit ${exitCode}).`,
  );
} finally {
  await emulator.close();
  await rm(configDir, { recursive: true, force: true });
}
process.exit(exitCode);
