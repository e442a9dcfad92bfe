/**
 * `latchkey plugins install` behind a registry with a private certificate authority, as behind a
 * TLS-inspecting proxy: verdaccio served over https with a certificate signed by a CA made here (openssl),
 * holding latchkey-plugin-acme and everything it needs. What the user configured for their own npm decides:
 * npm's `cafile` in their npmrc (or NODE_EXTRA_CA_CERTS) makes the install work; without it the failure says
 * it is the certificate, in seconds. A name that is not there says so, and a registry that is down too.
 */
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCliSession, timeBound, type CliSession } from '@latchkey/conformance/tools';
import { RUN_TIMEOUT_MS, expectExit, refusedPort } from './harness.js';
import {
  makeCertificates,
  packInstalled,
  packWorkspace,
  pinnedNpm,
  publishAll,
  registryToken,
  repoRoot,
  startRegistry,
  stopRegistry,
  writeNpmrc,
  type Registry,
} from './registry.js';

const PLUGIN = 'latchkey-plugin-acme';
/** What `npm install latchkey-plugin-acme` needs, from this workspace, plus undici from the pnpm store. */
const WORKSPACE_PACKAGES = [
  'packages/errors',
  'packages/clock',
  'packages/polling',
  'packages/http',
  'packages/oauth',
  'packages/plugin-kit',
  'examples/acme',
];
const undiciDir = join(
  createRequire(join(repoRoot, 'packages', 'http', 'package.json')).resolve('undici/package.json'),
  '..',
);
/** oauth4webapi, @latchkey/oauth's one dependency from outside the workspace. */
const oauth4Dir = join(
  createRequire(join(repoRoot, 'packages', 'oauth', 'package.json')).resolve('oauth4webapi/package.json'),
  '..',
);
/**
 * The bound for naming the real cause (15 s on a quiet machine, stretched on a busy one), well short
 * of what npm's own retries and 5-minute fetch timeout would take.
 */
const causeWithin = () => timeBound(15_000, { atMost: 60_000 });
/** An npm install (or a run that may reach one): a hang detector, generous for a loaded machine. */
const NPM_TIMEOUT_MS = 180_000;
/** A test with an npm install and a few more runs. */
const LONG_TEST_MS = NPM_TIMEOUT_MS + 2 * RUN_TIMEOUT_MS;

let work: string;
let registry: Registry | undefined;
let certs: { ca: string; key: string; cert: string };
let emptyGlobal: string;
const sessions: CliSession[] = [];

/** A session whose npm user config holds `lines` (and an empty global npmrc: no machine settings). */
async function sessionWith(
  name: string,
  lines: string[],
  env: Record<string, string> = {},
): Promise<CliSession> {
  const npmrc = join(work, `${name}.npmrc`);
  await writeFile(npmrc, `${lines.join('\n')}\n`);
  const session = await createCliSession({
    env: {
      NPM_CONFIG_USERCONFIG: npmrc,
      npm_config_globalconfig: emptyGlobal,
      npm_config_update_notifier: 'false',
      ...env,
    },
  });
  sessions.push(session);
  return session;
}

async function timed(session: CliSession, args: string[]) {
  const started = Date.now();
  const run = await session.run(args, { timeoutMs: NPM_TIMEOUT_MS });
  return { run, ms: Date.now() - started };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'latchkey-npm-config-e2e-'));
  emptyGlobal = join(work, 'global-npmrc');
  await writeFile(emptyGlobal, '');
  certs = await makeCertificates(join(work, 'certs'));
  registry = await startRegistry(join(work, 'registry'), [
    '--https-key',
    certs.key,
    '--https-cert',
    certs.cert,
  ]);
  expect(registry.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

  const token = await registryToken(registry.url, await readFile(certs.ca, 'utf8'));
  const publisherRc = join(work, 'publisher.npmrc');
  await writeNpmrc(publisherRc, registry.url, token, [`registry=${registry.url}/`, `cafile=${certs.ca}`]);
  const npmHome = join(work, 'npm-home');
  await mkdir(npmHome, { recursive: true });
  const toolEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    // npm (11) puts Node's compile cache in the temporary directory: the test's, not the machine's /tmp.
    TMPDIR: tmpdir(),
    HOME: npmHome,
    NPM_CONFIG_USERCONFIG: publisherRc,
    npm_config_globalconfig: emptyGlobal,
    npm_config_update_notifier: 'false',
    npm_config_manage_package_manager_versions: 'false',
  };
  const packs = join(work, 'packs');
  await Promise.all([
    packWorkspace(WORKSPACE_PACKAGES, packs, toolEnv),
    packInstalled([undiciDir, oauth4Dir], packs, toolEnv),
  ]);
  const published = await publishAll(packs, registry.url, toolEnv);
  expect(published).toContain('latchkey-plugin-acme-1.0.0.tgz');
}, 480_000);

