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
  return nearest(typed, names)?.id.replaceAll(':', ' ');
}

function nearest(typed: string, names: readonly CommandName[]): { id: string; distance: number } | undefined {
  const candidates = [...new Set(names.filter((n) => !n.hidden).map((n) => n.id))];
  if (candidates.length === 0 || typed === '') return undefined;
  // A command typed without its topic (`login`, as in `doppler login`): the one command it ends, counted
  // as one edit (the topic left out).
  const ending = typed.includes(':') ? [] : candidates.filter((id) => id.endsWith(`:${typed}`));
  if (ending.length === 1) return { id: ending[0]!, distance: 1 };
  const best = closest(typed, candidates);
  const edits = distance(typed, best);
  return edits <= Math.max(2, Math.floor(typed.length / 3)) ? { id: best, distance: edits } : undefined;
}

/**
 * What was typed as a command, and the nearest real one. oclif joins every word before the first flag into
 * the id (`auth lgin acme` -> `auth:lgin:acme`), so each run of words from the first one that is not
 * a topic is tried and the nearest match wins (the longer run on a tie); without a suggestion the typed
 * command ends at that first word.
 */
export function closestCommand(
  id: string,
  names: readonly CommandName[],
  topics: ReadonlySet<string>,
): { typed: string; suggestion?: string } {
  const words = id.split(':');
  let known = 0;
  while (known < words.length - 1 && topics.has(words.slice(0, known + 1).join(':'))) known += 1;
  let found: { typed: string; id: string; distance: number } | undefined;
  for (let end = words.length; end > known; end -= 1) {
    const typed = words.slice(0, end).join(':');
    const match = nearest(typed, names);
    if (match && (found === undefined || match.distance < found.distance)) found = { typed, ...match };
  }
  if (found) return { typed: found.typed, suggestion: found.id.replaceAll(':', ' ') };
  return { typed: words.slice(0, known + 1).join(':') };
}

/**
 * The name of `names` closest to what was typed (a provider id, an account), or undefined when nothing is
 * close enough to be a typo: the same rule as for commands.
 */
export function suggestName(typed: string, names: Iterable<string>): string | undefined {
  return nearest(
    typed,
    [...names].map((id) => ({ id })),
  )?.id;
}

/** The usage error for a command that does not exist, with the suggestion when there is one. */
export function unknownCommand(typed: string, suggestion: string | undefined, bin: string): LatchkeyError {
  const shown = typed.replaceAll(':', ' ');
  // One sentence per line: what is wrong, then what to do (the suggestion, else the help).
  return new LatchkeyError({
    code: 'UNKNOWN_COMMAND',
    message: `"${shown}" is not a ${bin} command.`,
    action:
      suggestion === undefined
        ? `Run \`${bin} --help\` to see the commands.`
        : `Did you mean \`${suggestion}\`?`,
    exitCode: ExitCode.Usage,
  });
}
