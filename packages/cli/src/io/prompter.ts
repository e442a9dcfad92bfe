import { cancelledError } from '@latchkey/errors';
import type { Prompter } from '../runtime/ports.js';

/**
 * The terminal prompter: @inquirer/prompts, drawn on `output` (stderr) and cancelled by `signal`. The
 * library is imported on the first question, so commands that never ask (`auth token`) never load it.
 */
export function inquirerPrompter(output: NodeJS.WritableStream, signal: AbortSignal): Prompter {
  return {
    async select(message, choices) {
      const { select } = await import('@inquirer/prompts');
      return asked(() => select({ message, choices: [...choices] }, { signal, output }));
    },
    async password(message, stop) {
      const { password } = await import('@inquirer/prompts');
      const ends = stop === undefined ? signal : AbortSignal.any([signal, stop]);
      return asked(() => password({ message }, { signal: ends, output }));
    },
  };
}

/** Ctrl-C at a prompt (inquirer's AbortPromptError/ExitPromptError) is a cancellation, exit 130. */
async function asked<T>(question: () => Promise<T>): Promise<T> {
  try {
    return await question();
  } catch (error) {
    if (error instanceof Error && /Abort|Exit/.test(error.name)) throw cancelledError();
    throw error;
  }
}
