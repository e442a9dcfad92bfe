import { closest, distance } from 'fastest-levenshtein';
import { ExitCode, LatchkeyError } from '@latchkey/errors';

/** A command or topic people can type, as oclif stores it (`auth:login`). */
export interface CommandName {
  id: string;
  hidden?: boolean;
}

/**
 * The visible command or topic closest to what was typed, with spaces (`auth login`), or undefined when
 * nothing is close enough to be a typo: at most 2 edits, or a third of the typed length for long names.
 */
export function suggestCommand(typed: string, names: readonly CommandName[]): string | undefined {
  const candidates = [...new Set(names.filter((n) => !n.hidden).map((n) => n.id))];
  if (candidates.length === 0 || typed === '') return undefined;
  const best = closest(typed, candidates);
  const limit = Math.max(2, Math.floor(typed.length / 3));
  return distance(typed, best) <= limit ? best.replaceAll(':', ' ') : undefined;
}

/** The usage error for a command that does not exist, with the suggestion when there is one. */
export function unknownCommand(typed: string, suggestion: string | undefined, bin: string): LatchkeyError {
  const shown = typed.replaceAll(':', ' ');
  return new LatchkeyError({
    code: 'UNKNOWN_COMMAND',
    message:
      suggestion === undefined
        ? `"${shown}" is not a ${bin} command.`
        : `"${shown}" is not a ${bin} command. Did you mean \`${suggestion}\`?`,
    action: `Run \`${bin} --help\` to see the commands.`,
    exitCode: ExitCode.Usage,
  });
}
