import { describe, expect, it } from 'vitest';
import { manifestKeys, manifestProblems, staticFields, type ProviderManifest } from './manifest.js';
import { defineProvider, validateProvider, type Provider } from './provider.js';

const good: Provider = {
  id: 'acme-cloud',
  title: 'Acme Cloud',
  defaultBaseUrl: 'https://api.acme.example',
  envVars: ['ACME_TOKEN'],
  methods: ['device', 'token'],
  tokenUrl: 'https://acme.example/tokens',
  loginOptions: [{ name: 'clientId', flag: 'client-id', description: 'OAuth client id', env: 'ACME_CLIENT' }],
  secretPrefixes: ['acme_live_'],
  execEnv: { ACME_TOKEN: 'token', ACME_URL: 'base-url' },
  login: async () => ({ token: 't', identity: { account: 'a' } }),
  verify: async () => ({ account: 'a' }),
};

describe('validateProvider', () => {
  it('accepts a provider that keeps the contract', () => {
    expect(validateProvider(good)).toEqual([]);
    expect(validateProvider({ ...good, defaultBaseUrl: 'http://127.0.0.1:8080' })).toEqual([]);
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
      tokenUrl: 'ftp://acme.example',
    };
    const problems = validateProvider(bad).join('\n');
    for (const word of ['id', 'title', 'defaultBaseUrl', 'envVars', 'methods', 'verify()', 'tokenUrl'])
      expect(problems).toContain(word);
    expect(validateProvider({ ...good, methods: ['device'], login: undefined })).toEqual([
      "methods includes 'device' but login() is missing",
    ]);
    expect(validateProvider('nope')).toEqual(['the hook did not return a provider object']);
  });

  it.each([
    ['an id ending in a dash', { id: 'acme-' }, 'id "acme-"'],
    ['an id of one letter', { id: 'a' }, 'id "a"'],
    ['no methods', { methods: [] }, 'methods [] must be a non-empty list'],
    ['a method twice', { methods: ['token', 'token'] }, 'methods lists ["token"] twice'],
    ["latchkey's own variable", { envVars: ['LATCHKEY_ACME_TOKEN'] }, "latchkey's own names"],
    ['a login option without a flag', { loginOptions: [{ name: 'x', description: 'd' }] }, 'flag'],
    ['a login option twice', { loginOptions: [good.loginOptions![0], good.loginOptions![0]] }, 'twice'],
    ['a one-letter secret prefix', { secretPrefixes: ['a'] }, 'secretPrefixes'],
    ['another envLogin', { envLogin: 'store' }, 'envLogin "store" may only be \'verify\''],
    ['execEnv that is a list', { execEnv: ['ACME_TOKEN'] }, 'execEnv ["ACME_TOKEN"] must be an object'],
    ['an empty execEnv', { execEnv: {} }, 'execEnv {} must be an object'],
    ['a lower-case execEnv variable', { execEnv: { acme_token: 'token' } }, 'execEnv variable "acme_token"'],
    [
      "latchkey's own execEnv variable",
      { execEnv: { LATCHKEY_ACME_TOKEN: 'token' } },
      "latchkey's own names",
    ],
    [
      'LD_PRELOAD in execEnv',
      { execEnv: { LD_PRELOAD: 'base-url' } },
      'execEnv variable "LD_PRELOAD" controls',
    ],
    [
      'DYLD_INSERT_LIBRARIES in execEnv',
      { execEnv: { DYLD_INSERT_LIBRARIES: 'token' } },
      '"DYLD_INSERT_LIBRARIES" controls',
    ],
    [
      'NODE_OPTIONS in execEnv',
      { execEnv: { NODE_OPTIONS: 'token' } },
      'execEnv variable "NODE_OPTIONS" controls',
    ],
    ['PATH in execEnv', { execEnv: { PATH: 'base-url' } }, 'execEnv variable "PATH" controls'],
    ['a PATH-like execEnv variable', { execEnv: { PYTHONPATH: 'base-url' } }, '"PYTHONPATH" controls'],
    ['a proxy in execEnv', { execEnv: { HTTPS_PROXY: 'base-url' } }, '"HTTPS_PROXY" controls'],
    ['a shell start-up file in execEnv', { execEnv: { BASH_ENV: 'base-url' } }, '"BASH_ENV" controls'],
    [
      'an unknown execEnv field',
      { execEnv: { ACME_TOKEN: 'secret' } },
      'execEnv ACME_TOKEN "secret" must be',
    ],
    ['revoke that is not a function', { revoke: 'yes' }, 'revoke must be a function'],
  ])('refuses %s', (_what, change, problem) => {
    const problems = validateProvider({ ...good, ...change });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it('defineProvider throws INVALID_PROVIDER with the same problems', () => {
    expect(() => defineProvider({ ...good, id: 'acme-' })).toThrow(
      'Provider "acme-" is not valid: id "acme-" must be 2-32',
    );
    expect(defineProvider(good)).toBe(good);
  });
});

describe('the manifest definition', () => {
  it('lists every manifest field once', () => {
    const all: Record<keyof ProviderManifest, true> = {
      id: true,
      title: true,
      defaultBaseUrl: true,
      envVars: true,
      methods: true,
      loginOptions: true,
      secretPrefixes: true,
      baseUrlEnvVars: true,
      tokenUrl: true,
      tokenHelp: true,
      envLogin: true,
      docs: true,
      execEnv: true,
    };
    expect([...manifestKeys].sort()).toEqual(Object.keys(all).sort());
  });

  it('staticFields keeps the manifest fields only', () => {
    const { login: _login, verify: _verify, ...fields } = good;
    expect(staticFields(good)).toStrictEqual(fields);
  });

  it('manifestProblems checks static fields without functions', () => {
    expect(manifestProblems(staticFields(good))).toEqual([]);
    expect(manifestProblems({ id: 'acme' })).toEqual([
      'title is missing',
      'defaultBaseUrl is missing',
      'envVars is missing',
      'methods is missing',
    ]);
  });
});
