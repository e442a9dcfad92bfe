import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, LatchkeyError } from '@latchkey/errors';
import { createFakeClock } from '@latchkey/conformance/tools';
import { latchkeyRejection } from '@latchkey/testkit';
import { CredentialStore, type SecretBackend } from './index.js';
import { createKeychainBackendWith, mapKeychainError, type KeyringModule } from './backends/keychain.js';
import { withLock } from './lock.js';

const SECRET = 'sk-nano-0b7c7d64aaaabbbbccccdddd';

/** An in-memory keychain whose state the test switches. */
class FakeKeychain implements SecretBackend {
  readonly name = 'keychain' as const;
  readonly items = new Map<string, string>();
  state: 'ok' | 'locked' | 'unavailable' = 'ok';
  private check(): void {
    if (this.state === 'locked')
      throw mapKeychainError(
        new Error("Couldn't access platform storage: Secret Service: unlock prompt was dismissed"),
      );
    if (this.state === 'unavailable')
      throw mapKeychainError(
        new Error('Platform failure: DBus error: Failed to connect to socket /nonexistent'),
      );
  }
  async get(key: string) {
    this.check();
    return this.items.get(key);
  }
  async set(key: string, secret: string) {
    this.check();
    this.items.set(key, secret);
  }
  async delete(key: string) {
    this.check();
    return this.items.delete(key);
  }
}

const rejection = latchkeyRejection;

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-store-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('backend choice', () => {
  it("'auto' uses the keychain when it works", async () => {
    const keychain = new FakeKeychain();
    const store = new CredentialStore({ configDir: dir, keychain });
    const result = await store.save({ provider: 'p', account: 'a', secret: SECRET });
    expect(result.record.backend).toBe('keychain');
    expect(result.fallbackReason).toBeUndefined();
    expect(JSON.parse(keychain.items.get('p:a')!)).toEqual({ v: 2, secret: SECRET, baseUrl: null, dir });
    expect(await fs.readdir(dir)).not.toContain('credentials.enc');
    expect((await store.get('p'))?.secret).toBe(SECRET);
  });

  for (const state of ['unavailable', 'locked'] as const) {
    it(`'auto' falls back to the file when the keychain is ${state}, and says why`, async () => {
      const keychain = new FakeKeychain();
      keychain.state = state;
      const store = new CredentialStore({ configDir: dir, keychain });
      const result = await store.save({ provider: 'p', account: 'a', secret: SECRET });
      expect(result.record.backend).toBe('file');
      expect(result.fallbackReason).toMatch(state === 'locked' ? /locked/ : /not available/);
      expect(result.fallbackReason).not.toContain(SECRET);
      expect(result.fallbackCode).toBe(state === 'locked' ? 'KEYCHAIN_LOCKED' : 'KEYCHAIN_UNAVAILABLE');
      keychain.state = 'ok';
      expect((await store.get('p'))?.secret).toBe(SECRET); // read from the file, not the keychain
    });

    it(`'keychain' never falls back (${state})`, async () => {
      const keychain = new FakeKeychain();
      keychain.state = state;
      const store = new CredentialStore({ configDir: dir, preference: 'keychain', keychain });
      const error = await rejection(store.save({ provider: 'p', account: 'a', secret: SECRET }));
      expect(error.code).toBe(state === 'locked' ? 'KEYCHAIN_LOCKED' : 'KEYCHAIN_UNAVAILABLE');
      expect(error.message).not.toContain(SECRET);
      expect(error.action).toContain('--storage file');
      expect(await store.list()).toEqual([]);
    });
  }

  it("'file' never touches the keychain", async () => {
    const keychain = new FakeKeychain();
    const store = new CredentialStore({ configDir: dir, preference: 'file', keychain });
    await store.save({ provider: 'p', account: 'a', secret: SECRET });
    expect(keychain.items.size).toBe(0);
  });

  it('other keychain failures are not a reason to fall back', async () => {
    const keychain = new FakeKeychain();
    keychain.set = () => Promise.reject(mapKeychainError(new Error('Ambiguous: two credentials match')));
    const error = await rejection(
      new CredentialStore({ configDir: dir, keychain }).save({ provider: 'p', account: 'a', secret: SECRET }),
    );
    expect(error.code).toBe('KEYCHAIN_ERROR');
  });
});

