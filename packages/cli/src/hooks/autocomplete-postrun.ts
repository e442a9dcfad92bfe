import type { Config, Hook } from '@oclif/core';

/** After `latchkey autocomplete` wrote its scripts: provider and account values for bash. */
const hook: Hook<'postrun'> = async function ({ Command, config: loaded }) {
  if (Command.id !== 'autocomplete' && Command.id !== 'autocomplete:create') return;
  // The running config is oclif's Config class; the hook's type names only its interface.
  const config = loaded as Config;
  const { completionWords, extendBashFunction } = await import('../host/completion.js');
  await extendBashFunction(config, await completionWords(config, process.env));
};

export default hook;
