/**
 * latchkey needs Node.js 22: on an older Node the binary says so in one plain error (exit 1) before it
 * loads anything, whatever the command, instead of oclif's warning and a later crash. Checked with a Node
 * that reports an old version (a preload), and with the machine's own Node when that one is older than 22.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RUN_TIMEOUT_MS } from './harness.js';
import { cliRoot } from './registry.js';

const bin = join(cliRoot, 'bin', 'run.cjs');
let dir: string;
let preload: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-node-version-'));
  preload = join(dir, 'old-node.cjs');
  await writeFile(
    preload,
    "Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '20.19.0' } });\n",
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(node: string, nodeArgs: string[], args: string[]) {
  return spawnSync(node, [...nodeArgs, bin, ...args], {
    encoding: 'utf8',
    timeout: RUN_TIMEOUT_MS,
    env: { ...process.env, LATCHKEY_CONFIG_DIR: join(dir, 'config'), LATCHKEY_CACHE_DIR: join(dir, 'cache') },
  });
}

it.each([[['--version']], [['auth', 'token']], [['auth', 'login', '--provider', 'nanogpt']]])(
  'an older Node: `latchkey %s` stops with one plain error, exit 1, nothing on stdout',
  (args) => {
    const result = run(process.execPath, ['-r', preload], args);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'latchkey: Node.js 20.19.0 is too old; latchkey needs Node.js 22 or newer.\n' +
        '  Install Node.js 22 or newer (https://nodejs.org/), then run latchkey again.\n',
    );
  },
);

// Only a machine whose own Node is older than 22 can show this (this one's /usr/bin/node is 20); elsewhere
// the preload cases above stand for it.
const system = spawnSync('/usr/bin/node', ['-p', 'process.versions.node'], { encoding: 'utf8' });
const systemVersion = system.status === 0 ? system.stdout.trim() : '';
it.runIf(systemVersion !== '' && Number(systemVersion.split('.')[0]) < 22)(
  'the machine’s own Node, older than 22, gets the same error',
  () => {
    const result = run('/usr/bin/node', [], ['--version']);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`latchkey: Node.js ${systemVersion} is too old`);
  },
);

it('Node 22 runs it', () => {
  const result = run(process.execPath, [], ['--version']);
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/^@latchkey\/cli\/\S+ \S+ node-v2[2-9]/);
});
