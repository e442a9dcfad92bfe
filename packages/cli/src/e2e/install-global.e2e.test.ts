/**
 * The README's first instruction, `npm run install-global`, as a user runs it from a clone: into a fresh
 * HOME, from a copy of this checkout that is deleted right after, so what is left must stand on its own.
 * Then, in `env -i` bash with only that HOME and PATH=$HOME/.local/bin:/usr/bin:/bin (whatever Node
 * /usr/bin has, older or none): `latchkey --version` on its own Node 22, a NanoGPT device login against
 * the emulator, `auth token`, a guide (`latchkey help security`) and `latchkey autocomplete bash`. `npm run uninstall-global` removes the
 * launcher and the install, and keeps the account.
 *
 * The copy has this checkout's files (sources, scripts, lockfile) and links to its installed dependencies
 * and toolchain (node_modules, .tools: half a gigabyte), so its set-up installs nothing and builds every
 * package once. npm fetches the outside dependencies from the registry this machine's npm is configured
 * with, through this machine's npm cache. Build first (`pnpm exec turbo run build`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, type CliRun } from '@latchkey/conformance/tools';
import { startNanoGptEmulator } from '@latchkey/testkit';
import { RUN_TIMEOUT_MS } from './harness.js';
import { repoRoot } from './registry.js';

/** Set-up (a build of every package), packing, npm install: a hang detector for a loaded machine. */
const INSTALL_TIMEOUT_MS = 900_000;
/** What the copy leaves out: history, and what it links to instead of copying. */
const NOT_COPIED = new Set(['.git', 'node_modules', '.tools', '.turbo', '.bench', 'tmp']);

let work: string;
let home: string;
let clone: string;
let installOutput = '';
const runs: CliRun[] = [];

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number) {
  return new Promise<Ran>((done, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** `command` in `env -i` bash: only HOME, PATH=$HOME/.local/bin:/usr/bin:/bin and TMPDIR. */
async function asUser(command: string): Promise<Ran> {
  // TMPDIR: npm (11) puts Node's compile cache there; the test's, not the machine's /tmp.
  const env = [`HOME=${home}`, `PATH=${home}/.local/bin:/usr/bin:/bin`, `TMPDIR=${tmpdir()}`];
  const ran = await exec('env', ['-i', ...env, 'bash', '-c', command], home, {}, RUN_TIMEOUT_MS);
  runs.push({
    args: command.split(' ').slice(1),
    stdout: ran.stdout,
    stderr: ran.stderr,
    exitCode: ran.code,
    signal: null,
  });
  return ran;
}

/**
 * An npm script of the checkout at `cwd`, as the user with HOME `home` runs it: the system's npm and Node
 * (not this project's toolchain, and none of the npm_* settings of the runner of this test).
 */
function npmRun(script: string, cwd: string): Promise<Ran> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(npm_|PREFIX$|XDG_|LATCHKEY_)/i.test(name)) env[name] = value;
  }
  env.PATH = (process.env.PATH ?? '/usr/bin:/bin')
    .split(':')
    .filter((dir) => !dir.includes('/.tools/') && !dir.includes('/node_modules/'))
    .join(':');
  // This machine's npm cache (only a cache): the outside dependencies are not fetched again each run.
  const cache = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();
  Object.assign(env, { HOME: home, ...(cache ? { npm_config_cache: cache } : {}) });
  return exec('npm', ['run', '-s', script], cwd, env, INSTALL_TIMEOUT_MS);
}

/** Every symbolic link under `dir` whose target is outside it. */
async function linksOutside(dir: string): Promise<string[]> {
  const outside: string[] = [];
  for (const entry of await readdir(dir, { recursive: true })) {
    const path = join(dir, entry);
    if (!(await lstat(path)).isSymbolicLink()) continue;
    const target = resolve(dirname(path), await readlink(path));
    if (!target.startsWith(`${dir}/`)) outside.push(`${path} -> ${target}`);
  }
  return outside;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'latchkey-install-global-'));
  home = join(work, 'home');
  clone = join(work, 'clone');
  await mkdir(home);
  await mkdir(clone);
  for (const entry of await readdir(repoRoot)) {
    if (NOT_COPIED.has(entry)) continue;
    await cp(join(repoRoot, entry), join(clone, entry), { recursive: true, verbatimSymlinks: true });
  }
  for (const linked of ['node_modules', '.tools']) {
    if (existsSync(join(repoRoot, linked))) await symlink(join(repoRoot, linked), join(clone, linked));
  }
  const install = await npmRun('install-global', clone);
  installOutput = `${install.stdout}\n${install.stderr}`;
  expect(install.code, `npm run install-global failed:\n${installOutput.slice(-6000)}`).toBe(0);
  await rm(clone, { recursive: true, force: true });
}, INSTALL_TIMEOUT_MS + 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
}, 60_000);

