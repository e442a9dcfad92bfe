import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScript } from './standalone-command.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'standalone-command-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function script(name: string, body: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, body);
  return file;
}

describe('waiting for a standalone command', () => {
  // The kaneo-server test once waited a fixed 5 s for its ready line and failed on a busy CI machine.
  it('waits for a ready line that comes after more than 5 s', async () => {
    const file = await script(
      'slow.mjs',
      `setTimeout(() => { console.error('warming up'); console.log(JSON.stringify({ url: 'x' })); }, 5500);
       setTimeout(() => {}, 60000);`,
    );
    const cmd = startScript(file, [], 'slow');
    try {
      expect(await cmd.readyLine()).toEqual({ url: 'x' });
      await cmd.stderrIncludes('warming up');
    } finally {
      cmd.child.kill('SIGKILL');
    }
  });

  it('fails at once, with what it printed, when the command exits without a ready line', async () => {
    const file = await script('dies.mjs', `console.log('no newline-terminated JSON?'); process.exit(3);`);
    const t0 = Date.now();
    const cmd = startScript(file, [], 'dies');
    await expect(cmd.stderrIncludes('never printed')).rejects.toThrow(
      /dies stderr: the command exited \(code 3\) before "never printed"/,
    );
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(await cmd.exitCode()).toBe(3);
  });
});
