import { Flags } from '@oclif/core';
import type { BooleanFlag, OptionFlag } from '@oclif/core/interfaces';
import type { BooleanFlagSpec, FlagSpecs, FlagValues } from './command-flags.js';

type OclifFlags<S extends FlagSpecs> = {
  [K in keyof S]: S[K] extends BooleanFlagSpec ? BooleanFlag<FlagValues<S>[K]> : OptionFlag<FlagValues<S>[K]>;
};

/** The definitions of command-flags.ts as oclif flags: the command and its fast path read one list. */
export function oclifFlags<S extends FlagSpecs>(spec: S): OclifFlags<S> {
  const out: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(spec)) {
    out[name] =
      flag.type === 'boolean'
        ? Flags.boolean({
            description: flag.description,
            allowNo: true,
            ...(flag.default !== undefined && { default: flag.default }),
          })
        : flag.multiple
          ? Flags.string({ description: flag.description, char: flag.char, multiple: true })
          : Flags.string({ description: flag.description, char: flag.char });
  }
  return out as OclifFlags<S>;
}