describe('npm run install-global, then the clone deleted', () => {
  it('put a launcher in ~/.local/bin and everything it runs in ~/.local/share/latchkey/install', async () => {
    const launcher = join(home, '.local', 'bin', 'latchkey');
    const installDir = join(home, '.local', 'share', 'latchkey', 'install');
    expect(installOutput).toContain(`The command: ${launcher}`);
    expect(existsSync(clone)).toBe(false);
    const script = await readFile(launcher, 'utf8');
    expect(script).toMatch(/^#!\/bin\/sh\n/);
    expect(script).toContain(`'${installDir}/node/bin/node'`);
    expect(script).not.toContain(clone);
    expect(script).not.toContain(repoRoot);
    // Nothing in it points back at the clone or this checkout (a link out would break with them).
    expect(await linksOutside(installDir)).toEqual([]);
    const record = JSON.parse(await readFile(join(installDir, 'INSTALL.json'), 'utf8')) as { node: string };
    expect(Number(record.node.split('.')[0])).toBeGreaterThanOrEqual(22);
  });

  it('latchkey --version runs on its own Node 22, whatever Node /usr/bin has', async () => {
    const system = await asUser('command -v node >/dev/null && node --version || echo none');
    const version = await asUser('latchkey --version');
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/^@latchkey\/cli\/0\.1\.0 \S+ node-v(2[2-9]|[3-9]\d)\.\d+\.\d+\n$/);
    // Shown for the record: the point is that it does not matter.
    expect(system.stdout).toMatch(/^(v\d+\.\d+\.\d+|none)\n$/);
  });

  it('signs in to NanoGPT with a device login against the emulator; auth token prints the key', async () => {
    const emulator = await startNanoGptEmulator({ interval: 1, autoApproveAfterPolls: 1 });
    try {
      const login = await asUser(
        `latchkey auth login --provider nanogpt --no-browser --base-url ${emulator.url}`,
      );
      expect(login.code, login.stderr).toBe(0);
      expect(emulator.issuedKeys()).toHaveLength(1);
      const key = emulator.issuedKeys()[0]!;
      expect(login.stderr).toContain(emulator.userCodes()[0]!);
      expect(login.stderr).toContain('Logged in to NanoGPT');
      const token = await asUser('latchkey auth token --provider nanogpt');
      expect(token.code, token.stderr).toBe(0);
      expect(token.stdout).toBe(`${key}\n`);
      assertNoSecretLeaks(runs, [key, ...emulator.deviceCodes()]);
    } finally {
      await emulator.close();
    }
  });

  it('latchkey help security prints the guide shipped in the package (the clone is gone)', async () => {
    const run = await asUser('latchkey help security');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Security\b.*\n=+\n/);
    expect(run.stdout.length).toBeGreaterThan(2000);
  });

  it('latchkey autocomplete bash prints the set-up for bash', async () => {
    const run = await asUser('latchkey autocomplete bash');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/latchkey/i);
    expect(run.stdout).toContain('bash');
  });

  it('npm run uninstall-global removes the launcher and the install, and keeps the account', async () => {
    const uninstall = await npmRun('uninstall-global', repoRoot);
    expect(uninstall.code, uninstall.stderr).toBe(0);
    expect(existsSync(join(home, '.local', 'bin', 'latchkey'))).toBe(false);
    expect(existsSync(join(home, '.local', 'share', 'latchkey', 'install'))).toBe(false);
    expect(uninstall.stdout).toContain('are kept');
    expect(await readdir(join(home, '.config', 'latchkey'))).toContain('accounts.json');
    const gone = await asUser('latchkey --version');
    expect(gone.code).toBe(127);
  });
});
