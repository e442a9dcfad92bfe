import type { Config, Hook } from '@oclif/core';

/**
 * After `latchkey autocomplete` wrote its scripts: provider and account values for bash. After
 * `plugins link`: the scripts rebuilt with the linked plugin's providers. Other commands return at once.
 */
const hook: Hook<'postrun'> = async function ({ Command, config: loaded }) {
  // The running config is oclif's Config class; the hook's type names only its interface.
  const config = loaded as Config;
  if (Command.id === 'plugins:link') {
    const { refreshAfterLink } = await import('../completion/completion.js');
    await refreshAfterLink(config);
    return;
  }
  if (Command.id !== 'autocomplete' && Command.id !== 'autocomplete:create') return;
  const { completionWords, extendBashFunction } = await import('../completion/completion.js');
  await extendBashFunction(config, await completionWords(config, process.env));
};

export default hook;
