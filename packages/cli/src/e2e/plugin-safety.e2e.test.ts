/**
 * Third-party plugins that misbehave, linked into a real latchkey (`plugins link`): one whose hook throws,
 * one whose hook never answers, and one that claims the bundled "nanogpt" id. Every other command keeps
 * working, the broken ones are listed with the reason, the bundled provider wins the duplicate id and both
 * plugins are named, and `auth token` for other providers is unaffected.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertNoSecretLeaks,
  createCliSession,
  timeBound,
  type CliSession,
} from '@latchkey/conformance/tools';
import { startNanoGptEmulator, type NanoGptEmulator } from '@latchkey/testkit';
import { RUN_TIMEOUT_MS, expectExit, newKey } from './harness.js';

let dir: string;
let session: CliSession;
let emulator: NanoGptEmulator;
const key = newKey();

const hooks: Record<string, string> = {
  broken: "export default async function () { throw new Error('cannot reach the mothership'); }",
  hang: 'export default function () { return new Promise(() => {}); }',
  dup: `export default async function () {
  return { id: 'nanogpt', title: 'Not NanoGPT', defaultBaseUrl: 'https://evil.example', envVars: ['NANOGPT_API_KEY'], methods: ['token'],
    verify: async (token) => { throw new Error('a look-alike must never receive ' + token.length); } };
}`,
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-bad-plugins-'));
  emulator = await startNanoGptEmulator({ keys: [key] });
  session = await createCliSession();
  for (const [name, hook] of Object.entries(hooks)) {
    const root = join(dir, name);
    await mkdir(root);
    await writeFile(
      join(root, 'package.json'),
      JSON.stringify({
        name: `latchkey-plugin-${name}`,
        version: '1.0.0',
        type: 'module',
        oclif: { hooks: { 'latchkey:provider': './hook.js' } },
      }),
    );
    await writeFile(join(root, 'hook.js'), hook);
    expectExit(await session.run(['plugins', 'link', root], { timeoutMs: RUN_TIMEOUT_MS }), 0);
  }
}, 4 * RUN_TIMEOUT_MS);

afterAll(async () => {
  await emulator.close();
  await session.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('misbehaving plugins', () => {
  it('auth providers lists the broken plugins with their reasons and names both claimants of "nanogpt"', async () => {
    const run = await session.run(['auth', 'providers', '--json'], { timeoutMs: RUN_TIMEOUT_MS });
    expectExit(run, 0);
    const envelope = JSON.parse(run.stdout) as {
      status: number;
      result: {
        providers: Array<{ id: string; plugin: string }>;
        broken: Array<{ plugin: string; reason: string }>;
        conflicts: Array<{ id: string; winner: string; ignored: string[] }>;
      };
      warnings: string[];
    };
    expect(envelope.status).toBe(0);
    const listing = envelope.result;
    // A script reading only `warnings` learns about the look-alike and the broken plugins too.
    expect(envelope.warnings).toEqual(
      expect.arrayContaining([
        expect.stringContaining('"nanogpt" is claimed by @latchkey/plugin-nanogpt and latchkey-plugin-dup'),
        expect.stringContaining('Plugin latchkey-plugin-hang is broken'),
      ]),
    );
    expect(listing.providers.find((p) => p.id === 'nanogpt')?.plugin).toMatch(/^@latchkey\/plugin-nanogpt@/);
    expect(listing.providers.map((p) => p.id)).toEqual(['kaneo', 'nanoctl', 'nanogpt', 'nanoterm']);
    expect(listing.conflicts).toEqual([
      { id: 'nanogpt', winner: '@latchkey/plugin-nanogpt', ignored: ['latchkey-plugin-dup'] },
    ]);
    expect(listing.broken).toEqual(
      expect.arrayContaining([
        { plugin: 'latchkey-plugin-broken', reason: expect.stringContaining('cannot reach the mothership') },
        { plugin: 'latchkey-plugin-hang', reason: expect.stringContaining('did not answer in time') },
      ]),
    );
    const human = await session.run(['auth', 'providers'], { timeoutMs: RUN_TIMEOUT_MS });
    expect(human.stdout).toContain('claimed by @latchkey/plugin-nanogpt and latchkey-plugin-dup');
    expect(human.stdout).toContain('Plugin latchkey-plugin-hang is broken');
  });

  it('login and status still work; the bundled provider gets the key and the look-alike is named in a warning', async () => {
    const login = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
      { input: key, timeoutMs: RUN_TIMEOUT_MS },
    );
    expectExit(login, 0);
    expect(login.stderr).toContain(
      'Provider id "nanogpt" is claimed by @latchkey/plugin-nanogpt and latchkey-plugin-dup',
    );
    expect(login.stderr).not.toContain('must never receive');
    expect(emulator.requests.filter((r) => r.route === 'models').map((r) => r.headers.authorization)).toEqual(
      [`Bearer ${key}`],
    );
    const status = await session.run(['auth', 'status', '--provider', 'nanogpt'], {
      timeoutMs: RUN_TIMEOUT_MS,
    });
    expectExit(status, 0);
    // --json: the same warning in the envelope (and still on stderr for people).
    const json = await session.run(['auth', 'status', '--provider', 'nanogpt', '--json'], {
      timeoutMs: RUN_TIMEOUT_MS,
    });
    expectExit(json, 0);
    expect(JSON.parse(json.stdout)).toEqual({
      status: 0,
      result: { credentials: [expect.objectContaining({ provider: 'nanogpt', validity: 'valid' })] },
      warnings: [
        'Provider id "nanogpt" is claimed by @latchkey/plugin-nanogpt and latchkey-plugin-dup; using @latchkey/plugin-nanogpt. Uninstall the other plugin to silence this.',
      ],
    });
    expect(json.stderr).toContain('! Provider id "nanogpt" is claimed by');
  });

  it('auth token for other providers is unaffected (and quick: no hook runs)', async () => {
    const started = Date.now();
    const token = await session.run(['auth', 'token', '--provider', 'nanogpt'], {
      timeoutMs: RUN_TIMEOUT_MS,
    });
    expectExit(token, 0);
    expect(token.stdout).toBe(`${key}\n`);
    // No hook ran: nothing about the broken or conflicting plugins was said, and the hanging hook's 3 s
    // timeout was not waited for (on a quiet machine the run takes well under 3 s; a busy one stretches
    // the bound, up to 10 s).
    expect(token.stderr).toBe('');
    expect(Date.now() - started).toBeLessThan(timeBound(3000, { atMost: 10_000 }));
  });

  it('never leaks the key', () => {
    assertNoSecretLeaks(session.runs, [key]);
  });
});
