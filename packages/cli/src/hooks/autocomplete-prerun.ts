import type { Config, Hook } from '@oclif/core';

/**
 * Before `latchkey autocomplete` writes its scripts: the installed providers become `--provider`'s
 * completion values. Every other command returns at once, loading nothing.
 */
const hook: Hook<'prerun'> = async function ({ Command, config: loaded }) {
  if (Command.id !== 'autocomplete' && Command.id !== 'autocomplete:create') return;
  // The running config is oclif's Config class; the hook's type names only its interface.
  const config = loaded as Config;
  const { addFlagOptions, completionWords } = await import('../completion/completion.js');
  addFlagOptions(config, await completionWords(config, process.env));
};

export default hook;
