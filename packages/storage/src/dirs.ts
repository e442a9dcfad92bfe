import { homedir } from 'node:os';
import { isAbsolute, join as posixJoin, resolve, win32 } from 'node:path';

/**
 * latchkey's three directories, from one set of rules (the only place they are written; bin/run.cjs,
 * the caches and the credential store all ask here):
 *
 * - config (credentials index, encrypted file, providers.json): LATCHKEY_CONFIG_DIR, else
 *   `$XDG_CONFIG_HOME/latchkey` (an absolute XDG_CONFIG_HOME only, as the XDG spec says), else
 *   `~/.config/latchkey`, on every platform.
 * - data (user-installed and linked plugins) and cache (the provider cache, Node's compile cache): oclif's
 *   own rules, so that latchkey looks where oclif puts them: LATCHKEY_DATA_DIR / LATCHKEY_CACHE_DIR, else
 *   on macOS the cache in `~/Library/Caches/latchkey`, else `$XDG_DATA_HOME/latchkey` /
 *   `$XDG_CACHE_HOME/latchkey`, else on Windows `%LOCALAPPDATA%\latchkey`, else `~/.local/share/latchkey`
 *   / `~/.cache/latchkey`.
 */
export interface LatchkeyDirs {
  config: string;
  data: string;
  cache: string;
}

/** What the rules depend on besides the environment (injected by tests). */
export interface DirsHost {
  platform: NodeJS.Platform;
  homedir: () => string;
}

const nodeHost: DirsHost = { platform: process.platform, homedir };

export function latchkeyDirs(env: NodeJS.ProcessEnv = process.env, host: DirsHost = nodeHost): LatchkeyDirs {
  const windows = host.platform === 'win32';
  const join = windows ? win32.join : posixJoin;
  const set = (name: string) => env[name]?.trim() || undefined;
  // oclif's home: HOME, then Windows' HOMEDRIVE+HOMEPATH or USERPROFILE, then the OS's answer.
  const home =
    set('HOME') ||
    (windows && set('HOMEDRIVE') && set('HOMEPATH') && join(set('HOMEDRIVE')!, set('HOMEPATH')!)) ||
    (windows && set('USERPROFILE')) ||
    host.homedir();
  const oclifDir = (category: 'data' | 'cache') =>
    join(
      set(`XDG_${category.toUpperCase()}_HOME`) ||
        (windows && set('LOCALAPPDATA')) ||
        join(home, category === 'data' ? '.local/share' : '.cache'),
      'latchkey',
    );
  const explicitConfig = set('LATCHKEY_CONFIG_DIR');
  const xdgConfig = set('XDG_CONFIG_HOME');
  return {
    config: explicitConfig
      ? resolve(explicitConfig)
      : xdgConfig && isAbsolute(xdgConfig)
        ? join(xdgConfig, 'latchkey')
        : join(home, '.config', 'latchkey'),
    data: set('LATCHKEY_DATA_DIR') || oclifDir('data'),
    cache:
      set('LATCHKEY_CACHE_DIR') ||
      (host.platform === 'darwin' ? join(home, 'Library', 'Caches', 'latchkey') : undefined) ||
      oclifDir('cache'),
  };
}
