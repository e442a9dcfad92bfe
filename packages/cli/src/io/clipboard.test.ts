import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyWithTool } from './clipboard.js';

/** The real adapter: a real child process gets the text on stdin, never in its arguments. */
describe('copyWithTool', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latchkey-clipboard-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the text on standard input with only the given environment; true when the tool exits 0', async () => {
    const tool = join(dir, 'copy.sh');
    const seen = join(dir, 'seen');
    await writeFile(tool, `#!/bin/sh\n{ printf '%s|' "$#" "$*" "\${SECRET-unset}"; cat; } > '${seen}'\n`);
    await chmod(tool, 0o755);
    expect(
      await copyWithTool(tool, ['-selection', 'clipboard'], 'ABCD-EFGH', { PATH: process.env.PATH }),
    ).toBe(true);
    expect(await readFile(seen, 'utf8')).toBe('2|-selection clipboard|unset|ABCD-EFGH');
  });

  it('a tool that fails, or is missing: false, never a throw', async () => {
    const tool = join(dir, 'fail.sh');
    await writeFile(tool, '#!/bin/sh\ncat >/dev/null; exit 1\n');
    await chmod(tool, 0o755);
    expect(await copyWithTool(tool, [], 'ABCD-EFGH', {})).toBe(false);
    expect(await copyWithTool('/nonexistent/wl-copy', [], 'ABCD-EFGH', {})).toBe(false);
  });
});
