import { Config, type Hook } from '@oclif/core';
import { orphanedCredentials } from '../plugins/plugin-safety.js';
import { forTerminal } from '../runtime/environment.js';

/**
 * After `latchkey plugins uninstall`: credentials stored for providers no plugin provides any more are
 * reported, never silently orphaned. The plugin list is read afresh: the running config still has the
 * removed plugin.
 */
const hook: Hook<'plugins:postuninstall'> = async function () {
  try {
    const fresh = await Config.load(this.config.root);
    for (const line of await orphanedCredentials(fresh, process.env))
      process.stderr.write(`${forTerminal(line)}\n`);
  } catch {
    // The report is a courtesy: never fail an uninstall over it (`auth status` shows the same).
  }
};

export default hook;
