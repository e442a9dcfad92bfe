import type { Config, Hook } from '@oclif/core';
import { resolveConfigDir } from '@latchkey/storage';
import { updateInfoCache } from '../host/info-cache.js';
import { discoveredInThisRun } from '../host/providers.js';
import { listingOf } from '../host/provider-list.js';

/**
 * After every command: remembers oclif's `--version` line and, after a plain `auth providers` or `auth
 * status`, what that command's provider discovery found, so that src/fast-info.ts can answer those without
 * oclif next time (host/info-cache.ts). No plugin is asked twice; nothing is written when nothing changed.
 */
const hook: Hook<'finally'> = async function ({ id, argv, config: loaded }) {
  // The running config is oclif's Config class; the hook's type names only its interface.
  const config = loaded as Config;
  const env = process.env;
  const plain = (id === 'auth:providers' || id === 'auth:status') && argv.length === 0;
  const discovery = plain ? discoveredInThisRun() : undefined;
  await updateInfoCache(config, env, resolveConfigDir(env), (cache) => {
    cache.userAgent = config.userAgent;
    // A broken plugin may work next time: only a clean listing is remembered.
    if (discovery && discovery.broken.length === 0) cache.providers = listingOf(discovery);
  });
};

export default hook;
