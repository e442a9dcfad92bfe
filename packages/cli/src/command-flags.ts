/**
 * The flags of `auth token` and `exec`, defined once. The oclif commands turn them into oclif flags
 * (oclif-flags.ts); the fast paths (fast-token.ts, fast-exec.ts) read argv against the same definitions
 * with `util.parseArgs`, and hand anything it does not read plainly (help, an unknown flag, a flag given
 * twice, an empty value, `--`) to oclif, which parses it with its own messages.
 */
import { parseArgs } from 'node:util';

export interface StringFlagSpec {
  type: 'string';
  description: string;
  char?: 'p';
  multiple?: boolean;
}

/** A switch: `--NAME`, and `--no-NAME` too. */
export interface BooleanFlagSpec {
  type: 'boolean';
  description: string;
  default?: boolean;
}

export type FlagSpecs = Record<string, StringFlagSpec | BooleanFlagSpec>;

const provider = (description: string) => ({ type: 'string', char: 'p', description }) as const;

export const tokenFlags = {
  provider: provider('Provider id; may be left out when only one provider has a credential.'),
  account: {
    type: 'string',
    description:
      'The stored account to use (overrides environment credentials, LATCHKEY_<ID>_ACCOUNT, directory choices and the default).',
  },
} as const satisfies FlagSpecs;

export const execFlags = {
  provider: { ...provider("Set this provider's own variables (repeatable)."), multiple: true },
  account: { type: 'string', description: 'The stored account for the --provider variables.' },
  env: {
    type: 'string',
    multiple: true,
    description: 'NAME=latchkey://<provider>[/<account>][#base-url]: set NAME from a reference (repeatable).',
  },
  masking: {
    type: 'boolean',
    default: true,
    description: "Replace credentials in COMMAND's output; --no-masking gives it the terminal itself.",
  },
} as const satisfies FlagSpecs;

/** The values parsed for `S`, as oclif's parse gives them. */
export type FlagValues<S extends FlagSpecs> = {
  [K in keyof S]: S[K] extends BooleanFlagSpec
    ? S[K] extends { default: boolean }
      ? boolean
      : boolean | undefined
    : S[K] extends { multiple: true }
      ? string[] | undefined
      : string | undefined;
};

/**
 * argv read against `spec` with util.parseArgs: the flags and at most `maxPositionals` positionals, or
 * undefined for anything oclif should parse (and explain) itself (exec passes the words before its `--`).
 */
export function readFlags<S extends FlagSpecs>(
  spec: S,
  argv: string[],
  maxPositionals: number,
): { flags: FlagValues<S>; positionals: string[] } | undefined {
  if (argv.includes('--')) return undefined; // what follows `--` is oclif's to read
  const options = Object.fromEntries(
    Object.entries(spec).map(([name, flag]) => {
      const short = flag.type === 'string' ? flag.char : undefined;
      return [name, { type: flag.type, multiple: true as const, ...(short && { short }) }];
    }),
  );
  let parsed;
  try {
    // allowNegative (Node 22.4 and later) reads `--no-NAME` for a switch; an older Node hands it to oclif.
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true, allowNegative: true });
  } catch {
    return undefined; // an unknown flag (--help too), a missing value, a value that looks like a flag
  }
  const { values, positionals } = parsed;
  if (positionals.length > maxPositionals || positionals.some((p) => !p.trim())) return undefined;
  const flags: Record<string, string | string[] | boolean | undefined> = {};
  for (const [name, flag] of Object.entries(spec)) {
    if (flag.type === 'string') {
      const given = values[name] as string[] | undefined;
      if (given === undefined) continue;
      // Empty, or a value that looks like a flag (`--provider=-x`): oclif says what is wrong.
      if (given.some((value) => !value.trim() || value.startsWith('-'))) return undefined;
      if (!flag.multiple && given.length > 1) return undefined;
      flags[name] = flag.multiple ? given : given[0];
    } else {
      const given = (values[name] as boolean[] | undefined) ?? [];
      if (given.length > 1) return undefined;
      flags[name] = given[0] ?? flag.default;
    }
  }
  return { flags: flags as FlagValues<S>, positionals };
}
