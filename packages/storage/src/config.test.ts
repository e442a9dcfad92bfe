import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LatchkeyError } from '@latchkey/errors';
import { resolveConfigDir, resolveStoragePreference } from './index.js';

describe('resolveConfigDir', () => {
  it('prefers LATCHKEY_CONFIG_DIR, then XDG_CONFIG_HOME/latchkey, then ~/.config/latchkey', () => {
    expect(resolveConfigDir({ LATCHKEY_CONFIG_DIR: '/a/b', XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe('/a/b');
    expect(resolveConfigDir({ XDG_CONFIG_HOME: '/x', HOME: '/h' })).toBe(path.join('/x', 'latchkey'));
    expect(resolveConfigDir({ HOME: '/h' })).toBe(path.join('/h', '.config', 'latchkey'));
    expect(resolveConfigDir({})).toBe(path.join(os.homedir(), '.config', 'latchkey'));
  });

  it('ignores empty values and a relative XDG_CONFIG_HOME', () => {
    expect(resolveConfigDir({ LATCHKEY_CONFIG_DIR: '', XDG_CONFIG_HOME: 'rel', HOME: '/h' })).toBe(
      '/h/.config/latchkey',
    );
  });

  it('makes a relative LATCHKEY_CONFIG_DIR absolute', () => {
    expect(resolveConfigDir({ LATCHKEY_CONFIG_DIR: 'cfg' })).toBe(path.resolve('cfg'));
  });
});

describe('resolveStoragePreference', () => {
  it('flag beats LATCHKEY_STORAGE; default auto', () => {
    expect(resolveStoragePreference(undefined, {})).toBe('auto');
    expect(resolveStoragePreference(undefined, { LATCHKEY_STORAGE: 'file' })).toBe('file');
    expect(resolveStoragePreference('keychain', { LATCHKEY_STORAGE: 'file' })).toBe('keychain');
    expect(resolveStoragePreference('FILE', {})).toBe('file');
  });

  it('rejects a bad value with a USAGE error naming the valid values', () => {
    for (const [flag, env] of [
      ['disk', {}],
      [undefined, { LATCHKEY_STORAGE: 'vault' }],
    ] as const) {
      let caught: unknown;
      try {
        resolveStoragePreference(flag, env);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(LatchkeyError);
      const error = caught as LatchkeyError;
      expect(error.code).toBe('USAGE');
      expect(error.exitCode).toBe(2);
      expect(error.message).toContain('auto, keychain, file');
      expect(error.message).toContain(flag === undefined ? 'LATCHKEY_STORAGE' : '--storage');
    }
  });
});
