/**
 * One front door (issue 21), through the built binary: `--version` is the one line oclif's own
 * `Config.userAgent` would print, answered from package.json without oclif; `--help`, `auth providers` and
 * `auth status` are oclif's, every time, and leave nothing behind to replay (no info cache); the fast paths
 * and the oclif commands read one flag definition, so a form the fast path hands over gets oclif's message.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Config } from '@oclif/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moduleRecorder, RUN_TIMEOUT_MS } from './harness.js';

const cliRoot = resolve(import.meta.dirname, '../..');
const bin = join(cliRoot, 'bin/run.cjs');
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-front-door-'));
  env = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(LATCHKEY_|NANOGPT_|KANEO_|NANOTERM_|NANOCTL_)/.test(name)) delete env[name];
  Object.assign(env, {
    LATCHKEY_CONFIG_DIR: join(dir, 'config'),
    LATCHKEY_DATA_DIR: join(dir, 'data'),
    LATCHKEY_CACHE_DIR: join(dir, 'cache'),
    NO_COLOR: '1',
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function latchkey(args: string[], importArgs: string[] = []) {
  return spawnSync(process.execPath, [...importArgs, bin, ...args], {
    env,
    encoding: 'utf8',
    timeout: RUN_TIMEOUT_MS,
  });
}

describe('one front door', () => {
  it("--version and -v print oclif's version line, without loading oclif", async () => {
    const config = await Config.load(cliRoot);
    for (const flag of ['--version', '-v']) {
      const recorder = await moduleRecorder(dir);
      const run = latchkey([flag], recorder.importArgs);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toBe(`${config.userAgent}\n`);
      const files = (await recorder.modules()).filter((url) => !url.startsWith('node:'));
      expect(files.some((url) => /@oclif[/+]core/.test(url))).toBe(false);
    }
  });

  it('--help, auth providers and auth status are answered by oclif and leave no cache to replay', () => {
    const help = latchkey(['--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('USAGE');
    expect(help.stdout).toContain('EXIT CODES');
    const providers = latchkey(['auth', 'providers']);
    expect(providers.status, providers.stderr).toBe(0);
    expect(providers.stdout).toContain('nanogpt');
    const status = latchkey(['auth', 'status']);
    expect(status.status).toBe(4);
    expect(status.stderr).toContain('Not signed in');
    // Only Node's compile cache: no info-*.json (or any other answer) written for the next run.
    expect(readdirSync(join(dir, 'cache'))).toEqual(['compile']);
  });

  it('a form the fast path leaves to oclif gets the command its own flags: help, and the usage error', () => {
    const help = latchkey(['auth', 'token', '--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/-p, --provider=<value>/);
    expect(help.stdout).toContain('--account=<value>');
    // The help says when auth token touches the network.
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      'Network: none, except when the stored credential is an OAuth access token that can be refreshed and is due',
    );
    const twice = latchkey(['auth', 'token', '--provider', 'nanogpt', '--provider', 'kaneo']);
    expect(twice.status).toBe(2);
    expect(twice.stdout).toBe('');
    expect(twice.stderr).toMatch(/--provider/);
  });
});