afterAll(async () => {
  for (const session of sessions) await session.dispose();
  await stopRegistry(registry);
  if (work) await rm(work, { recursive: true, force: true });
}, 60_000);

describe('plugins install honours the npm configuration', () => {
  it(
    "installs from an https registry whose CA is npm's `cafile` in the user npmrc",
    async () => {
      const session = await sessionWith('cafile', [`registry=${registry!.url}/`, `cafile=${certs.ca}`]);
      const install = await session.run(['plugins', 'install', PLUGIN], { timeoutMs: NPM_TIMEOUT_MS });
      expectExit(install, 0);
      const providers = await session.run(['auth', 'providers', '--json'], { timeoutMs: RUN_TIMEOUT_MS });
      expectExit(providers, 0);
      expect(providers.stdout).toContain(`"plugin": "${PLUGIN}@1.0.0"`);
      // Every package came from the https registry.
      const lock = JSON.parse(
        await readFile(join(session.homeDir, '.local', 'share', 'latchkey', 'package-lock.json'), 'utf8'),
      ) as { packages: Record<string, { resolved?: string }> };
      const resolved = Object.entries(lock.packages).filter(([path]) => path !== '');
      expect(resolved.length).toBeGreaterThanOrEqual(8);
      for (const [path, entry] of resolved)
        expect(entry.resolved, path).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
    },
    LONG_TEST_MS,
  );

  it(
    "installs when the cafile is in the global npmrc of the user's own npm (not latchkey's Node)",
    async () => {
      // The user's `npm` on PATH: one whose global npmrc (in its own prefix, like /usr/etc/npmrc) names the
      // CA. latchkey runs under another Node, whose npm would never read that file unless asked.
      const globalRc = join(work, 'user-npm-global.npmrc');
      await writeFile(globalRc, `cafile=${certs.ca}\n`);
      const shimDir = join(work, 'user-npm-bin');
      await mkdir(shimDir, { recursive: true });
      await writeFile(
        join(shimDir, 'npm'),
        `#!/bin/sh\nnpm_config_globalconfig='${globalRc}' exec '${process.execPath}' '${pinnedNpm()}' "$@"\n`,
        { mode: 0o755 },
      );
      const npmrc = join(work, 'global-cafile.npmrc');
      await writeFile(npmrc, `registry=${registry!.url}/\n`);
      const session = await createCliSession({
        env: {
          PATH: `${shimDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
          NPM_CONFIG_USERCONFIG: npmrc,
          npm_config_update_notifier: 'false',
        },
      });
      sessions.push(session);
      const install = await session.run(['plugins', 'install', PLUGIN], { timeoutMs: NPM_TIMEOUT_MS });
      expectExit(install, 0);
    },
    LONG_TEST_MS,
  );

  it(
    'goes through the proxy HTTPS_PROXY names, for the check and for npm',
    async () => {
      // A CONNECT proxy that records where it tunnels to.
      const tunnels: string[] = [];
      const open = new Set<Socket>();
      const proxy = createServer((client) => {
        open.add(client);
        client.once('data', (head: Buffer) => {
          const target = /^CONNECT (\S+):(\d+) HTTP/.exec(head.toString('latin1'));
          if (!target) return void client.destroy();
          tunnels.push(`${target[1]}:${target[2]}`);
          const upstream = connect(Number(target[2]), target[1]!, () => {
            open.add(upstream);
            client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            upstream.pipe(client).pipe(upstream);
          });
          upstream.on('error', () => client.destroy());
          client.on('error', () => upstream.destroy());
        });
      });
      proxy.listen(0, '127.0.0.1');
      await once(proxy, 'listening');
      const { port } = proxy.address() as { port: number };
      try {
        // By name: npm's proxy agent checks an IP address's certificate against "localhost" (an npm quirk).
        const byName = registry!.url.replace('127.0.0.1', 'localhost');
        const session = await sessionWith('proxy', [`registry=${byName}/`, `cafile=${certs.ca}`], {
          HTTPS_PROXY: `http://127.0.0.1:${port}`,
        });
        const install = await session.run(['plugins', 'install', PLUGIN], { timeoutMs: NPM_TIMEOUT_MS });
        expectExit(install, 0);
        const registryHost = new URL(byName).host;
        // latchkey's check, then npm's requests (it may reuse one tunnel for several).
        expect(tunnels.length).toBeGreaterThanOrEqual(2);
        expect(new Set(tunnels)).toEqual(new Set([registryHost]));
      } finally {
        for (const socket of open) socket.destroy();
        await new Promise((resolve) => proxy.close(resolve));
      }
      // The same proxy, gone: the registry is up, but the way to it is not.
      const session = await sessionWith('dead-proxy', [`registry=${registry!.url}/`, `cafile=${certs.ca}`], {
        HTTPS_PROXY: `http://127.0.0.1:${port}`,
      });
      const { run, ms } = await timed(session, ['plugins', 'install', PLUGIN]);
      expectExit(run, 1);
      expect(run.stderr).toContain(
        `latchkey: Could not reach the npm registry ${registry!.url}/ (ECONNREFUSED).`,
      );
      expect(ms).toBeLessThan(causeWithin());
    },
    LONG_TEST_MS,
  );

  it(
    'installs with the CA in NODE_EXTRA_CA_CERTS instead',
    async () => {
      const session = await sessionWith('extra-ca', [`registry=${registry!.url}/`], {
        NODE_EXTRA_CA_CERTS: certs.ca,
      });
      const install = await session.run(['plugins', 'install', PLUGIN], { timeoutMs: NPM_TIMEOUT_MS });
      expectExit(install, 0);
    },
    LONG_TEST_MS,
  );

  it(
    'without the CA, says the certificate is not trusted and how to fix it, within 15 s',
    async () => {
      const session = await sessionWith('no-ca', [`registry=${registry!.url}/`]);
      const { run, ms } = await timed(session, ['plugins', 'install', PLUGIN]);
      expectExit(run, 1);
      expect(run.stderr).toMatch(
        new RegExp(
          `latchkey: The TLS certificate of the npm registry ${registry!.url}/ is not trusted \\([A-Z_]+\\)`,
        ),
      );
      expect(run.stderr).toContain('`npm config set cafile /path/to/ca.pem`');
      expect(run.stderr).toContain('NODE_EXTRA_CA_CERTS');
      expect(run.stderr).not.toContain('does not exist in the registry');
      expect(ms).toBeLessThan(causeWithin());
    },
    LONG_TEST_MS,
  );

  it(
    'a name the registry does not have is "not found" (HTTP 404), within 15 s',
    async () => {
      const session = await sessionWith('missing', [`registry=${registry!.url}/`, `cafile=${certs.ca}`]);
      const { run, ms } = await timed(session, ['plugins', 'install', 'latchkey-plugin-nope']);
      expectExit(run, 1);
      expect(run.stderr).toContain(
        `latchkey: latchkey-plugin-nope was not found in the npm registry ${registry!.url}/ (HTTP 404).`,
      );
      expect(ms).toBeLessThan(causeWithin());
      // --json: latchkey's one envelope on stdout, and nothing after it.
      const json = await session.run(['plugins', 'install', 'latchkey-plugin-nope', '--json'], {
        timeoutMs: NPM_TIMEOUT_MS,
      });
      expectExit(json, 1);
      expect(JSON.parse(json.stdout)).toEqual({
        status: 1,
        error: expect.objectContaining({ code: 'PLUGIN_NOT_FOUND', retryable: false }),
        warnings: [],
      });
    },
    LONG_TEST_MS,
  );

  it(
    'a package that is not a latchkey plugin is refused before npm installs it',
    async () => {
      const session = await sessionWith('not-plugin', [`registry=${registry!.url}/`, `cafile=${certs.ca}`]);
      const { run } = await timed(session, ['plugins', 'install', 'undici']);
      expectExit(run, 1);
      expect(run.stderr).toMatch(/latchkey: undici@[\d.]+ is not a latchkey plugin/);
    },
    LONG_TEST_MS,
  );

  it(
    'a registry nobody listens on is "could not reach", within 15 s',
    async () => {
      const port = await refusedPort();
      const session = await sessionWith('dead', [`registry=http://127.0.0.1:${port}/`]);
      const { run, ms } = await timed(session, ['plugins', 'install', PLUGIN]);
      expectExit(run, 1);
      expect(run.stderr).toContain(
        `latchkey: Could not reach the npm registry http://127.0.0.1:${port}/ (ECONNREFUSED).`,
      );
      expect(ms).toBeLessThan(causeWithin());
    },
    LONG_TEST_MS,
  );

  it(
    'a registry that accepts the connection and never answers is "did not answer in time", within 15 s',
    async () => {
      const sockets = new Set<Socket>();
      const server = createServer((socket) => void sockets.add(socket));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as { port: number };
      try {
        const session = await sessionWith('hung', [`registry=http://127.0.0.1:${port}/`]);
        const { run, ms } = await timed(session, ['plugins', 'install', PLUGIN]);
        expectExit(run, 1);
        expect(run.stderr).toContain(
          `latchkey: The npm registry http://127.0.0.1:${port}/ did not answer in time.`,
        );
        expect(ms).toBeLessThan(causeWithin());
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    },
    LONG_TEST_MS,
  );
});
