import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bashScript, scriptPaths, writeScripts, zshScript } from './completion.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('the completion scripts', () => {
  it('are written where the set-up files of `latchkey autocomplete` source them, replacing what was there', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'latchkey-completion-'));
    dirs.push(cacheDir);
    const config = { cacheDir, bin: 'latchkey' };
    await writeScripts(config);
    await writeScripts(config);
    const paths = scriptPaths(config);
    expect(paths).toEqual({
      bash: join(cacheDir, 'autocomplete/functions/bash/latchkey.bash'),
      zsh: join(cacheDir, 'autocomplete/functions/zsh/_latchkey'),
    });
    expect(await readFile(paths.bash, 'utf8')).toBe(bashScript('latchkey'));
    expect(await readFile(paths.zsh, 'utf8')).toBe(zshScript('latchkey'));
  });

  it('ask `latchkey __complete --` with the words up to the cursor, and register for latchkey', () => {
    const bash = bashScript('latchkey');
    expect(bash).toContain('command latchkey __complete -- "${args[@]}"');
    expect(bash.trimEnd().endsWith('complete -F _latchkey_complete latchkey')).toBe(true);
    const zsh = zshScript('latchkey');
    expect(zsh.startsWith('#compdef latchkey\n')).toBe(true);
    expect(zsh).toContain('command latchkey __complete -- "${(@)words[2,CURRENT]}"');
  });

  it('parse in their shells', () => {
    const bash = spawnSync('bash', ['-n'], { input: bashScript('latchkey'), encoding: 'utf8' });
    expect(bash.status, bash.stderr).toBe(0);
    const zsh = spawnSync('zsh', ['-n'], { input: zshScript('latchkey'), encoding: 'utf8' });
    // zsh is installed in CI (.ci/run); on a machine without it this check is bash's only.
    if (zsh.error === undefined || process.env.CI) expect(zsh.status, zsh.stderr).toBe(0);
  });
});
