import { Ansis } from 'ansis';

/**
 * Whether a stream gets colour: `NO_COLOR` (any value) turns it off, `FORCE_COLOR` turns it on (`0` or
 * `false` off), else only a terminal that is not `TERM=dumb` gets it. Pipes and `--json` stay plain bytes.
 */
export function colourWanted(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return isTTY && env.TERM !== 'dumb';
}

/** Colours for one stream (ansis, the library @oclif/core uses); identity functions when colour is off. */
export interface Colours {
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
}

export function colours(enabled: boolean): Colours {
  const ansis = new Ansis(enabled ? 1 : 0);
  return {
    green: (text) => ansis.green(text),
    yellow: (text) => ansis.yellow(text),
    red: (text) => ansis.red(text),
  };
}

/**
 * Colours the mark a line starts with (after its indent): ✓ green, ! and ? yellow, ✗ red. Applied after
 * the output boundary has stripped control characters, so only latchkey's own sequences reach the terminal.
 */
export function paintMarks(text: string, paint: Colours): string {
  return text.replace(/^( *)([✓✗!?])(?= )/gmu, (_all, indent: string, mark: string) => {
    const colour = mark === '✓' ? paint.green : mark === '✗' ? paint.red : paint.yellow;
    return `${indent}${colour(mark)}`;
  });
}
