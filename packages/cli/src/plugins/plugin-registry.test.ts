import { LatchkeyError } from '@latchkey/errors';
import { describe, expect, it } from 'vitest';
import type { NpmSettings } from './npm-config.js';
import {
  checkPluginPackage,
  packumentUrl,
  proxyFor,
  type PluginCheckOptions,
  type RegistryFetch,
  type RegistryRequest,
} from './plugin-registry.js';

const settings: NpmSettings = {
  registry: 'https://registry.example/',
  scopeRegistry: false,
  strictSsl: true,
};
const plugin = {
  name: 'latchkey-plugin-acme',
  'dist-tags': { latest: '1.0.0' },
  versions: {
    '1.0.0': { version: '1.0.0', oclif: { hooks: { 'latchkey:provider': './dist/hooks/provider.js' } } },
  },
};

function answering(status: number, body: unknown, seen: RegistryRequest[] = []): RegistryFetch {
  return async (request) => {
    seen.push(request);
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return { status, text: async (limit) => (text.length > limit ? undefined : text) };
  };
}

function failing(error: unknown): RegistryFetch {
  return async () => {
    throw error;
  };
}

function socketError(code: string): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
}

async function check(overrides: Partial<PluginCheckOptions>): Promise<LatchkeyError | undefined> {
  try {
    await checkPluginPackage({
      name: 'latchkey-plugin-acme',
      tag: 'latest',
      settings,
      env: {},
      fetch: answering(200, plugin),
      readFile: async () => 'CA PEM',
      requireProvider: true,
      ...overrides,
    });
    return undefined;
  } catch (error) {
    if (error instanceof LatchkeyError) return error;
    throw error;
  }
}

describe('the registry check before plugins install', () => {
  it('passes for a provider plugin, asking the configured registry with the cafile as the only CA', async () => {
    const seen: RegistryRequest[] = [];
    const error = await check({
      settings: { ...settings, cafile: '/corp/ca.pem' },
      fetch: answering(200, plugin, seen),
    });
    expect(error).toBeUndefined();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      url: 'https://registry.example/latchkey-plugin-acme',
      ca: 'CA PEM',
      rejectUnauthorized: true,
    });
  });

  it('passes strict-ssl=false and the proxy npm would use on to the request', async () => {
    const seen: RegistryRequest[] = [];
    await check({
      settings: { ...settings, strictSsl: false, noproxy: 'internal' },
      env: { HTTPS_PROXY: 'http://proxy:3128' },
      fetch: answering(200, plugin, seen),
    });
    expect(seen[0]).toMatchObject({
      rejectUnauthorized: false,
      proxy: 'http://proxy:3128',
      noProxy: 'internal',
    });
    expect(seen[0]).not.toHaveProperty('ca');
  });

  it('names an untrusted certificate and says how to trust the CA', async () => {
    const error = await check({ fetch: failing(socketError('SELF_SIGNED_CERT_IN_CHAIN')) });
    expect(error?.code).toBe('PLUGIN_REGISTRY_TLS');
    expect(error?.message).toBe(
      'The TLS certificate of the npm registry https://registry.example/ is not trusted (SELF_SIGNED_CERT_IN_CHAIN): it was signed by a certificate authority Node does not know, as a TLS-inspecting proxy does.',
    );
    expect(error?.action).toMatch(/npm config set cafile .*NODE_EXTRA_CA_CERTS/);
    const withCafile = await check({
      settings: { ...settings, cafile: '/corp/ca.pem' },
      fetch: failing(socketError('UNABLE_TO_VERIFY_LEAF_SIGNATURE')),
    });
    expect(withCafile?.message).toContain("not in npm's cafile /corp/ca.pem");
  });

  it('names an unreachable registry, and one that does not answer in time', async () => {
    const refused = await check({ fetch: failing(socketError('ECONNREFUSED')) });
    expect(refused?.code).toBe('PLUGIN_REGISTRY_UNREACHABLE');
    expect(refused?.message).toBe(
      'Could not reach the npm registry https://registry.example/ (ECONNREFUSED).',
    );
    expect(refused?.retryable).toBe(true);
    const slow = await check({ fetch: failing(new DOMException('timed out', 'TimeoutError')) });
    expect(slow?.message).toBe('The npm registry https://registry.example/ did not answer in time.');
  });

  it('says a 404 name was not found, and never shows registry credentials', async () => {
    const error = await check({
      settings: { ...settings, registry: 'https://user:pw@registry.example/' },
      fetch: answering(404, { error: 'not found' }),
    });
    expect(error?.code).toBe('PLUGIN_NOT_FOUND');
    expect(error?.message).toBe(
      'latchkey-plugin-acme was not found in the npm registry https://registry.example/ (HTTP 404).',
    );
  });

  it('refuses a package that declares no latchkey provider, unless it is one of latchkey own', async () => {
    const other = { 'dist-tags': { latest: '7.0.0' }, versions: { '7.0.0': { version: '7.0.0' } } };
    const error = await check({ name: 'is-number', fetch: answering(200, other) });
    expect(error?.code).toBe('PLUGIN_NOT_LATCHKEY');
    expect(error?.message).toBe(
      'is-number@7.0.0 is not a latchkey plugin: its package.json declares no latchkey provider.',
    );
    expect(
      await check({ name: '@oclif/plugin-x', requireProvider: false, fetch: answering(200, other) }),
    ).toBe(undefined);
    const byBlock = { versions: { '1.0.0': { latchkey: { provider: { id: 'x' } } } } };
    expect(await check({ tag: '1.0.0', fetch: answering(200, byBlock) })).toBeUndefined();
  });

  it('leaves a registry that wants credentials to npm, and reports other statuses', async () => {
    expect(await check({ fetch: answering(401, '') })).toBeUndefined();
    const error = await check({ fetch: answering(503, '') });
    expect(error?.code).toBe('PLUGIN_REGISTRY_ERROR');
    expect(error?.retryable).toBe(true);
  });

  it('reports an unreadable cafile before any request', async () => {
    const seen: RegistryRequest[] = [];
    const error = await check({
      settings: { ...settings, cafile: '/missing.pem' },
      readFile: async () => {
        throw Object.assign(new Error('no'), { code: 'ENOENT' });
      },
      fetch: answering(200, plugin, seen),
    });
    expect(error?.code).toBe('PLUGIN_REGISTRY_CAFILE');
    expect(error?.message).toBe("npm's cafile /missing.pem cannot be read (ENOENT).");
    expect(seen).toEqual([]);
  });

  it('builds npm document URLs and picks proxies as npm does', () => {
    expect(packumentUrl('https://r.example/npm/', '@acme/plugin')).toBe(
      'https://r.example/npm/@acme%2Fplugin',
    );
    expect(proxyFor('https://r/', { ...settings, proxy: 'http://p1' }, { HTTPS_PROXY: 'http://p2' })).toBe(
      'http://p1',
    );
    expect(proxyFor('http://r/', settings, { HTTPS_PROXY: 'http://p2' })).toBeUndefined();
    expect(proxyFor('http://r/', settings, { http_proxy: 'http://p3' })).toBe('http://p3');
  });
});
