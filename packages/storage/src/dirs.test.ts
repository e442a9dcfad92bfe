import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { latchkeyDirs, type DirsHost } from './index.js';

const linux: DirsHost = { platform: 'linux', homedir: () => '/os-home' };
const mac: DirsHost = { platform: 'darwin', homedir: () => '/Users/os' };
const windows: DirsHost = { platform: 'win32', homedir: () => 'C:\\Users\\os' };

describe('latchkeyDirs', () => {
  it('takes LATCHKEY_CONFIG_DIR, LATCHKEY_DATA_DIR and LATCHKEY_CACHE_DIR first', () => {
    const env = {
      LATCHKEY_CONFIG_DIR: '/c',
      LATCHKEY_DATA_DIR: '/d',
      LATCHKEY_CACHE_DIR: '/k',
      XDG_CONFIG_HOME: '/x',
      XDG_DATA_HOME: '/x',
      XDG_CACHE_HOME: '/x',
      HOME: '/h',
    };
    for (const host of [linux, mac])
      expect(latchkeyDirs(env, host)).toEqual({ config: '/c', data: '/d', cache: '/k' });
  });

  it('follows XDG on Linux, then ~/.config, ~/.local/share and ~/.cache', () => {
    expect(
      latchkeyDirs(
        { XDG_CONFIG_HOME: '/xc', XDG_DATA_HOME: '/xd', XDG_CACHE_HOME: '/xk', HOME: '/h' },
        linux,
      ),
    ).toEqual({
      config: '/xc/latchkey',
      data: '/xd/latchkey',
      cache: '/xk/latchkey',
    });
    expect(latchkeyDirs({ HOME: '/h' }, linux)).toEqual({
      config: '/h/.config/latchkey',
      data: '/h/.local/share/latchkey',
      cache: '/h/.cache/latchkey',
    });
    // No HOME: the OS's home directory.
    expect(latchkeyDirs({}, linux).config).toBe('/os-home/.config/latchkey');
  });

  it('ignores empty values and a relative XDG_CONFIG_HOME; makes a relative LATCHKEY_CONFIG_DIR absolute', () => {
    expect(latchkeyDirs({ LATCHKEY_CONFIG_DIR: ' ', XDG_CONFIG_HOME: 'rel', HOME: '/h' }, linux).config).toBe(
      '/h/.config/latchkey',
    );
    expect(latchkeyDirs({ LATCHKEY_CONFIG_DIR: 'cfg' }, linux).config).toBe(path.resolve('cfg'));
  });

  it('puts the cache in ~/Library/Caches on macOS, as oclif does (XDG_CACHE_HOME does not move it)', () => {
    expect(latchkeyDirs({ HOME: '/Users/a', XDG_CACHE_HOME: '/xk' }, mac)).toEqual({
      config: '/Users/a/.config/latchkey',
      data: '/Users/a/.local/share/latchkey',
      cache: '/Users/a/Library/Caches/latchkey',
    });
  });

  it('uses %LOCALAPPDATA% on Windows for data and cache, and the Windows home for config', () => {
    expect(
      latchkeyDirs({ LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local', USERPROFILE: 'C:\\Users\\a' }, windows),
    ).toEqual({
      config: 'C:\\Users\\a\\.config\\latchkey',
      data: 'C:\\Users\\a\\AppData\\Local\\latchkey',
      cache: 'C:\\Users\\a\\AppData\\Local\\latchkey',
    });
    expect(latchkeyDirs({ HOMEDRIVE: 'D:', HOMEPATH: '\\home\\b' }, windows).cache).toBe(
      'D:\\home\\b\\.cache\\latchkey',
    );
    expect(latchkeyDirs({}, windows).data).toBe('C:\\Users\\os\\.local\\share\\latchkey');
  });
});
