import { usageError } from '@latchkey/errors';
import type { ProviderManifest } from '@latchkey/plugin-kit';

/** The login options as the command line gave them: the host's own flags, and each `--option flag=value`. */
export interface GivenLoginOptions {
  /** `--client-name`, `--client-id` and any other host flag named after a declared option's `flag`. */
  flags?: Record<string, string | undefined>;
  /** Each `--option flag=value`, as typed. */
  option?: string[];
}

/**
 * `ctx.options` for a login, built from the provider's `loginOptions` declarations only: a value from a
 * host flag or `--option flag=value`, else from the option's declared variable. An option the provider does
 * not declare is a usage error, as is one given twice or an `--option` without `=`.
 */
export function resolveLoginOptions(
  manifest: Pick<ProviderManifest, 'title' | 'loginOptions'>,
  given: GivenLoginOptions,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  const declared = manifest.loginOptions ?? [];
  const hostFlags = Object.keys(given.flags ?? {});
  const usage = (flag: string) =>
    hostFlags.includes(flag) ? `--${flag} <value>` : `--option ${flag}=<value>`;
  const accepted = declared.length
    ? `${manifest.title} accepts ${declared.map((o) => `${usage(o.flag)} (${o.description})`).join(', ')}.`
    : `${manifest.title} takes no login options.`;
  const values: Record<string, string> = {};
  const seen = new Map<string, string>();
  const take = (flag: string, shown: string, value: string) => {
    const option = declared.find((o) => o.flag === flag || o.name === flag);
    if (!option)
      throw usageError(`${shown} does not apply to ${manifest.title}.`, `Leave out ${shown}. ${accepted}`);
    const earlier = seen.get(option.name);
    if (earlier !== undefined)
      throw usageError(`${shown} and ${earlier} set the same option.`, `Pass --${option.flag} once.`);
    seen.set(option.name, shown);
    values[option.name] = value;
  };
  for (const [flag, value] of Object.entries(given.flags ?? {})) {
    if (value !== undefined) take(flag, `--${flag}`, value);
  }
  for (const pair of given.option ?? []) {
    const equals = pair.indexOf('=');
    if (equals <= 0)
      throw usageError(
        `--option ${JSON.stringify(pair)} is not of the form name=value.`,
        `Pass --option name=value. ${accepted}`,
      );
    take(pair.slice(0, equals), `--option ${pair.slice(0, equals)}`, pair.slice(equals + 1));
  }
  for (const option of declared) {
    const fromEnv = option.env === undefined ? undefined : env[option.env]?.trim();
    if (values[option.name] === undefined && fromEnv) values[option.name] = fromEnv;
  }
  return values;
}