describe('reading and removing keychain-held credentials', () => {
  it('get() throws when the keychain is locked or unavailable: never "not signed in"', async () => {
    const keychain = new FakeKeychain();
    const store = new CredentialStore({ configDir: dir, keychain });
    await store.save({ provider: 'p', account: 'a', secret: SECRET });
    keychain.state = 'locked';
    const locked = await rejection(store.get('p'));
    expect(locked.code).toBe('KEYCHAIN_LOCKED');
    expect(locked.action).toMatch(/[Uu]nlock/);
    keychain.state = 'unavailable';
    expect((await rejection(store.get('p'))).code).toBe('KEYCHAIN_UNAVAILABLE');
    // list() reads only the index.
    expect((await store.list()).map((r) => r.account)).toEqual(['a']);
  });

  it('CREDENTIAL_MISSING when the keychain lost the secret', async () => {
    const keychain = new FakeKeychain();
    const store = new CredentialStore({ configDir: dir, keychain });
    await store.save({ provider: 'p', account: 'a', secret: SECRET });
    keychain.items.clear();
    const error = await rejection(store.get('p'));
    expect(error.code).toBe('CREDENTIAL_MISSING');
    expect(error.exitCode).toBe(ExitCode.Auth);
  });

  it('remove() with a locked keychain throws and keeps the index entry', async () => {
    const keychain = new FakeKeychain();
    const store = new CredentialStore({ configDir: dir, keychain });
    await store.save({ provider: 'p', account: 'a', secret: SECRET });
    keychain.state = 'locked';
    expect((await rejection(store.remove('p'))).code).toBe('KEYCHAIN_LOCKED');
    keychain.state = 'ok';
    expect((await store.remove('p')).map((r) => r.account)).toEqual(['a']);
    expect(keychain.items.size).toBe(0);
  });

  it('an account moving from the keychain to the file leaves no secret behind', async () => {
    const keychain = new FakeKeychain();
    await new CredentialStore({ configDir: dir, keychain }).save({
      provider: 'p',
      account: 'a',
      secret: SECRET,
    });
    const moved = await new CredentialStore({ configDir: dir, keychain, preference: 'file' }).save({
      provider: 'p',
      account: 'a',
      secret: 'sk-nano-newnewnewnewnewnew',
    });
    expect(moved.record.backend).toBe('file');
    expect(keychain.items.size).toBe(0);
  });
});

