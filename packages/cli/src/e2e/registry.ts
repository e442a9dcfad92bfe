/**
 * A local npm registry for the install e2e suites: packages/registry-fixture/start.mjs (verdaccio on
 * 127.0.0.1) in a child process, a publishing user, and packing + publishing the workspace's REAL packages
 * the way a release packs them (`pnpm pack` rewrites `workspace:` ranges into real versions).
 */
import { pinnedNpm as pinnedNpmCommand } from '../io/npm.js';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, fetch as undiciFetch } from 'undici';
import { expect } from 'vitest';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const cliRoot = join(repoRoot, 'packages', 'cli');
const registryScript = join(repoRoot, 'packages', 'registry-fixture', 'start.mjs');

export interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a helper process (pnpm, npm, openssl) with a bounded time and the given environment. */
export function exec(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined>; timeoutMs?: number },
): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function expectOk(what: string, result: Exec): void {
  expect(result.code, `${what} failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
}

/** The npm @oclif/plugin-plugins pins (npm/bin/npm-cli.js): npm 11, run by this Node. */
export function pinnedNpm(): string {
  const npm = pinnedNpmCommand();
  if (!npm) throw new Error('@oclif/plugin-plugins has no npm to run');
  return npm.args[0]!;
}

/** pnpm, as the one running this test when there is one (npm_execpath), else from PATH. */
export function pnpmCommand(): [string, string[]] {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(execPath) && /\.c?js$/.test(execPath)) return [process.execPath, [execPath]];
  return ['pnpm', []];
}

export interface Registry {
  url: string;
  child: ChildProcess;
  output: () => string;
}

/** start.mjs in a child process (extra arguments: --https-key/--https-cert, --uplink); resolves once it listens. */
export async function startRegistry(dir: string, args: string[] = []): Promise<Registry> {
  const child = spawn(process.execPath, [registryScript, dir, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`registry did not start within 120 s:\n${output}`)),
      120_000,
    );
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const ready = /LATCHKEY_REGISTRY_READY (\{.*\})/.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolve((JSON.parse(ready[1]!) as { url: string }).url);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`registry exited (${code}) before it listened:\n${output}`));
    });
  });
  try {
    return { url: await listening, child, output: () => output };
  } catch (error) {
    // Not left writing into `dir` while the caller removes it.
    await stopRegistry({ url: '', child, output: () => output });
    throw error;
  }
}

export async function stopRegistry(registry: Registry | undefined): Promise<void> {
  if (!registry || registry.child.exitCode !== null || registry.child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => registry.child.kill('SIGKILL'), 3000);
    registry.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    registry.child.kill('SIGTERM');
  });
}

/** A publishing user on the registry (verdaccio's htpasswd); returns its token. `ca` for an https registry. */
export async function registryToken(url: string, ca?: string): Promise<string> {
  const dispatcher = new Agent({ connect: ca ? { ca } : {} });
  try {
    const response = await undiciFetch(`${url}/-/user/org.couchdb.user:ci`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ci', password: randomBytes(12).toString('hex') }),
      signal: AbortSignal.timeout(60_000),
      dispatcher,
    });
    const text = await response.text();
    expect(response.status, text).toBe(201);
    return (JSON.parse(text) as { token: string }).token;
  } finally {
    await dispatcher.close();
  }
}

/** Packs workspace packages (relative to the repo root) with pnpm into `dest`. */
export async function packWorkspace(
  dirs: string[],
  dest: string,
  env: Record<string, string>,
): Promise<void> {
  await mkdir(dest, { recursive: true });
  const [pnpm, pnpmArgs] = pnpmCommand();
  const results = await Promise.all(
    dirs.map((dir) =>
      exec(pnpm, [...pnpmArgs, 'pack', '--pack-destination', dest], { cwd: join(repoRoot, dir), env }),
    ),
  );
  results.forEach((result, i) => expectOk(`pack ${dirs[i]}`, result));
}

/** Packs installed (non-workspace) package directories with npm into `dest`. */
export async function packInstalled(
  dirs: string[],
  dest: string,
  env: Record<string, string>,
): Promise<void> {
  await mkdir(dest, { recursive: true });
  const npm = pinnedNpm();
  const results = await Promise.all(
    dirs.map((dir) =>
      exec(process.execPath, [npm, 'pack', '--ignore-scripts', '--pack-destination', dest, dir], {
        cwd: dest,
        env,
      }),
    ),
  );
  results.forEach((result, i) => expectOk(`pack ${dirs[i]}`, result));
}

/** Publishes every tarball in `dir` (npm reads the token and any cafile from `env`'s npmrc). */
export async function publishAll(
  dir: string,
  registryUrl: string,
  env: Record<string, string>,
): Promise<string[]> {
  const npm = pinnedNpm();
  const tarballs = (await readdir(dir)).filter((f) => f.endsWith('.tgz')).sort();
  const results = await Promise.all(
    tarballs.map((tgz) =>
      exec(
        process.execPath,
        [npm, 'publish', join(dir, tgz), '--ignore-scripts', '--tag', 'latest', `--registry=${registryUrl}/`],
        { cwd: dir, env },
      ),
    ),
  );
  results.forEach((result, i) => expectOk(`publish ${tarballs[i]}`, result));
  return tarballs;
}

/** An npmrc with `lines`, plus the registry's token line. */
export async function writeNpmrc(
  path: string,
  registryUrl: string,
  token: string,
  lines: string[],
): Promise<void> {
  const hostPath = registryUrl.replace(/^https?:/, '');
  await writeFile(path, [...lines, `${hostPath}/:_authToken=${token}`, ''].join('\n'));
}

/** A certificate authority and a server certificate for 127.0.0.1 it signed (openssl, from Debian). */
export async function makeCertificates(dir: string): Promise<{ ca: string; key: string; cert: string }> {
  await mkdir(dir, { recursive: true });
  const run = (args: string[]) =>
    new Promise<void>((resolve, reject) =>
      execFile('openssl', args, { cwd: dir, timeout: 30_000 }, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  await run(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
    ].concat(['-subj', '/CN=latchkey test CA']),
  );
  await run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'key.pem',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  ]);
  await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await run(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-out',
      'cert.pem',
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
    ]),
  );
  return { ca: join(dir, 'ca.pem'), key: join(dir, 'key.pem'), cert: join(dir, 'cert.pem') };
}
