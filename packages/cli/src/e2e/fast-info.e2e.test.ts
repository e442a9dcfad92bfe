/**
 * `latchkey --version`, `--help`, `auth providers` and `auth status` with nothing stored answered without
 * oclif (src/fast-info.ts, from the info cache the full CLI writes): through the built binary, the first run
 * of each form is the full CLI's, the second the fast path's (one bundle file, no oclif), with the same
 * stdout, stderr and exit code. A changed plugin list, a credential in the environment or a stored account
 * hand over to the full CLI. Build first: `pnpm exec turbo run build --filter=@latchkey/cli...`.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialStore } from '@latchkey/storage';
import { expectFastPath, moduleRecorder } from './harness.js';

const cliRoot = join(import.meta.dirname, '../..');
const bin = join(cliRoot, 'bin/run.cjs');
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-fast-info-'));
  env = {
    PATH: process.env.PATH,
    HOME: dir,
    LATCHKEY_CONFIG_DIR: join(dir, 'config'),
    LATCHKEY_DATA_DIR: join(dir, 'data'),
    LATCHKEY_STORAGE: 'file',
    NO_COLOR: '1',
    TERM: 'dumb',
  };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  modules: string[];
}

/** One run of the built binary with a module recorder; `cache` is its LATCHKEY_CACHE_DIR. */
async function run(args: string[], cache: string, extra: NodeJS.ProcessEnv = {}): Promise<Run> {
  const recorder = await moduleRecorder(dir);
  const r = spawnSync(process.execPath, [...recorder.importArgs, bin, ...args], {
    env: { ...env, LATCHKEY_CACHE_DIR: join(dir, cache), ...extra },
    encoding: 'utf8',
    timeout: 45_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, modules: await recorder.modules() };
}

const viaOclif = (r: Run) => r.modules.some((url) => /@oclif[/+]core/.test(url));
const shown = (r: Run) => ({ code: r.code, stdout: r.stdout, stderr: r.stderr });

describe('plain forms answered without oclif, byte for byte as the full CLI answers them', () => {
  const forms: Array<{ args: string[]; code: number; check: (r: Run) => void }> = [
    {
      args: ['--version'],
      code: 0,
      check: (r) => expect(r.stdout).toMatch(/^@latchkey\/cli\/\S+ \S+ node-v/),
    },
    { args: ['-v'], code: 0, check: (r) => expect(r.stdout).toContain(` node-${process.version}\n`) },
    { args: ['--help'], code: 0, check: (r) => expect(r.stdout).toContain('EXIT CODES') },
    { args: ['-h'], code: 0, check: (r) => expect(r.stdout).toContain('auth') },
    { args: [], code: 0, check: (r) => expect(r.stdout).toContain('EXAMPLES') },
    { args: ['auth', 'providers'], code: 0, check: (r) => expect(r.stdout).toMatch(/^ID +PROVIDER/) },
    {
      args: ['auth', 'status'],
      code: 4,
      check: (r) =>
        expect(r.stderr).toBe(
          'latchkey: Not signed in to any provider.\n  Run `latchkey auth login --provider <id>`.\n',
        ),
    },
  ];
  for (const [i, form] of forms.entries()) {
    it(`latchkey ${form.args.join(' ') || '(no arguments)'}`, async () => {
      const full = await run(form.args, `cache-${i}`);
      expect(viaOclif(full), 'the first run (no cache yet) is the full CLI').toBe(true);
      expect(full.code, full.stderr).toBe(form.code);
      form.check(full);
      const fast = await run(form.args, `cache-${i}`);
      expectFastPath(fast.modules, 'fast-info.cjs');
      expect(shown(fast)).toEqual(shown(full));
    });
  }

  it('OCLIF_COLUMNS=120: the help page is remembered per width', async () => {
    const narrow = await run(['--help'], 'cache-width');
    const wide = await run(['--help'], 'cache-width', { OCLIF_COLUMNS: '120' });
    expect(viaOclif(wide), 'a width not seen before is the full CLI').toBe(true);
    const again = await run(['--help'], 'cache-width', { OCLIF_COLUMNS: '120' });
    expectFastPath(again.modules, 'fast-info.cjs');
    expect(shown(again)).toEqual(shown(wide));
    const narrowAgain = await run(['--help'], 'cache-width');
    expectFastPath(narrowAgain.modules, 'fast-info.cjs');
    expect(shown(narrowAgain)).toEqual(shown(narrow));
  });
});

describe('handing over to the full CLI', () => {
  it('the list of user-installed plugins changed: full CLI once, then fast again', async () => {
    const first = await run(['auth', 'providers'], 'cache-plugins');
    expectFastPath((await run(['auth', 'providers'], 'cache-plugins')).modules, 'fast-info.cjs');
    // oclif's list of user-installed plugins appears (as `plugins install` would write it).
    await mkdir(join(dir, 'data'), { recursive: true });
    await writeFile(
      join(dir, 'data', 'package.json'),
      JSON.stringify({ private: true, oclif: { schema: 1, plugins: [] } }),
    );
    const changed = await run(['auth', 'providers'], 'cache-plugins');
    expect(viaOclif(changed)).toBe(true);
    expect(shown(changed)).toEqual(shown(first));
    expectFastPath((await run(['auth', 'providers'], 'cache-plugins')).modules, 'fast-info.cjs');
    await rm(join(dir, 'data', 'package.json'));
  });

  it('auth status with a credential in the environment or a stored account: the full CLI checks it', async () => {
    await run(['auth', 'status'], 'cache-status');
    const empty = await run(['auth', 'status'], 'cache-status');
    expectFastPath(empty.modules, 'fast-info.cjs');
    // A closed port: the check fails fast, exit 1 (could not be checked), not "Not signed in".
    const closed = {
      NANOGPT_BASE_URL: 'http://127.0.0.1:9',
      LATCHKEY_NANOGPT_BASE_URL: 'http://127.0.0.1:9',
    };
    const fromEnv = await run(['auth', 'status'], 'cache-status', {
      NANOGPT_API_KEY: 'sk-nano-fast-info-test',
      ...closed,
    });
    expect(viaOclif(fromEnv)).toBe(true);
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stdout).toContain('NANOGPT_API_KEY');

    const store = new CredentialStore({ configDir: join(dir, 'config'), preference: 'file' });
    await store.save({
      provider: 'nanogpt',
      account: 'ada',
      secret: 'sk-nano-fast-info-stored',
      baseUrl: 'http://127.0.0.1:9',
    });
    const stored = await run(['auth', 'status'], 'cache-status');
    expect(viaOclif(stored)).toBe(true);
    expect(stored.code).toBe(1);
    expect(stored.stdout).toContain('ada (active)');
    expect(`${stored.stdout}${stored.stderr}`).not.toContain('sk-nano-fast-info-stored');
  });
});
