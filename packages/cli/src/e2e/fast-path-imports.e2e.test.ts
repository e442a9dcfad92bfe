/**
 * `auth token` runs inside other people's scripts: its fast path must load only what it needs (the manifest
 * module, the token check, storage), never oclif, plugin code, the whole plugin kit, the HTTP client or the
 * prompt library. Checked on the built binary with Node's module hooks recording every module it resolves.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = resolve(import.meta.dirname, '../../bin/run.js');
let dir: string;
let preload: string;
let log: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-fast-path-'));
  preload = join(dir, 'record-modules.mjs');
  log = join(dir, 'modules.txt');
  await writeFile(
    preload,
    `import { writeFileSync } from 'node:fs';
import * as module from 'node:module';
const seen = new Set();
module.registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
process.on('exit', () => writeFileSync(${JSON.stringify(log)}, [...seen].join('\\n')));
`,
  );
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
      NANOGPT_API_KEY: token,
    };
    delete env.CI;
    // The fast path answers from the provider cache, which the full CLI writes: warm a private one first,
    // as any earlier command would on a real machine.
    env.LATCHKEY_CACHE_DIR = join(dir, 'cache');
    const warm = spawnSync(process.execPath, [bin, 'auth', 'token', '--provider', 'nanogpt'], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(warm.status, warm.stderr).toBe(0);
    const run = spawnSync(
      process.execPath,
      ['--import', pathToFileURL(preload).href, bin, 'auth', 'token', '--provider', 'nanogpt'],
      {
        env,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${token}\n`);
    const modules = (await readFile(log, 'utf8')).split('\n').filter((url) => url.startsWith('file:'));
    expect(modules.some((url) => url.includes('/dist/fast-token.js'))).toBe(true); // it did take the fast path
    const forbidden = [
      /@oclif[/+]core/,
      /plugin-kit\/dist\/index\.js/,
      /http\/dist\/client\.js/,
      /undici/,
      /@inquirer/,
      /\/io\/prompter\.js/,
      /polling\/dist/,
      /oauth\/dist/,
      /plugins?\/(nanogpt|kaneo|nanoterm|nanoctl)\/dist/,
      /plugin-(nanogpt|kaneo|nanoterm|nanoctl)/,
    ];
    for (const pattern of forbidden) {
      expect(
        modules.filter((url) => pattern.test(url)),
        `loaded ${pattern}`,
      ).toEqual([]);
    }
  });
});
