import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PASSPHRASE_FILE } from '@latchkey/storage';
import { mayAskPassphrase } from './environment.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configDir(withPassphraseFile: boolean): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-env-'));
  dirs.push(dir);
  if (withPassphraseFile) writeFileSync(join(dir, PASSPHRASE_FILE), '{}', { mode: 0o600 });
  return { LATCHKEY_CONFIG_DIR: dir };
}

describe('mayAskPassphrase (the fast paths hand a possible prompt to the full CLI)', () => {
  it('no passphrase file: no, and whether this is a terminal is never asked (it costs a stdin stream)', () => {
    let asked = 0;
    expect(mayAskPassphrase(configDir(false), () => (asked += 1) > 0)).toBe(false);
    expect(asked).toBe(0);
  });

  it('a passphrase file: yes at a terminal, no in a pipe', () => {
    const env = configDir(true);
    expect(mayAskPassphrase(env, () => true)).toBe(true);
    expect(mayAskPassphrase(env, () => false)).toBe(false);
  });

  it('LATCHKEY_FILE_PASSPHRASE set: nothing to ask, and nothing is looked at', () => {
    let asked = 0;
    const env = { ...configDir(true), LATCHKEY_FILE_PASSPHRASE: 'correct horse' };
    expect(mayAskPassphrase(env, () => (asked += 1) > 0)).toBe(false);
    expect(asked).toBe(0);
  });
});
