// Real processes against the built package (dist/): concurrent writers, and what list()/get() load.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CredentialStore } from './index.js';

const run = promisify(execFile);
const dist = new URL('../dist/index.js', import.meta.url).href;

/** Runs an ES module snippet in a fresh Node process with `store` bound to the built package. */
async function node(script: string, env: Record<string, string> = {}): Promise<string> {
  const prelude = `const lk = await import(${JSON.stringify(dist)});\n`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', prelude + script], {
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return stdout;
}

let dir: string;
beforeAll(() => {
  if (!existsSync(fileURLToPath(dist)))
    throw new Error(
      `${fileURLToPath(dist)} is missing: build the package first (pnpm exec turbo run build --filter @latchkey/storage)`,
    );
});
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-proc-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('concurrent latchkey processes', () => {
  it('three processes saving 15 accounts each at the same time lose nothing', async () => {
    const writers = 3;
    const perWriter = 15;
    const script = `
      const store = new lk.CredentialStore({ configDir: process.env.LK_DIR, preference: 'file' });
      const id = process.env.LK_ID;
      await Promise.all(Array.from({ length: ${perWriter} }, (_, i) =>
        store.save({ provider: i % 2 ? 'nanogpt' : 'kaneo', account: 'w' + id + '-' + i, secret: 'secret-' + id + '-' + i + '-xyzzy' })));
      console.log('done');
    `;
    // allSettled: a writer that fails must not leave the others writing into dir while it is removed.
    const settled = await Promise.allSettled(
      Array.from({ length: writers }, (_, id) => node(script, { LK_DIR: dir, LK_ID: String(id) })),
    );
    const outputs = settled.map((s) => {
      if (s.status === 'rejected') throw s.reason;
      return s.value;
    });
    expect(outputs.every((o) => o.trim() === 'done')).toBe(true);

    const store = new CredentialStore({ configDir: dir, preference: 'file' });
    const records = await store.list();
    expect(records.length).toBe(writers * perWriter);
    for (let id = 0; id < writers; id++) {
      for (let i = 0; i < perWriter; i++) {
        const got = await store.get(i % 2 ? 'nanogpt' : 'kaneo', `w${id}-${i}`);
        expect(got?.secret).toBe(`secret-${id}-${i}-xyzzy`);
      }
    }
    expect(
      records
        .filter((r) => r.active)
        .map((r) => r.provider)
        .sort(),
    ).toEqual(['kaneo', 'nanogpt']);
    expect((await fs.readdir(dir)).sort()).toEqual(['accounts.json', 'credentials.enc', 'credentials.key']);
  }, 30_000);
});

describe.skipIf(process.platform !== 'linux')('the keychain library is loaded lazily', () => {
  it('list() and a file-backed get() never load @napi-rs/keyring; a keychain call does', async () => {
    const out = await node(
      `
      const { readFileSync } = await import('node:fs');
      const loaded = () => readFileSync('/proc/self/maps', 'utf8').includes('keyring');
      const store = new lk.CredentialStore({ configDir: process.env.LK_DIR, preference: 'file' });
      await store.save({ provider: 'p', account: 'a', secret: 'sek-ret-value-1' });
      await store.list();
      const got = await store.get('p');
      const before = loaded();
      await lk.createKeychainBackend('latchkey-lazy-test').get('p:a').catch(() => undefined);
      console.log(JSON.stringify({ before, after: loaded(), secret: got.secret }));
      `,
      { LK_DIR: dir, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent' },
    );
    expect(JSON.parse(out)).toEqual({ before: false, after: true, secret: 'sek-ret-value-1' });
  });
});
