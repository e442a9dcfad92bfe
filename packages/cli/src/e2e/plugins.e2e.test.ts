/**
 * Real installs: a third-party provider plugin (examples/acme, `latchkey-plugin-acme`) is published with
 * everything it needs to a local npm registry (verdaccio with NO uplinks, on 127.0.0.1) and installed
 * with `latchkey plugins install`, exactly as a user would; then it signs in, hands out its token, is
 * uninstalled (its credential is reported, not silently orphaned), and is linked for local development.
 *
 * What is published are the REAL packages, packed the way a release packs them (`pnpm pack` rewrites
 * `workspace:` ranges): @latchkey/errors, @latchkey/clock, @latchkey/polling, @latchkey/http,
 * @latchkey/oauth, @latchkey/plugin-kit, latchkey-plugin-acme, undici@7.30.2 (@latchkey/http's one
 * outside dependency) and oauth4webapi (@latchkey/oauth's) packed from the local pnpm store. The registry and the packing are in ./registry.ts
 * (packages/registry-fixture/start.mjs). Build first (`pnpm exec turbo run build`).
 *
 * npm (the copy @oclif/plugin-plugins pins) is pointed at the registry three ways (LATCHKEY_NPM_REGISTRY,
 * which oclif turns into `--registry`; npm_config_registry; and an npmrc via NPM_CONFIG_USERCONFIG) and
 * given a dead proxy for every other host, so an attempt to reach anything but 127.0.0.1 fails the install.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertNoSecretLeaks,
  createCliSession,
  startAcmeEmulator,
  type CliRun,
  type CliSession,
} from '@latchkey/conformance/tools';
import { RUN_TIMEOUT_MS, expectExit, storedAccounts } from './harness.js';
import {
  packInstalled,
  packWorkspace,
  publishAll,
  registryToken,
  repoRoot,
  startRegistry,
  stopRegistry,
  writeNpmrc,
  type Registry,
} from './registry.js';

const acmeRoot = join(repoRoot, 'examples', 'acme');
/** undici, @latchkey/http's one dependency from outside the workspace, as pnpm installed it for http. */
const httpPjson = join(repoRoot, 'packages', 'http', 'package.json');
const undiciDir = join(createRequire(httpPjson).resolve('undici/package.json'), '..');
const UNDICI_VERSION = '7.30.2';
/** oauth4webapi, @latchkey/oauth's one dependency from outside the workspace. */
const oauthPjson = join(repoRoot, 'packages', 'oauth', 'package.json');
const oauth4Dir = join(createRequire(oauthPjson).resolve('oauth4webapi/package.json'), '..');

/** The packages a user's `npm install latchkey-plugin-acme` needs, from this workspace. */
const WORKSPACE_PACKAGES = [
  'packages/errors',
  'packages/clock',
  'packages/polling',
  'packages/http',
  'packages/oauth',
  'packages/plugin-kit',
  'examples/acme',
];
const PLUGIN = 'latchkey-plugin-acme';
/** `plugins install` runs npm: a hang detector, generous for a loaded machine. */
const NPM_TIMEOUT_MS = 180_000;
const BUNDLED_PROVIDERS = ['kaneo', 'nanoctl', 'nanogpt', 'nanoterm'];
const WILE = { email: 'wile@acme.example', name: 'Wile' };

interface ProviderRow {
  id: string;
  plugin: string;
}

function providersOf(run: CliRun): ProviderRow[] {
  expectExit(run, 0);
  return (JSON.parse(run.stdout) as { result: { providers: ProviderRow[] } }).result.providers;
}

