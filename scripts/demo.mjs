// The main job, end to end on this machine: starts the bundled NanoGPT emulator on 127.0.0.1, runs a real
// `latchkey auth login --provider nanogpt` against it, then `auth status` and `auth token`.
// In a terminal you approve in the browser page the login prints (the browser sign-in with PKCE where a
// browser can be opened here, else the device code; pass --web or --device after `--` to choose); without
// one (or with --auto-approve) the device code is approved by the emulator itself after a few polls.
// It leaves nothing behind: every directory latchkey and oclif would write (config, credentials, the provider
// cache, oclif's data and state) is a temporary one, removed at the end, and the secret goes to the encrypted
// file in it, never to your keychain. Before it exits it checks that your home has no latchkey directory it
// did not have before.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { startNanoGptEmulator } = await import(join(root, 'packages/testkit/dist/index.js'));
const bin = join(root, 'packages/cli/bin/run.cjs');

const args = process.argv.slice(2);
const flow = args.filter((arg) => arg === '--web' || arg === '--device').slice(0, 1);
const headless =
  args.includes('--auto-approve') || !process.stdin.isTTY || !process.stderr.isTTY || Boolean(process.env.CI);
const emulator = await startNanoGptEmulator({ interval: 2, autoApproveAfterPolls: headless ? 2 : undefined });
const tempRoot = await mkdtemp(join(tmpdir(), 'latchkey-demo-'));
const configDir = join(tempRoot, 'config');
const xdg = {
  XDG_CONFIG_HOME: join(tempRoot, 'xdg-config'),
  XDG_CACHE_HOME: join(tempRoot, 'xdg-cache'),
  XDG_DATA_HOME: join(tempRoot, 'xdg-data'),
  XDG_STATE_HOME: join(tempRoot, 'xdg-state'),
};
for (const dir of Object.values(xdg)) await mkdir(dir, { recursive: true });
const env = {
  ...process.env,
  ...xdg,
  LATCHKEY_CONFIG_DIR: configDir,
  LATCHKEY_CACHE_DIR: join(tempRoot, 'cache'),
  LATCHKEY_DATA_DIR: join(tempRoot, 'data'),
  // The demo's key is a throw-away one from the emulator: keep it out of the real keychain.
  LATCHKEY_STORAGE: 'file',
  LATCHKEY_NANOGPT_BASE_URL: emulator.url,
};

// latchkey's directories in the real home (the XDG defaults, and the variables the user may have set).
const homeDirs = [
  join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'latchkey'),
  join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'latchkey'),
  join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'latchkey'),
  join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'latchkey'),
];
const existedBefore = new Set(homeDirs.filter((dir) => existsSync(dir)));

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
      : 'Open the URL below in a browser on this machine and click Approve (or re-run with: npm run demo -- --auto-approve; --web or --device chooses the sign-in).',
  );
  exitCode = await latchkey('auth', 'login', '--provider', 'nanogpt', ...(headless ? [] : flow));
  if (exitCode === 0) exitCode = await latchkey('auth', 'status', '--provider', 'nanogpt');
  if (exitCode === 0) exitCode = await latchkey('auth', 'token', '--provider', 'nanogpt');
  console.error(
    exitCode === 0
      ? '\nDemo finished: signed in, checked, and the key printed for scripts.'
      : `\nDemo failed (exit ${exitCode}).`,
  );
} finally {
  await emulator.close();
  await rm(tempRoot, { recursive: true, force: true });
}
const leftBehind = homeDirs.filter((dir) => !existedBefore.has(dir) && existsSync(dir));
if (leftBehind.length > 0) {
  console.error(`Demo wrote to your home directory: ${leftBehind.join(', ')}`);
  if (exitCode === 0) exitCode = 1;
}
process.exit(exitCode);
