/**
 * `auth token` runs inside other people's scripts: its fast path must load only what it needs (the manifest
 * module, the token check, storage), never oclif, plugin code, the whole plugin kit, the HTTP client or the
 * prompt library. Checked on the built binary with Node's module hooks recording every module it resolves.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFastPath, moduleRecorder } from './harness.js';

const bin = resolve(import.meta.dirname, '../../bin/run.js');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-fast-path-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('auth token fast path', () => {
  it('prints the env token having loaded no oclif, plugin code, plugin-kit index, HTTP client or prompts', async () => {
    const token = 'sk-nano-fastpath0123456789abcdef';
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LATCHKEY_CONFIG_DIR: join(dir, 'config'),
      // The fast path answers from the provider cache, which the full CLI writes: warm a private one
      // first, as any earlier command would on a real machine.
      LATCHKEY_CACHE_DIR: join(dir, 'cache'),
      NANOGPT_API_KEY: token,
    };
    delete env.CI;
    const warm = spawnSync(process.execPath, [bin, 'auth', 'token', '--provider', 'nanogpt'], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(warm.status, warm.stderr).toBe(0);
    const recorder = await moduleRecorder(dir);
    const run = spawnSync(
      process.execPath,
      [...recorder.importArgs, bin, 'auth', 'token', '--provider', 'nanogpt'],
      { env, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${token}\n`);
    expectFastPath(await recorder.modules(), 'fast-token.js');
  });
});