const opts = { timeoutMs: RUN_TIMEOUT_MS };
const secrets: string[] = [];
let work: string;
let registry: Registry | undefined;
let session: CliSession;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'latchkey-plugins-e2e-'));
  const packs = join(work, 'packs');
  const npmHome = join(work, 'npm-home');
  await mkdir(npmHome, { recursive: true });
  registry = await startRegistry(join(work, 'registry'));

  // A user and its token (verdaccio's htpasswd auth), written to an npmrc only this test uses.
  const token = await registryToken(registry.url);
  secrets.push(token);
  const npmrc = join(work, 'npmrc');
  await writeNpmrc(npmrc, registry.url, token, [`registry=${registry.url}/`]);

  // npm, pointed only at the registry; any other host goes to a dead proxy and fails at once.
  const npmEnv: Record<string, string> = {
    NPM_CONFIG_USERCONFIG: npmrc,
    npm_config_registry: `${registry.url}/`,
    npm_config_proxy: 'http://127.0.0.1:9',
    npm_config_https_proxy: 'http://127.0.0.1:9',
    npm_config_noproxy: '127.0.0.1',
    npm_config_fetch_retries: '0',
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  };
  const toolEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    // npm (11) puts Node's compile cache in the temporary directory: the test's, not the machine's /tmp.
    TMPDIR: tmpdir(),
    HOME: npmHome,
    npm_config_manage_package_manager_versions: 'false',
    ...npmEnv,
  };

  // Pack: the workspace packages with pnpm (rewrites workspace: ranges), undici from the pnpm store.
  const undiciPjson = JSON.parse(await readFile(join(undiciDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  expect(undiciPjson.version).toBe(UNDICI_VERSION);
  const httpDeps = (JSON.parse(await readFile(httpPjson, 'utf8')) as { dependencies: Record<string, string> })
    .dependencies;
  expect(httpDeps.undici).toBe(UNDICI_VERSION);
  await Promise.all([
    packWorkspace(WORKSPACE_PACKAGES, packs, toolEnv),
    packInstalled([undiciDir, oauth4Dir], packs, toolEnv),
  ]);
  const oauth4Version = (
    JSON.parse(await readFile(join(oauth4Dir, 'package.json'), 'utf8')) as { version: string }
  ).version;

  // Publish all of them at once.
  const tarballs = await publishAll(packs, registry.url, toolEnv);
  expect(tarballs).toEqual([
    'latchkey-clock-0.1.0.tgz',
    'latchkey-errors-0.1.0.tgz',
    'latchkey-http-0.1.0.tgz',
    'latchkey-oauth-0.1.0.tgz',
    'latchkey-plugin-acme-1.0.0.tgz',
    'latchkey-plugin-kit-0.1.0.tgz',
    'latchkey-polling-0.1.0.tgz',
    `oauth4webapi-${oauth4Version}.tgz`,
    `undici-${UNDICI_VERSION}.tgz`,
  ]);

  // What a release would serve: the plugin's `workspace:^` range became a real one.
  const acmeDoc = (await (
    await fetch(`${registry.url}/${PLUGIN}`, { signal: AbortSignal.timeout(RUN_TIMEOUT_MS) })
  ).json()) as {
    versions: Record<string, { dependencies?: Record<string, string> }>;
  };
  expect(acmeDoc.versions['1.0.0']?.dependencies).toEqual({ '@latchkey/plugin-kit': '^0.1.0' });

  session = await createCliSession({
    env: { ...npmEnv, LATCHKEY_NPM_REGISTRY: registry.url },
  });
}, 480_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await session?.dispose();
  await stopRegistry(registry);
  if (work) await rm(work, { recursive: true, force: true });
}, 60_000);

