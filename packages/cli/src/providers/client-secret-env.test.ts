import { describe, expect, it } from 'vitest';
import { clientSecretEnvProblem, clientSecretEnvRefused } from './client-secret-env.js';
import type { StaticProvider } from './provider-facts.js';

const nanogpt: StaticProvider = {
  manifest: {
    id: 'nanogpt',
    title: 'NanoGPT',
    defaultBaseUrl: 'https://nano-gpt.com',
    envVars: ['NANOGPT_API_KEY'],
    methods: ['device', 'token'],
  },
  plugin: '@latchkey/plugin-nanogpt',
};

describe('--client-secret-env: which variables may hold a client secret', () => {
  it('a variable of its own is allowed', () => {
    for (const name of ['CORP_CLIENT_SECRET', 'ACME_SECRET', 'A', 'IDP_SECRET_2']) {
      expect(clientSecretEnvProblem(name, [nanogpt]), name).toBeUndefined();
    }
  });

  it("another provider's credential variable is refused (its own and LATCHKEY_<ID>_TOKEN)", () => {
    expect(clientSecretEnvProblem('NANOGPT_API_KEY', [nanogpt])).toBe("it holds NanoGPT's credential");
    expect(clientSecretEnvProblem('LATCHKEY_NANOGPT_TOKEN', [nanogpt])).toBe("it holds NanoGPT's credential");
    // Without the provider list (providers.json read back), latchkey's own names are still refused.
    expect(clientSecretEnvProblem('LATCHKEY_NANOGPT_TOKEN', [])).toMatch(/latchkey variable/);
  });

  it('PATH-like, loader, runtime and system variables are refused', () => {
    for (const name of [
      'PATH',
      'HOME',
      'LD_PRELOAD',
      'LD_LIBRARY_PATH',
      'DYLD_INSERT_LIBRARIES',
      'NODE_OPTIONS',
      'PYTHONPATH',
      'PERL5LIB',
      'CLASSPATH',
      'MANPATH',
      'HTTPS_PROXY',
      'BASH_ENV',
      'IFS',
      'GIT_SSH_COMMAND',
      'XDG_CONFIG_HOME',
    ]) {
      expect(clientSecretEnvProblem(name, [nanogpt]), name).toMatch(/system, loader or latchkey variable/);
    }
  });

  it('a name that is not an upper-case variable name is refused, and the error never shows more than 40 characters', () => {
    for (const name of ['not a var', 'lower_case', '1ABC', '_X', '', 'A-B']) {
      expect(clientSecretEnvProblem(name, []), name).toMatch(/not an upper-case variable name/);
    }
    const error = clientSecretEnvRefused('X'.repeat(100), 'why', '--client-secret-env');
    expect(error).toMatchObject({ exitCode: 2 });
    expect(error.message).not.toContain('X'.repeat(41));
  });
});
