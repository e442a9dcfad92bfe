import { describe, expect, it } from 'vitest';
import type { Provider } from '@latchkey/plugin-kit';
import { contractProblems, staticFields } from './contract.js';

const good: Provider = {
  id: 'acme-cloud',
  title: 'Acme Cloud',
  defaultBaseUrl: 'https://api.acme.example',
  envVars: ['ACME_TOKEN'],
  methods: ['device', 'token'],
  tokenUrl: 'https://acme.example/tokens',
  login: async () => ({ token: 't', identity: { account: 'a' } }),
  verify: async () => ({ account: 'a' }),
};

describe('contractProblems', () => {
  it('accepts a provider that keeps the contract', () => {
    expect(contractProblems(good)).toEqual([]);
  });

  it('names each broken rule', () => {
    const bad = {
      ...good,
      id: 'Acme_Cloud',
      title: ' ',
      defaultBaseUrl: 'http://api.acme.example',
      envVars: ['acme_token', 'X'],
      methods: ['device', 'browser'],
      login: undefined,
      verify: undefined,
      tokenUrl: 'http://acme.example',
    } as unknown as Provider;
    const problems = contractProblems(bad).join('\n');
    for (const word of ['id', 'title', 'defaultBaseUrl', 'envVars', 'methods', 'verify()', 'tokenUrl'])
      expect(problems).toContain(word);
    expect(contractProblems({ ...good, methods: ['device'], login: undefined })).toEqual([
      "methods includes 'device' but login() is missing",
    ]);
    expect(contractProblems({ ...good, methods: [] })).toHaveLength(1);
    expect(contractProblems({ ...good, envVars: ['LATCHKEY_ACME_TOKEN'] })).toHaveLength(1);
  });

  it('staticFields keeps the manifest fields only', () => {
    expect(staticFields(good)).toStrictEqual({
      id: 'acme-cloud',
      title: 'Acme Cloud',
      defaultBaseUrl: 'https://api.acme.example',
      envVars: ['ACME_TOKEN'],
      methods: ['device', 'token'],
      tokenUrl: 'https://acme.example/tokens',
    });
  });
});