describe('keychain backend over @napi-rs/keyring (fake module)', () => {
  const hanging: KeyringModule = {
    AsyncEntry: class {
      getPassword = () => new Promise<string | null>(() => undefined);
      setPassword = () => new Promise<void>(() => undefined);
      deletePassword = () => new Promise<boolean>(() => undefined);
    },
  };

  /** A time limit the test ends by hand: records each limit asked for; `expire()` is the limit running out. */
  function manualTimeout() {
    const controller = new AbortController();
    const requested: number[] = [];
    return {
      requested,
      timeout: (ms: number) => (requested.push(ms), controller.signal),
      expire: () => controller.abort(),
    };
  }

  it('a call that never answers ends in KEYCHAIN_TIMEOUT when its 30 s limit runs out, not before', async () => {
    const limit = manualTimeout();
    let given: AbortSignal | undefined;
    let started!: () => void;
    const called = new Promise<void>((resolve) => (started = resolve));
    const recording: KeyringModule = {
      AsyncEntry: class extends hanging.AsyncEntry {
        override getPassword = (signal?: AbortSignal | null) => {
          given = signal ?? undefined;
          started();
          return new Promise<string | null>(() => undefined);
        };
      },
    };
    const backend = createKeychainBackendWith({ load: async () => recording, timeout: limit.timeout });
    let settled: LatchkeyError | undefined;
    const pending = backend.get('p:a').catch((error: LatchkeyError) => (settled = error));
    await called;
    expect(limit.requested).toEqual([30_000]); // a macOS permission prompt gets its time
    expect(settled).toBeUndefined();
    expect(given?.aborted).toBe(false);
    limit.expire();
    await pending;
    expect(given?.aborted).toBe(true); // the library is told to stop too
    expect(settled?.code).toBe('KEYCHAIN_TIMEOUT');
    expect(settled?.exitCode).toBe(ExitCode.Failure);
    expect(settled?.message).toContain('did not answer within 30 s');
    expect(settled?.action).toMatch(/prompt/);
  });

  it('the real time limit (AbortSignal.timeout) ends a hanging call after timeoutMs', async () => {
    const backend = createKeychainBackendWith({ load: async () => hanging, timeoutMs: 100 });
    const started = Date.now();
    const error = await rejection(backend.get('p:a'));
    expect(error.code).toBe('KEYCHAIN_TIMEOUT');
    expect(error.message).toContain('did not answer within 0.1 s');
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it("a keychain timeout is never a reason for 'auto' to fall back to the file", async () => {
    const limit = manualTimeout();
    let started!: () => void;
    const called = new Promise<void>((resolve) => (started = resolve));
    const slow: KeyringModule = {
      AsyncEntry: class extends hanging.AsyncEntry {
        override setPassword = () => {
          started();
          return new Promise<void>(() => undefined);
        };
      },
    };
    const keychain = createKeychainBackendWith({ load: async () => slow, timeout: limit.timeout });
    const store = new CredentialStore({ configDir: dir, keychain });
    const saving = rejection(store.save({ provider: 'p', account: 'a', secret: SECRET }));
    await called; // the index was read and the lock taken (real file I/O) before the keychain call
    limit.expire();
    const error = await saving;
    expect(error.code).toBe('KEYCHAIN_TIMEOUT');
    expect(await fs.readdir(dir)).not.toContain('credentials.enc');
    expect(await store.list()).toEqual([]);
  });

  it('a library that fails to load is KEYCHAIN_UNAVAILABLE', async () => {
    const backend = createKeychainBackendWith({
      load: () => Promise.reject(new Error('Cannot find native binding')),
    });
    expect((await rejection(backend.set('p:a', SECRET))).code).toBe('KEYCHAIN_UNAVAILABLE');
  });

  it('passes the key and demands the Secret Service on Linux; null means absent', async () => {
    const calls: unknown[] = [];
    const store = new Map<string, string>();
    const mod: KeyringModule = {
      AsyncEntry: class {
        constructor(
          readonly service: string,
          readonly user: string,
          options?: unknown,
        ) {
          calls.push([service, user, options]);
        }
        getPassword = async () => store.get(this.user) ?? null;
        setPassword = async (p: string) => void store.set(this.user, p);
        deletePassword = async () => store.delete(this.user);
      },
    };
    const backend = createKeychainBackendWith({ service: 'svc', load: async () => mod });
    expect(await backend.get('p:a')).toBeUndefined();
    await backend.set('p:a', SECRET);
    expect(await backend.get('p:a')).toBe(SECRET);
    expect(await backend.delete('p:a')).toBe(true);
    expect(await backend.delete('p:a')).toBe(false);
    expect(calls[0]).toEqual([
      'svc',
      'p:a',
      process.platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined,
    ]);
  });

  it('maps library messages to codes, without the secret', () => {
    expect(
      mapKeychainError(
        new Error("Couldn't access platform storage: Secret Service: unlock prompt was dismissed"),
      ).code,
    ).toBe('KEYCHAIN_LOCKED');
    expect(
      mapKeychainError(
        new Error('Platform failure: DBus error: Using X11 for dbus-daemon autolaunch was disabled'),
      ).code,
    ).toBe('KEYCHAIN_UNAVAILABLE');
    expect(
      mapKeychainError(new Error("Couldn't access platform storage: Secret Service: no result found")).code,
    ).toBe('KEYCHAIN_UNAVAILABLE');
    expect(mapKeychainError(new Error('User interaction is not allowed.')).code).toBe('KEYCHAIN_LOCKED');
    expect(mapKeychainError(new Error(`weird ${SECRET}`), SECRET).message).not.toContain(SECRET);
  });
});

describe('lock', () => {
  it('serializes concurrent saves from many store instances in one process', async () => {
    const saves = Array.from({ length: 20 }, (_, i) =>
      new CredentialStore({ configDir: dir, preference: 'file' }).save({
        provider: 'p',
        account: `a${i}`,
        secret: `secret-value-${i}`,
      }),
    );
    await Promise.all(saves);
    const store = new CredentialStore({ configDir: dir, preference: 'file' });
    expect((await store.list()).length).toBe(20);
    for (let i = 0; i < 20; i++) expect((await store.get('p', `a${i}`))?.secret).toBe(`secret-value-${i}`);
    expect(await fs.readdir(dir)).not.toContain('.lock');
  });

  it('breaks a stale lock left by a dead process', async () => {
    const lock = path.join(dir, '.lock');
    await fs.writeFile(lock, '999999 dead\n');
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(lock, old, old);
    await new CredentialStore({ configDir: dir, preference: 'file' }).save({
      provider: 'p',
      account: 'a',
      secret: SECRET,
    });
    expect(await fs.readdir(dir)).not.toContain('.lock');
  });

  it('times out with STORAGE_LOCK_TIMEOUT while another process holds the lock', async () => {
    const lock = path.join(dir, '.lock');
    await fs.writeFile(lock, '1 alive\n');
    const clock = createFakeClock(Date.now()); // 5 s of waiting, taken in milliseconds
    const error = await rejection(withLock(dir, async () => 'never', { timeoutMs: 5_000, clock }));
    expect(error.code).toBe('STORAGE_LOCK_TIMEOUT');
    expect(error.message).toMatch(/^Timed out after 5 s waiting for /);
    expect(error.retryable).toBe(true);
    expect(error.action).toContain(lock);
    expect(await fs.readFile(lock, 'utf8')).toBe('1 alive\n'); // a live lock is not broken
  });

  it('releases the lock when the work fails', async () => {
    await expect(
      withLock(dir, () => Promise.reject(new LatchkeyError({ code: 'X', message: 'x' }))),
    ).rejects.toThrow('x');
    expect(await fs.readdir(dir)).not.toContain('.lock');
  });
});
