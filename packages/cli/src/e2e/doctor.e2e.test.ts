/**
 * `latchkey doctor` through the built binary: a clean set-up exits 0; a config directory others can write
 * (0777) exits 1 with storage's chmod fix; a linked plugin whose provider hook throws exits 1 naming it.
 * Human text on stdout, the one envelope under --json, and nothing changed on disk.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCliSession, type CliSession } from '@latchkey/conformance/tools';
import { RUN_TIMEOUT_MS, expectExit } from './harness.js';

const sessions: CliSession[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function session(): Promise<CliSession> {
  const created = await createCliSession();
  sessions.push(created);
  return created;
}

interface Report {
  problems: number;
  findings: Array<{ check: string; status: string; message: string; fix?: string }>;
}

describe('latchkey doctor', () => {
  it('a clean set-up: every check passes, exit 0, on stdout; --json gives the envelope', async () => {
    const cli = await session();
    const run = await cli.run(['doctor'], { timeoutMs: RUN_TIMEOUT_MS });
    expectExit(run, 0);
    expect(run.stdout).toMatch(/^✓ Node 2\d\.\d+\.\d+\n/);
    expect(run.stdout).toContain(`✓ Config directory ${cli.configDir} (mode 700)\n`);
    expect(run.stdout).toContain(
      '! Storage: the file backend (LATCHKEY_STORAGE=file), protected by its permissions only: the key sits beside it, so whoever can read the config directory can read the secrets. The keychain is not tried.\n',
    );
    expect(run.stdout).toContain('✓ Plugin @latchkey/plugin-nanogpt@0.1.0 (bundled): nanogpt\n');
    expect(run.stdout).toContain('✓ Stored credentials: 0 accounts, no stale lock, no orphaned secret.\n');
    expect(run.stdout.endsWith('\nNo problems found.\n')).toBe(true);
    expect(run.stdout).not.toContain('✗');

    const json = await cli.run(['doctor', '--json'], { timeoutMs: RUN_TIMEOUT_MS });
    expectExit(json, 0);
    const envelope = JSON.parse(json.stdout) as { status: number; result: Report; warnings: string[] };
    expect(envelope.status).toBe(0);
    expect(envelope.result.problems).toBe(0);
    expect(envelope.result.findings.map((f) => f.check)).toEqual(
      expect.arrayContaining(['node', 'config-dir', 'storage', 'network', 'plugins', 'credentials']),
    );
    // Read only: the config directory is as it was.
    expect(await readdir(cli.configDir)).toEqual([]);
  });

  it('a 0777 config directory: exit 1 with the chmod fix, and the directory left as it is', async () => {
    const cli = await session();
    await chmod(cli.configDir, 0o777);
    const run = await cli.run(['doctor'], { timeoutMs: RUN_TIMEOUT_MS });
    expectExit(run, 1);
    expect(run.stdout).toContain(
      `✗ ${cli.configDir} has permissions 777; latchkey refuses to use credentials that other users may read or replace.\n` +
        `    Fix: Run: chmod 700 '${cli.configDir}'`,
    );
    expect(run.stdout.endsWith('\n1 problem to fix (see "Fix:" above).\n')).toBe(true);
    expect((await stat(cli.configDir)).mode & 0o777).toBe(0o777);

    const json = await cli.run(['doctor', '--json'], { timeoutMs: RUN_TIMEOUT_MS });
    expectExit(json, 1);
    const envelope = JSON.parse(json.stdout) as { status: number; result: Report };
    expect(envelope.status).toBe(1);
    expect(envelope.result.findings).toContainEqual({
      check: 'config-dir',
      status: 'problem',
      message: expect.stringContaining('has permissions 777'),
      fix: expect.stringContaining(`chmod 700 '${cli.configDir}'`),
    });
    await chmod(cli.configDir, 0o700);
  });

  it('a lock left by a process that died: exit 1 with the rm fix; doctor leaves it in place', async () => {
    const cli = await session();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const lock = join(cli.configDir, '.lock');
    await writeFile(lock, `${dead} ${hostname()} 0123abcd\n`, { mode: 0o600 });
    const run = await cli.run(['doctor'], { timeoutMs: RUN_TIMEOUT_MS });
    expectExit(run, 1);
    expect(run.stdout).toContain(
      `✗ A stale lock ${lock} was left by process ${dead} on ${hostname()}, which is no longer running.\n` +
        `    Fix: Remove it: rm '${lock}' (the next sign-in would also break it).\n`,
    );
    expect(await readFile(lock, 'utf8')).toBe(`${dead} ${hostname()} 0123abcd\n`);
  });

  it('a linked plugin whose provider hook throws: exit 1, named, with how to unlink it', async () => {
    const cli = await session();
    const root = await mkdtemp(join(tmpdir(), 'latchkey-doctor-plugin-'));
    dirs.push(root);
    await mkdir(join(root, 'dist'));
    await writeFile(
      join(root, 'package.json'),
      JSON.stringify({
        name: 'latchkey-plugin-wobbly',
        version: '2.0.0',
        type: 'module',
        oclif: { hooks: { 'latchkey:provider': './dist/hook.js' } },
      }),
    );
    await writeFile(
      join(root, 'dist', 'hook.js'),
      "export default async function () { throw new Error('cannot reach the mothership'); }\n",
    );
    expectExit(await cli.run(['plugins', 'link', root, '--no-install'], { timeoutMs: RUN_TIMEOUT_MS }), 0);

    const run = await cli.run(['doctor'], { timeoutMs: RUN_TIMEOUT_MS });
    expectExit(run, 1);
    expect(run.stdout).toContain(
      '✗ Plugin latchkey-plugin-wobbly@2.0.0 (linked) is broken: its provider hook failed: cannot reach the mothership\n' +
        '    Fix: Fix and rebuild the plugin, or unlink it: latchkey plugins unlink latchkey-plugin-wobbly\n',
    );
    // The bundled plugins are still reported healthy.
    expect(run.stdout).toContain('✓ Plugin @latchkey/plugin-kaneo@0.1.0 (bundled): kaneo\n');
  });
});
