import { dirname, resolve } from 'node:path';
import { ExitCode, LatchkeyError } from '@latchkey/errors';
import type { IndexDocument } from './account-index.js';

/** Why an account is the one in use: `--account`, `LATCHKEY_<ID>_ACCOUNT`, a directory choice or the default. */
export type ChosenBy = 'flag' | 'env' | 'directory' | 'default';

export interface ChooseAccountOptions {
  /** `--account NAME`. */
  flag?: string;
  /** `LATCHKEY_<ID>_ACCOUNT` and its value. */
  envAccount?: { variable: string; value: string };
  /** Where the command runs: the nearest directory choice at or above it applies. */
  cwd: string;
}

export interface ChosenAccount {
  account: string;
  chosenBy: ChosenBy;
  /** The variable name (env) or the directory (directory). */
  detail?: string;
}

/**
 * Which of a provider's accounts applies: `--account`, else `LATCHKEY_<ID>_ACCOUNT`, else the choice recorded
 * for the deepest directory that is `cwd` or above it, else the default; undefined when none applies. Pure
 * (the index is already read), so the `auth token` fast path can use it. A named account may not exist:
 * the caller looks it up and reports `unknownAccount`.
 */
export function chooseAccount(
  index: Pick<IndexDocument, 'active' | 'directories'>,
  provider: string,
  options: ChooseAccountOptions,
): ChosenAccount | undefined {
  if (options.flag !== undefined && options.flag !== '') return { account: options.flag, chosenBy: 'flag' };
  const fromEnv = options.envAccount;
  if (fromEnv !== undefined && fromEnv.value !== '') {
    return { account: fromEnv.value, chosenBy: 'env', detail: fromEnv.variable };
  }
  const directories = index.directories ?? {};
  // dirname of a root is the root itself, so this walk ends after at most one step per path segment.
  for (let dir = resolve(options.cwd); ; dir = dirname(dir)) {
    const account = Object.hasOwn(directories, dir) ? directories[dir]?.[provider] : undefined;
    if (account !== undefined) return { account, chosenBy: 'directory', detail: dir };
    if (dirname(dir) === dir) break;
  }
  const fallback = Object.hasOwn(index.active, provider) ? index.active[provider] : undefined;
  return fallback === undefined ? undefined : { account: fallback, chosenBy: 'default' };
}

/** An account name with either ellipsis written as three dots (older labels used `…`). */
function plain(name: string): string {
  return name.replaceAll('\u2026', '...');
}

/**
 * The stored account a typed name means: the name itself; else the one name that is the same with either
 * ellipsis (`acme_...c906` or `acme_\u2026c906`); else, for 4 characters or more, the one name that ends
 * with it (`c906`, a key's last four). Undefined when none or more than one fits.
 */
export function matchAccount(requested: string, names: readonly string[]): string | undefined {
  if (names.includes(requested)) return requested;
  const wanted = plain(requested);
  const same = names.filter((name) => plain(name) === wanted);
  if (same.length === 1) return same[0];
  if (wanted.length < 4) return undefined;
  const ending = names.filter((name) => plain(name).endsWith(wanted));
  return ending.length === 1 ? ending[0] : undefined;
}

/**
 * ACCOUNT_NOT_FOUND (exit 4): an account was named (`--account`, `LATCHKEY_<ID>_ACCOUNT`, a directory choice,
 * `auth switch`) that is not stored. The action lists the names that are.
 */
export function unknownAccount(
  provider: string | undefined,
  name: string,
  existing: string[],
): LatchkeyError {
  const names = [...existing].sort();
  return new LatchkeyError({
    code: 'ACCOUNT_NOT_FOUND',
    message:
      provider === undefined
        ? `No account named '${name}' is stored for any provider.`
        : `No ${provider} account named '${name}' is stored.`,
    action:
      names.length > 0
        ? `Use one of: ${names.join(', ')} (\`latchkey auth status\` shows them).`
        : `No ${provider === undefined ? '' : `${provider} `}account is stored: sign in with \`latchkey auth login\` (\`latchkey auth status\` shows what is stored).`,
    exitCode: ExitCode.Auth,
    docs: 'accounts',
  });
}
