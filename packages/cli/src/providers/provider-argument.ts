import { Args } from '@oclif/core';
import { ExitCode, LatchkeyError } from '@latchkey/errors';

/** `latchkey auth login <id>`: the provider as the first argument, the same as `--provider <id>`. */
export const providerArg = Args.string({
  name: 'provider',
  description: 'Provider id, the same as --provider (see `latchkey auth providers`).',
  required: false,
  // Otherwise oclif reads piped stdin as the argument: `echo "$KEY" | … --with-token` would pass the key.
  ignoreStdin: true,
});

/** The provider from the argument or `--provider`; both given and different is a usage error (exit 2). */
export function providerArgument(
  positional: string | undefined,
  flag: string | undefined,
): string | undefined {
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw new LatchkeyError({
      code: 'USAGE',
      message: `Two providers were given: "${positional}" as the argument and "${flag}" with --provider.`,
      action: 'Give the provider once, either as the first argument or with --provider.',
      exitCode: ExitCode.Usage,
    });
  }
  return positional ?? flag;
}
