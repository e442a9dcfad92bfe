import type { Hook } from '@oclif/core';

/**
 * After `latchkey autocomplete` (and its refresh after `plugins install|uninstall`) wrote its scripts:
 * latchkey's own bash and zsh functions in place of the plugin's (src/completion/completion.ts). Other
 * commands return at once, loading nothing.
 */
const hook: Hook<'postrun'> = async function ({ Command, config }) {
  if (Command.id !== 'autocomplete' && Command.id !== 'autocomplete:create') return;
  const { writeScripts } = await import('../completion/completion.js');
  await writeScripts(config);
};

export default hook;
