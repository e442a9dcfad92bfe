import { readFile } from 'node:fs/promises';
import type { Hook } from '@oclif/core';
import { isLatchkeyError } from '@latchkey/errors';
import { npmEnvFor, readNpmSettings } from '../plugins/npm-config.js';
import { npmCandidates, runNpm } from '../io/npm.js';
import { isLatchkeyPlugin, thirdPartyWarning } from '../plugins/plugin-safety.js';
import { checkPluginPackage, undiciRegistryFetch } from '../plugins/plugin-registry.js';
import { reportError } from '../render-error.js';

/**
 * Before `latchkey plugins install`: a plugin that is not latchkey's own gets a plain warning; then, for a
 * package from a registry, the user's npm configuration is read once and handed to the npm that installs
 * (docs/plugins.md), and one request checks that the package is there and is a latchkey plugin, so that a
 * failure names its real cause (TLS, network, not found, not a plugin) in seconds instead of npm's
 * "does not exist in the registry" after a minute of retries.
 */
const hook: Hook<'plugins:preinstall'> = async function (options) {
  const name = options.plugin.type === 'npm' ? options.plugin.name : options.plugin.url;
  const warning = thirdPartyWarning(name);
  if (warning) process.stderr.write(`${warning}\n`);
  if (options.plugin.type !== 'npm') return;

  const settings = await readNpmSettings(name, runNpm, npmCandidates());
  Object.assign(process.env, npmEnvFor(settings, name, process.env));
  // oclif passes LATCHKEY_NPM_REGISTRY to npm as --registry, which wins over the configuration.
  const override = options.config.scopedEnvVar('NPM_REGISTRY');
  const registry = override && !settings.scopeRegistry ? override : settings.registry;
  try {
    await checkPluginPackage({
      name,
      tag: options.plugin.tag,
      settings: { ...settings, registry },
      env: process.env,
      fetch: undiciRegistryFetch,
      readFile: (path) => readFile(path, 'utf8'),
      requireProvider: !isLatchkeyPlugin(name),
    });
  } catch (error) {
    if (!isLatchkeyError(error)) throw error;
    const json = process.argv.includes('--json');
    const code = reportError(error, {
      json,
      compact: false,
      warnings: [],
      env: process.env,
      stdout: process.stdout,
      stderr: process.stderr,
    });
    // oclif prints nothing more for its exit error, except with --json, where the command would print its
    // own envelope after latchkey's: there the process ends here (stdout is written synchronously on POSIX).
    if (json) process.exit(code);
    this.exit(code);
  }
};

export default hook;
