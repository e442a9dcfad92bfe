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

export interface BooleanFlagSpec {
  type: 'boolean';
  description: string;
  /** `--no-NAME` too. */
  allowNo?: boolean;
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
    allowNo: true,
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
 * argv (no `--` in it) read against `spec` with util.parseArgs: the flags and at most `maxPositionals`
 * positionals, or undefined for anything oclif should parse (and explain) itself.
 */
export function readFlags<S extends FlagSpecs>(
  spec: S,
  argv: string[],
  maxPositionals: number,
): { flags: FlagValues<S>; positionals: string[] } | undefined {
  type Option = { type: 'string' | 'boolean'; multiple: true; short?: string };
  const options: Record<string, Option> = {};
  for (const [name, flag] of Object.entries(spec)) {
    options[name] = {
      type: flag.type,
      multiple: true,
      ...(flag.type === 'string' && flag.char && { short: flag.char }),
    };
    if (flag.type === 'boolean' && flag.allowNo) options[`no-${name}`] = { type: 'boolean', multiple: true };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true, tokens: true });
  } catch {
    return undefined; // an unknown flag (--help too), a missing value, a value that looks like a flag
  }
  const { values, positionals, tokens } = parsed;
  if (tokens.some((t) => t.kind === 'option-terminator')) return undefined;
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
      const yes = (values[name] as boolean[] | undefined)?.length ?? 0;
      const no = (values[`no-${name}`] as boolean[] | undefined)?.length ?? 0;
      if (yes + no > 1) return undefined;
      flags[name] = yes > 0 ? true : no > 0 ? false : flag.default;
    }
  }
  return { flags: flags as FlagValues<S>, positionals };
}
