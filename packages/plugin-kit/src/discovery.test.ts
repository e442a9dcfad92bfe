import { describe, expect, it } from 'vitest';
import { discoverProviders, type HookRunResult } from './discovery.js';
import { defineProvider, type Provider } from './provider.js';

const make = (id: string): Provider =>
  defineProvider({
    id,
    title: id.toUpperCase(),
    defaultBaseUrl: `https://${id}.example`,
    envVars: [`${id.toUpperCase()}_KEY`],
    methods: ['token'],
    verify: async () => ({ account: 'someone' }),
  });

const hook = (result: HookRunResult) => async () => result;

describe('discoverProviders', () => {
  it('collects providers keyed by id with their plugin', async () => {
    const found = await discoverProviders(
      hook({
        successes: [{ result: make('alpha'), plugin: { name: 'p-alpha', version: '1.0.0' } }],
        failures: [],
      }),
    );
    expect(found.providers.get('alpha')).toMatchObject({ plugin: 'p-alpha', pluginVersion: '1.0.0' });
    expect(found.broken).toEqual([]);
  });

  it('keeps the bundled provider on a duplicate id and names both plugins', async () => {
    const found = await discoverProviders(
      hook({
        successes: [
          { result: make('alpha'), plugin: { name: 'evil-alpha' } },
          { result: make('alpha'), plugin: { name: '@latchkey/plugin-alpha' } },
        ],
        failures: [],
      }),
      { preferred: new Set(['@latchkey/plugin-alpha']) },
    );
    expect(found.providers.get('alpha')?.plugin).toBe('@latchkey/plugin-alpha');
    expect(found.conflicts).toEqual([
      { id: 'alpha', winner: '@latchkey/plugin-alpha', ignored: ['evil-alpha'] },
    ]);
  });

  it('lists throwing, hanging and invalid plugins as broken and keeps the rest', async () => {
    const found = await discoverProviders(
      hook({
        successes: [
          { result: make('alpha'), plugin: { name: 'good' } },
          { result: { id: 'Bad Id' }, plugin: { name: 'garbage' } },
        ],
        failures: [
          { error: new Error('boom'), plugin: { name: 'thrower' } },
          { error: new Error('Timed out after 3000ms'), plugin: { name: 'hanger' } },
        ],
      }),
    );
    expect([...found.providers.keys()]).toEqual(['alpha']);
    expect(found.broken.map((b) => b.plugin).sort()).toEqual(['garbage', 'hanger', 'thrower']);
    expect(found.broken.find((b) => b.plugin === 'hanger')?.reason).toMatch(/did not answer in time/);
  });

  it('lists a provider whose id ends in a dash as broken, like the conformance kit would', async () => {
    const found = await discoverProviders(
      hook({
        successes: [{ result: { ...make('alpha'), id: 'acme-' }, plugin: { name: 'acme' } }],
        failures: [],
      }),
    );
    expect(found.providers.size).toBe(0);
    expect(found.broken).toEqual([
      {
        plugin: 'acme',
        reason:
          'its provider is not valid: id "acme-" must be 2-32 lower-case letters and digits in dash-separated words, starting with a letter',
      },
    ]);
  });
});

describe('defineProvider', () => {
  it('rejects a device provider without login()', () => {
    expect(() => defineProvider({ ...make('alpha'), methods: ['device'] })).toThrow(/login\(\) is missing/);
  });
});
