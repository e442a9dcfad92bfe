// The keychain backend against a REAL Secret Service (gnome-keyring on a private D-Bus session bus).
// Run through scripts/with-secret-service.sh (the package's `test` script does), which sets
// LATCHKEY_SECRET_SERVICE=1. Without it these tests skip, except under CI, where they fail.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { latchkeyRejection, lockDefaultKeyring } from '@latchkey/testkit';
import { CredentialStore, createKeychainBackend } from '../index.js';

const run = promisify(execFile);
const available = process.env.LATCHKEY_SECRET_SERVICE === '1';
const inCi = Boolean(process.env.CI);
const SKIP_REASON =
  'no Secret Service: run through scripts/with-secret-service.sh (apt: gnome-keyring libsecret-tools dbus dbus-x11)';

const has = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const rejection = latchkeyRejection;

/** Every file under dir, for "the secret is in no file" checks. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

let dir: string;
let service: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-kc-'));
  service = `latchkey-test-${randomBytes(4).toString('hex')}`;
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

if (!available) {
  if (inCi) {
    it('a Secret Service is available (required when CI is set)', () => {
      throw new Error(`CI is set but ${SKIP_REASON}`);
    });
  } else {
    console.warn(`keychain tests skipped: ${SKIP_REASON}`);
    it.skip(`keychain tests skipped: ${SKIP_REASON}`, () => undefined);
  }
}

describe.skipIf(!available)('keychain backend against a real Secret Service', () => {
  it("'keychain' stores the secret in the Secret Service and in no file; get and remove", async () => {
    const secret = `sk-nano-${randomBytes(12).toString('hex')}`;
    const store = new CredentialStore({ configDir: dir, preference: 'keychain', service });
    const { record, fallbackReason } = await store.save({ provider: 'nanogpt', account: 'alice', secret });
    expect(record.backend).toBe('keychain');
    expect(fallbackReason).toBeUndefined();

    // In the Secret Service: read back through a fresh backend instance, and with secret-tool.
    // The item holds the secret bound to its base URL and config directory (docs/storage.md).
    const item = JSON.stringify({ v: 2, secret, baseUrl: null, dir });
    expect(await createKeychainBackend(service).get('nanogpt:alice')).toBe(item);
    if (has('secret-tool')) {
      const { stdout } = await run('secret-tool', [
        'lookup',
        'service',
        service,
        'username',
        'nanogpt:alice',
      ]);
      expect(stdout.trim()).toBe(item);
    }
    // Not in any file.
    for (const file of await filesUnder(dir)) {
      expect((await fs.readFile(file)).includes(Buffer.from(secret)), file).toBe(false);
    }
    expect(await fs.readdir(dir)).not.toContain('credentials.enc');

    expect((await store.get('nanogpt'))?.secret).toBe(secret);
    expect((await new CredentialStore({ configDir: dir, service }).get('nanogpt', 'alice'))?.secret).toBe(
      secret,
    );

    expect((await store.remove('nanogpt')).map((r) => r.account)).toEqual(['alice']);
    expect(await createKeychainBackend(service).get('nanogpt:alice')).toBeUndefined();
    expect(await store.get('nanogpt')).toBeUndefined();
  });

  it("'auto' uses the keychain when it is available", async () => {
    const store = new CredentialStore({ configDir: dir, service });
    const result = await store.save({ provider: 'kaneo', account: 'bob', secret: 'kaneo-token-0123456789' });
    expect(result.record.backend).toBe('keychain');
    expect(result.fallbackReason).toBeUndefined();
    expect((await store.get('kaneo'))?.secret).toBe('kaneo-token-0123456789');
    await store.remove('kaneo', 'all');
  });

  it("a secret removed from the keychain behind latchkey's back is CREDENTIAL_MISSING", async () => {
    const store = new CredentialStore({ configDir: dir, service });
    await store.save({ provider: 'p', account: 'a', secret: 'some-secret-value' });
    expect(await createKeychainBackend(service).delete('p:a')).toBe(true);
    expect((await rejection(store.get('p'))).code).toBe('CREDENTIAL_MISSING');
  });

  it('a keychain item without an index record is found through the keyring search and removed', async () => {
    const store = new CredentialStore({ configDir: dir, service });
    await store.save({ provider: 'nanogpt', account: 'kept', secret: 'sk-nano-keptkeptkeptkept' });
    await store.save({ provider: 'nanogpt', account: 'lost', secret: 'sk-nano-lostlostlostlost' });
    // A crash after the keychain write, before the index write: the index never learnt of 'lost'.
    const indexFile = path.join(dir, 'accounts.json');
    const doc = JSON.parse(await fs.readFile(indexFile, 'utf8'));
    doc.accounts = doc.accounts.filter((r: { account: string }) => r.account !== 'lost');
    doc.active = { nanogpt: 'kept' };
    await fs.writeFile(indexFile, JSON.stringify(doc));

    const orphan = { provider: 'nanogpt', account: 'lost', backend: 'keychain' };
    expect(await store.orphans()).toEqual([orphan]);
    expect(await store.removeOrphans()).toEqual([orphan]);
    expect(await createKeychainBackend(service).get('nanogpt:lost')).toBeUndefined();
    expect((await store.get('nanogpt'))?.secret).toBe('sk-nano-keptkeptkeptkept');
    await store.remove('nanogpt', 'all');
  });

  // Keep this test last: it leaves the default collection locked for the rest of this session.
  it('a LOCKED keyring: get() throws KEYCHAIN_LOCKED, never "not signed in"; auto save falls back', async () => {
    const store = new CredentialStore({ configDir: dir, service });
    await store.save({ provider: 'nanogpt', account: 'locked', secret: 'sk-nano-lockedlockedlocked' });

    lockDefaultKeyring();

    const error = await rejection(store.get('nanogpt'));
    expect(error.code).toBe('KEYCHAIN_LOCKED');
    expect(error.action).toContain('--storage file');
    expect(error.message).not.toContain('sk-nano-locked');

    const fallback = await store.save({
      provider: 'nanogpt',
      account: 'other',
      secret: 'sk-nano-otherotherother',
    });
    expect(fallback.record.backend).toBe('file');
    expect(fallback.fallbackReason).toMatch(/locked/);

    const strict = new CredentialStore({ configDir: dir, service, preference: 'keychain' });
    expect((await rejection(strict.save({ provider: 'x', account: 'y', secret: 'zzzzzzzzzzzz' }))).code).toBe(
      'KEYCHAIN_LOCKED',
    );
  });
});

describe.skipIf(process.platform !== 'linux')('an ABSENT Secret Service (no D-Bus session bus)', () => {
  it("'keychain' throws KEYCHAIN_UNAVAILABLE; 'auto' falls back to the file with a reason", async () => {
    const dist = new URL('../../dist/index.js', import.meta.url).href;
    const script = `
      const lk = await import(${JSON.stringify(dist)});
      const out = {};
      const strict = new lk.CredentialStore({ configDir: process.env.LK_DIR, preference: 'keychain', service: 'latchkey-absent-test' });
      try { await strict.save({ provider: 'p', account: 'a', secret: 'sk-nano-absentabsentabsent' }); out.strict = 'saved'; }
      catch (e) { out.strict = { code: e.code, message: e.message, action: e.action }; }
      const auto = new lk.CredentialStore({ configDir: process.env.LK_DIR, service: 'latchkey-absent-test' });
      const saved = await auto.save({ provider: 'p', account: 'b', secret: 'sk-nano-fallbackfallback' });
      out.auto = { backend: saved.record.backend, fallbackReason: saved.fallbackReason, secret: (await auto.get('p')).secret };
      console.log(JSON.stringify(out));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, LK_DIR: dir, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/latchkey-bus' },
      timeout: 20_000,
    });
    const out = JSON.parse(stdout);
    expect(out.strict.code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(out.strict.action).toContain('--storage file');
    expect(out.strict.message).not.toContain('sk-nano-absent');
    expect(out.auto.backend).toBe('file');
    expect(out.auto.fallbackReason).toMatch(/not available/);
    expect(out.auto.fallbackReason).not.toContain('sk-nano-fallback');
    expect(out.auto.secret).toBe('sk-nano-fallbackfallback');
  });
});
