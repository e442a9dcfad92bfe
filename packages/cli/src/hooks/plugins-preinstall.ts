import type { Hook } from '@oclif/core';
import { thirdPartyWarning } from '../host/plugin-safety.js';

/** Before `latchkey plugins install`: a plugin that is not latchkey's own gets a plain warning. */
const hook: Hook<'plugins:preinstall'> = async function (options) {
  const name = options.plugin.type === 'npm' ? options.plugin.name : options.plugin.url;
  const warning = thirdPartyWarning(name);
  if (warning) process.stderr.write(`${warning}\n`);
};

export default hook;