describe('a third-party provider plugin, installed from a registry', () => {
  it(
    '`plugins install` fetches it and its dependencies from the local registry, with a warning',
    async () => {
      // npm install on a loaded machine can take a minute by itself: the timeout only catches a hang.
      const install = await session.run(['plugins', 'install', PLUGIN], { timeoutMs: NPM_TIMEOUT_MS });
      expectExit(install, 0);
      // The CLI's plugins:preinstall hook: a plugin that is not latchkey's own runs with the user's rights.
      expect(install.stderr).toContain(`${PLUGIN} is not one of latchkey's own plugins`);
      expect(install.stderr).toMatch(/runs with your user's permissions/);
      expect(install.stderr).toMatch(/credentials/);

      // Installed as a user plugin into oclif's data dir inside the session's HOME, with real dependencies.
      const dataDir = join(session.homeDir, '.local', 'share', 'latchkey');
      const modules = join(dataDir, 'node_modules');
      for (const name of [
        PLUGIN,
        '@latchkey/plugin-kit',
        '@latchkey/oauth',
        '@latchkey/http',
        '@latchkey/polling',
        '@latchkey/clock',
        '@latchkey/errors',
        'undici',
        'oauth4webapi',
      ]) {
        expect(existsSync(join(modules, name, 'package.json')), `${name} installed`).toBe(true);
      }
      const undici = JSON.parse(await readFile(join(modules, 'undici', 'package.json'), 'utf8')) as {
        version: string;
      };
      expect(undici.version).toBe(UNDICI_VERSION);
      expect(existsSync(join(modules, PLUGIN, 'dist', 'hooks', 'provider.js'))).toBe(true);
      // Every package npm resolved came from the local registry.
      const lock = JSON.parse(await readFile(join(dataDir, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { resolved?: string }>;
      };
      const resolved = Object.entries(lock.packages)
        .filter(([path]) => path !== '')
        .map(([path, entry]) => [path, entry.resolved ?? ''] as const);
      expect(resolved.length).toBeGreaterThanOrEqual(8);
      for (const [path, url] of resolved)
        expect(url.startsWith(`${registry!.url}/`), `${path}: ${url}`).toBe(true);

      const list = await session.run(['plugins', '--core'], opts);
      expectExit(list, 0);
      expect(list.stdout).toContain(`${PLUGIN} 1.0.0`);
    },
    NPM_TIMEOUT_MS + 2 * RUN_TIMEOUT_MS,
  );

  it('`auth providers --json` lists acme from latchkey-plugin-acme@1.0.0 beside the bundled providers', async () => {
    const providers = providersOf(await session.run(['auth', 'providers', '--json'], opts));
    expect(providers.map((p) => p.id)).toEqual(expect.arrayContaining([...BUNDLED_PROVIDERS, 'acme']));
    expect(providers.find((p) => p.id === 'acme')).toEqual(
      expect.objectContaining({
        id: 'acme',
        title: 'Acme',
        plugin: `${PLUGIN}@1.0.0`,
        methods: ['browser', 'device', 'token'],
      }),
    );
    for (const id of BUNDLED_PROVIDERS)
      expect(providers.find((p) => p.id === id)?.plugin).toMatch(/^@latchkey\/plugin-/);
  });

  it('signs in to Acme with a device login through the installed plugin and hands the token to scripts', async () => {
    // testkit's Acme emulator: RFC 8628, form-encoded, approves by itself after one pending poll.
    const emulator = await startAcmeEmulator({ interval: 1, autoApproveAfterPolls: 1, user: WILE });
    cleanups.push(() => emulator.close());
    const login = await session.run(
      ['auth', 'login', '--provider', 'acme', '--no-browser', '--base-url', emulator.url],
      opts,
    );
    secrets.push(...emulator.issuedTokens(), ...emulator.deviceCodes());
    expectExit(login, 0);
    expect(emulator.issuedTokens()).toHaveLength(1);
    const token = emulator.issuedTokens()[0]!;
    // The plugin's code ran: the device code, the polls (one pending, then the token), then who am I.
    expect(emulator.requests.map((r) => `${r.route} ${r.status}`)).toEqual([
      'device-code 200',
      'token 400',
      'token 200',
      'me 200',
    ]);
    expect(login.stderr).toContain(emulator.userCodes()[0]!);
    expect(login.stderr).toContain(WILE.email);

    const accounts = await storedAccounts(session.configDir);
    expect(accounts).toEqual([
      expect.objectContaining({
        provider: 'acme',
        account: WILE.email,
        baseUrl: emulator.url,
        method: 'device',
      }),
    ]);

    const printed = await session.run(['auth', 'token', '--provider', 'acme'], opts);
    expectExit(printed, 0);
    expect(printed.stdout).toBe(`${token}\n`);
  });

  it('`plugins uninstall` removes the provider; its stored credential is reported, and logout still removes it', async () => {
    const uninstall = await session.run(['plugins', 'uninstall', PLUGIN], opts);
    expectExit(uninstall, 0);
    // The CLI's plugins:postuninstall hook names the credential left behind.
    expect(uninstall.stderr).toMatch(/Credentials for "acme" are still stored/);
    expect(existsSync(join(session.homeDir, '.local', 'share', 'latchkey', 'node_modules', PLUGIN))).toBe(
      false,
    );

    const providers = providersOf(await session.run(['auth', 'providers', '--json'], opts));
    expect(providers.map((p) => p.id)).not.toContain('acme');
    expect(providers.map((p) => p.id)).toEqual(expect.arrayContaining(BUNDLED_PROVIDERS));

    const status = await session.run(['auth', 'status', '--json'], opts);
    // Exit 1: a credential that could not be checked (CLI.md: 0 all valid, 4 rejected, 1 not checkable).
    expectExit(status, 1);
    const envelope = JSON.parse(status.stdout) as {
      status: number;
      result: {
        credentials: Array<{ provider: string; account: string; validity: string; error?: { code: string } }>;
      };
    };
    // The envelope's status is the exit code, also when the command printed a result.
    expect(envelope.status).toBe(1);
    const { credentials } = envelope.result;
    expect(credentials.filter((e) => e.provider === 'acme')).toEqual([
      expect.objectContaining({
        provider: 'acme',
        account: WILE.email,
        validity: 'not-installed',
        error: expect.objectContaining({ code: 'PROVIDER_NOT_INSTALLED' }),
      }),
    ]);

    const logout = await session.run(['auth', 'logout', '--provider', 'acme'], opts);
    expectExit(logout, 0);
    expect(await storedAccounts(session.configDir)).toEqual([]);
  });

  it('`plugins link` adds the built example plugin for development; `plugins unlink` removes it', async () => {
    const link = await session.run(['plugins', 'link', acmeRoot, '--no-install'], opts);
    expectExit(link, 0);

    const providers = providersOf(await session.run(['auth', 'providers', '--json'], opts));
    expect(providers.find((p) => p.id === 'acme')).toEqual(
      expect.objectContaining({ plugin: `${PLUGIN}@1.0.0` }),
    );
    const list = await session.run(['plugins', '--json'], opts);
    expectExit(list, 0);
    const plugins = JSON.parse(list.stdout) as Array<{ name: string; type: string; root: string }>;
    expect(plugins.find((p) => p.name === PLUGIN)).toEqual(
      expect.objectContaining({ type: 'link', root: acmeRoot }),
    );

    const unlink = await session.run(['plugins', 'unlink', PLUGIN], opts);
    expectExit(unlink, 0);
    const after = providersOf(await session.run(['auth', 'providers', '--json'], opts));
    expect(after.map((p) => p.id)).not.toContain('acme');
  });

  it('never printed a secret', () => {
    assertNoSecretLeaks(session.runs, secrets);
  });
});
