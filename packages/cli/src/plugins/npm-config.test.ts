import { describe, expect, it } from 'vitest';
import { npmEnvFor, parseConfigGet, readNpmSettings, settingsFrom, type NpmRunner } from './npm-config.js';

const answer = [
  'registry=https://mirror.example/npm',
  'cafile=/etc/corp/ca.pem',
  'strict-ssl=true',
  'proxy=null',
  'https-proxy=http://proxy.corp:3128',
  'noproxy=',
  'globalconfig=/usr/etc/npmrc',
  '@acme:registry=https://npm.acme.example/',
].join('\n');

describe('the user npm configuration', () => {
  it('parses `npm config get` lines, leaving out null, undefined and empty values', () => {
    expect([...parseConfigGet(answer).keys()]).toEqual([
      'registry',
      'cafile',
      'strict-ssl',
      'https-proxy',
      'globalconfig',
      '@acme:registry',
    ]);
  });

  it('uses the scope registry for a scoped name, the registry otherwise, with a trailing slash', () => {
    const values = parseConfigGet(answer);
    expect(settingsFrom(values, 'latchkey-plugin-x')).toMatchObject({
      registry: 'https://mirror.example/npm/',
      scopeRegistry: false,
      cafile: '/etc/corp/ca.pem',
      strictSsl: true,
      httpsProxy: 'http://proxy.corp:3128',
    });
    expect(settingsFrom(values, '@acme/plugin')).toMatchObject({
      registry: 'https://npm.acme.example/',
      scopeRegistry: true,
    });
    expect(settingsFrom(new Map(), 'x')).toEqual({
      registry: 'https://registry.npmjs.org/',
      scopeRegistry: false,
      strictSsl: true,
    });
    expect(settingsFrom(parseConfigGet('strict-ssl=false'), 'x').strictSsl).toBe(false);
  });

  it("asks the user's npm once, and the pinned npm only when that one fails", async () => {
    const calls: string[] = [];
    const run: NpmRunner = async (npm, args) => {
      calls.push(`${npm.command} ${args.join(' ')}`);
      return npm.command === 'npm' ? { code: 127, stdout: '' } : { code: 0, stdout: answer };
    };
    const settings = await readNpmSettings('@acme/plugin', run, [
      { command: 'npm', args: [] },
      { command: '/node', args: ['/npm-cli.js'] },
    ]);
    expect(calls).toEqual([
      'npm config get registry cafile strict-ssl proxy https-proxy noproxy globalconfig @acme:registry',
      '/node config get registry cafile strict-ssl proxy https-proxy noproxy globalconfig @acme:registry',
    ]);
    expect(settings).toMatchObject({ registry: 'https://npm.acme.example/', answeredBy: '/node' });
  });

  it('gives both npms 5 s together: after a hung one, the other is not asked', async () => {
    let clock = 0;
    const asked: number[] = [];
    const run: NpmRunner = async (_npm, _args, timeoutMs) => {
      asked.push(timeoutMs);
      clock += timeoutMs;
      return { code: null, stdout: '' };
    };
    const settings = await readNpmSettings(
      'x',
      run,
      [
        { command: 'npm', args: [] },
        { command: '/node', args: ['/npm-cli.js'] },
      ],
      () => clock,
    );
    expect(asked).toEqual([5000]);
    expect(settings.answeredBy).toBeUndefined();
  });

  it("falls back to npm's defaults when no npm answers", async () => {
    const settings = await readNpmSettings('x', async () => ({ code: null, stdout: '' }), [
      { command: 'npm', args: [] },
      undefined,
    ]);
    expect(settings).toEqual({
      registry: 'https://registry.npmjs.org/',
      scopeRegistry: false,
      strictSsl: true,
    });
    expect(npmEnvFor(settings, 'x', {})).toEqual({});
  });

  it('hands the answers to the pinned npm as npm_config_* variables, never over ones already set', () => {
    const settings = settingsFrom(parseConfigGet(`${answer}\nstrict-ssl=false`), 'x', 'npm');
    expect(npmEnvFor(settings, 'x', { NPM_CONFIG_CAFILE: '/mine.pem' })).toEqual({
      npm_config_globalconfig: '/usr/etc/npmrc',
      npm_config_registry: 'https://mirror.example/npm/',
      npm_config_strict_ssl: 'false',
      npm_config_https_proxy: 'http://proxy.corp:3128',
    });
    const scoped = settingsFrom(parseConfigGet(answer), '@acme/plugin', 'npm');
    expect(npmEnvFor(scoped, '@acme/plugin', {})).not.toHaveProperty('npm_config_registry');
  });
});
