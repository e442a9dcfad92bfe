import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CredentialStore,
  readProviderDefinitions,
  updateProviderDefinitions,
  type ProviderDefinition,
} from './index.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-refresh-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const ACCESS = 'at-0123456789abcdef0123';
const REFRESH = 'rt-0123456789abcdef0123';

describe('refresh tokens', () => {
  it('keeps the refresh token with the secret, never in accounts.json, and marks the record refreshable', async () => {
    const store = new CredentialStore({ configDir: dir, preference: 'file' });
    await store.save({
      provider: 'idp',
      account: 'ada',
      secret: ACCESS,
      refreshToken: REFRESH,
      expiresAt: '2026-01-01T00:00:00.000Z',
      baseUrl: 'https://idp.example',
    });
    const index = await fs.readFile(path.join(dir, 'accounts.json'), 'utf8');
    expect(index).not.toContain(REFRESH);
    expect(JSON.parse(index).accounts[0]).toMatchObject({
      refreshable: true,
      expiresAt: '2026-01-01T00:00:00.000Z',
    });
    expect(await store.get('idp', 'ada')).toMatchObject({ secret: ACCESS, refreshToken: REFRESH });
  });

  it('renew replaces the tokens under the lock and updates the expiry; undefined keeps them', async () => {
    const store = new CredentialStore({ configDir: dir, preference: 'file' });
    await store.save({
      provider: 'idp',
      account: 'ada',
      secret: ACCESS,
      refreshToken: REFRESH,
      baseUrl: 'https://idp.example',
    });
    const seen: string[] = [];
    const renewed = await store.renew('idp', 'ada', async (current) => {
      seen.push(current.refreshToken!);
      return {
        secret: 'at-new-0123456789abcdef',
        refreshToken: 'rt-new-0123456789abcdef',
        expiresAt: '2030-01-01T00:00:00.000Z',
      };
    });
    expect(seen).toEqual([REFRESH]);
    expect(renewed).toMatchObject({
      secret: 'at-new-0123456789abcdef',
      refreshToken: 'rt-new-0123456789abcdef',
    });
    expect(await store.get('idp', 'ada')).toMatchObject({
      secret: 'at-new-0123456789abcdef',
      refreshToken: 'rt-new-0123456789abcdef',
      record: { expiresAt: '2030-01-01T00:00:00.000Z', refreshable: true, baseUrl: 'https://idp.example' },
    });
    const kept = await store.renew('idp', 'ada', async () => undefined);
    expect(kept?.secret).toBe('at-new-0123456789abcdef');
    expect(await store.renew('idp', 'nobody', async () => undefined)).toBeUndefined();
  });

  it('concurrent renewals run one at a time, each seeing what the previous one stored', async () => {
    const store = new CredentialStore({ configDir: dir, preference: 'file' });
    await store.save({ provider: 'idp', account: 'ada', secret: ACCESS, refreshToken: REFRESH });
    let refreshes = 0;
    await Promise.all(
      Array.from({ length: 5 }, () =>
        store.renew('idp', 'ada', async (current) => {
          if (current.secret !== ACCESS) return undefined; // already refreshed by another
          refreshes++;
          return { secret: 'at-once-0123456789abcdef', refreshToken: 'rt-once-0123456789abcdef' };
        }),
      ),
    );
    expect(refreshes).toBe(1);
  });

  it('renew records a failed refresh in the index record (tokens kept); a successful one clears it', async () => {
    const store = new CredentialStore({ configDir: dir, preference: 'file' });
    await store.save({ provider: 'idp', account: 'ada', secret: ACCESS, refreshToken: REFRESH });
    const failure = {
      at: '2026-12-02T00:00:00.000Z',
      retryAt: '2026-12-02T00:00:10.000Z',
      code: 'UNEXPECTED_RESPONSE',
      message: 'Unexpected response from idp.example: HTTP 500 with an HTML page.',
      action: 'Try again in a minute.',
      exitCode: 1,
      retryable: true,
    };
    const failed = await store.renew('idp', 'ada', async () => ({ failure }));
    expect(failed).toMatchObject({
      secret: ACCESS,
      refreshToken: REFRESH,
      record: { refreshFailure: failure },
    });
    expect(await store.get('idp', 'ada')).toMatchObject({
      secret: ACCESS,
      refreshToken: REFRESH,
      record: { refreshFailure: failure, refreshable: true },
    });
    const index = await fs.readFile(path.join(dir, 'accounts.json'), 'utf8');
    expect(index).not.toContain(REFRESH);
    expect(index).not.toContain(ACCESS);
    await store.renew('idp', 'ada', async () => ({ secret: 'at-new-0123456789abcdef' }));
    expect((await store.get('idp', 'ada'))!.record).not.toHaveProperty('refreshFailure');
  });

  it.each([
    ['control characters in the message', { message: 'a\u001b]52;c;aGk=\u0007b' }],
    ['an unbounded message', { message: 'x'.repeat(501) }],
    ['an exit code latchkey does not use', { exitCode: 0 }],
    ['a code that is not an error code', { code: 'not a code' }],
    ['a time that is not one', { retryAt: 'soon' }],
  ])('an index whose recorded refresh failure has %s is STORAGE_CORRUPT', async (_, change) => {
    const store = new CredentialStore({ configDir: dir, preference: 'file' });
    await store.save({ provider: 'idp', account: 'ada', secret: ACCESS, refreshToken: REFRESH });
    const file = path.join(dir, 'accounts.json');
    const index = JSON.parse(await fs.readFile(file, 'utf8')) as { accounts: Array<Record<string, unknown>> };
    index.accounts[0]!.refreshFailure = {
      at: '2026-12-02T00:00:00.000Z',
      code: 'SESSION_EXPIRED',
      message: 'm',
      exitCode: 4,
      ...change,
    };
    await fs.writeFile(file, JSON.stringify(index));
    await expect(store.get('idp', 'ada')).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
  });
});

describe('providers.json', () => {
  const definition: ProviderDefinition = {
    issuer: 'https://idp.example',
    clientId: 'latchkey-cli',
    encoding: 'form',
    deviceAuthorizationUrl: 'https://idp.example/device',
    tokenUrl: 'https://idp.example/token',
    baseUrl: 'https://idp.example',
    addedAt: '2026-12-02T00:00:00.000Z',
  };

  it('is empty when nothing was added, and written 0600 under the lock', async () => {
    expect((await readProviderDefinitions(path.join(dir, 'none'))).size).toBe(0);
    await updateProviderDefinitions(dir, (current) => ({
      result: undefined,
      next: new Map([...current, ['idp', definition]]),
    }));
    expect([...(await readProviderDefinitions(dir))]).toEqual([['idp', definition]]);
    const stat = await fs.stat(path.join(dir, 'providers.json'));
    expect(stat.mode & 0o777).toBe(0o600);
  });

  it('refuses a file others can read, and one that is not what latchkey writes', async () => {
    await updateProviderDefinitions(dir, () => ({ result: undefined, next: new Map([['idp', definition]]) }));
    await fs.chmod(path.join(dir, 'providers.json'), 0o644);
    await expect(readProviderDefinitions(dir)).rejects.toMatchObject({ code: 'STORAGE_INSECURE' });
    await fs.chmod(path.join(dir, 'providers.json'), 0o600);
    await fs.writeFile(path.join(dir, 'providers.json'), '{"version":1,"providers":{"x":{"clientId":1}}}');
    await expect(readProviderDefinitions(dir)).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
  });
});
