import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeBoundSecret, encodeBoundSecret } from './bound-secret.js';
import {
  checkEndpointBinding,
  CredentialStore,
  definitionEndpoints,
  type ProviderDefinition,
  type StoredCredential,
} from './index.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-binding-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const ACCESS = 'at-binding-0123456789abcdef';
const REFRESH = 'rt-binding-0123456789abcdef';

const definition: ProviderDefinition = {
  issuer: 'https://idp.example',
  clientId: 'latchkey',
  encoding: 'form',
  deviceAuthorizationUrl: 'https://idp.example/device',
  tokenUrl: 'https://idp.example/token',
  revocationUrl: 'https://idp.example/revoke',
  userinfoUrl: 'https://idp.example/me',
  baseUrl: 'https://idp.example',
  addedAt: '2026-12-01T00:00:00.000Z',
};

function credential(endpoints = definitionEndpoints(definition), baseUrl = definition.baseUrl) {
  return {
    record: { provider: 'idp', account: 'ada', backend: 'file', baseUrl, createdAt: '2026-12-01T00:00:00Z' },
    secret: ACCESS,
    refreshToken: REFRESH,
    ...(endpoints && { endpoints }),
  } as StoredCredential;
}

describe('OAuth endpoints bound to a stored credential', () => {
  it('are kept in the secret store beside the secret, never in accounts.json, and survive a renew', async () => {
    const store = new CredentialStore({ configDir: dir, preference: 'file' });
    await store.save({
      provider: 'idp',
      account: 'ada',
      secret: ACCESS,
      refreshToken: REFRESH,
      baseUrl: definition.baseUrl,
      endpoints: definitionEndpoints(definition),
    });
    expect(await fs.readFile(path.join(dir, 'accounts.json'), 'utf8')).not.toContain('/token');
    expect((await store.get('idp', 'ada'))?.endpoints).toEqual(definitionEndpoints(definition));
    const renewed = await store.renew('idp', 'ada', async () => ({ secret: 'at-new-0123456789abcdef' }));
    expect(renewed?.endpoints).toEqual(definitionEndpoints(definition));
    expect((await store.get('idp', 'ada'))?.endpoints).toEqual(definitionEndpoints(definition));
  });

  it('a renew with endpoints binds a credential stored without them', async () => {
    const store = new CredentialStore({ configDir: dir, preference: 'file' });
    await store.save({ provider: 'idp', account: 'ada', secret: ACCESS, refreshToken: REFRESH });
    expect((await store.get('idp', 'ada'))?.endpoints).toBeUndefined();
    await store.renew('idp', 'ada', async () => ({
      secret: 'at-new-0123456789abcdef',
      endpoints: definitionEndpoints(definition),
    }));
    expect((await store.get('idp', 'ada'))?.endpoints).toEqual(definitionEndpoints(definition));
  });

  it('encode and decode round-trip; an unreadable binding matches no definition', () => {
    const endpoints = { ...definitionEndpoints(definition), revocationUrl: null };
    const text = encodeBoundSecret({ secret: ACCESS, baseUrl: null, endpoints });
    expect(decodeBoundSecret(text)).toEqual({ secret: ACCESS, baseUrl: null, endpoints });
    const odd = JSON.stringify({ v: 2, secret: ACCESS, baseUrl: null, oauth: { tokenUrl: 7 } });
    const decoded = decodeBoundSecret(odd) as { endpoints: unknown };
    expect(() => checkEndpointBinding(dir, credential(decoded.endpoints as never), definition)).toThrow(
      /STORAGE_TAMPERED|issued with issuer "\(unreadable\)"/,
    );
  });

  it('a definition that names the bound endpoints passes and returns them', () => {
    expect(checkEndpointBinding(dir, credential(), { ...definition, clientId: 'other' })).toEqual(
      definitionEndpoints(definition),
    );
  });

  it.each([
    ['tokenUrl', { tokenUrl: 'https://evil.example/token' }, '"https://evil.example/token"'],
    ['revocationUrl', { revocationUrl: 'https://evil.example/revoke' }, '"https://evil.example/revoke"'],
    ['revocationUrl', { revocationUrl: undefined }, 'none'],
    ['userinfoUrl', { userinfoUrl: 'https://evil.example/me' }, '"https://evil.example/me"'],
    ['issuer', { issuer: 'https://idp.example/' }, '"https://idp.example/"'],
  ] as const)('a changed %s is STORAGE_TAMPERED (exit 1) naming both values', (field, change, shown) => {
    let error: unknown;
    try {
      checkEndpointBinding(dir, credential(), { ...definition, ...change });
    } catch (e) {
      error = e;
    }
    const bound = definitionEndpoints(definition)[field];
    expect(error).toMatchObject({ code: 'STORAGE_TAMPERED', exitCode: 1 });
    const message = (error as Error).message;
    expect(message).toContain(`${field} is ${shown}`);
    expect(message).toContain(`issued with ${field} ${JSON.stringify(bound)}`);
    expect(message).toContain(path.join(dir, 'providers.json'));
    expect(message).not.toContain(ACCESS);
    expect(message).not.toContain(REFRESH);
  });

  it('an unbound (older) credential is accepted with the definition of its base URL and gets its endpoints', () => {
    const moved = { ...definition, tokenUrl: 'https://idp.example/v2/token' };
    expect(checkEndpointBinding(dir, credential(null as never), moved)).toEqual(definitionEndpoints(moved));
  });

  it('an unbound credential with a definition of another base URL is STORAGE_TAMPERED', () => {
    expect(() =>
      checkEndpointBinding(dir, credential(null as never), {
        ...definition,
        baseUrl: 'https://evil.example',
      }),
    ).toThrow(/baseUrl is "https:\/\/evil\.example".*issued with baseUrl "https:\/\/idp\.example"/);
  });
});
