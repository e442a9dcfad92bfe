import { realpath, stat } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { usageError } from '@latchkey/errors';
import { latchkeyEnvName } from '@latchkey/plugin-kit/manifest';
import type { CredentialStore } from '@latchkey/storage';
import { envCredential, loadProviders, notSignedIn } from '../providers/providers.js';
import { chooseStoredAccount, chooseStoredProvider, type StoredRecord } from './stored-accounts.js';
import { cleanupStore } from './logout.js';
import type { Runtime } from '../runtime/ports.js';

export interface SwitchRequest {
  provider?: string;
  account?: string;
  /** `--dir [PATH]`: the directory tree the choice is for (relative to `cwd`); absent: the default. */
  dir?: string;
  /** With `dir`: remove that directory's choice instead of setting one. */
  unset: boolean;
  /** With `dir`: record the choice for a path that is not an existing directory. */
  force?: boolean;
  cwd: string;
}

export interface SwitchOutcome {
  provider: string;
  title: string;
  /** The account now chosen; absent after `--unset`. */
  account?: string;
  /** `default`: the provider's default account; `directory`: only in `directory` and below. */
  scope: 'default' | 'directory';
  directory?: string;
  /** With --unset: the account whose choice was removed (absent: there was none). */
  removed?: string;
  /** A variable set in this environment that wins over the choice here. */
  overriddenBy?: string;
}

/**
 * `auth switch`: sets the provider's default account, or with `dir` the account used in that directory
 * tree (recorded in the user's config, never in the directory), or with `unset` removes that choice.
 */
export async function switchAccount(runtime: Runtime, request: SwitchRequest): Promise<SwitchOutcome> {
  if (request.unset && request.dir === undefined) {
    throw usageError(
      '--unset removes a directory choice: it needs --dir.',
      'Run `latchkey auth switch --provider <id> --dir --unset` (or pick another default account).',
    );
  }
  if (request.unset && request.account !== undefined) {
    throw usageError('--unset and --account cannot be used together.', 'Leave out --account.');
  }
  const store = cleanupStore(runtime);
  const records = await store.list();
  const discovery = await loadProviders(runtime.config, runtime.env);
  request = providerGivenAsDir(request, discovery.providers);
  const manifest = await chooseStoredProvider(
    runtime,
    records,
    discovery,
    request.provider,
    'to switch accounts of',
    {
      notStored: (provider) =>
        notSignedIn({
          message: `No stored account for ${provider.title}: there is nothing to switch to.`,
          action: `Sign in first: \`latchkey auth login --provider ${provider.id}\`.`,
        }),
      none: () =>
        notSignedIn({
          message: 'No stored accounts: there is nothing to switch to.',
          action: 'Sign in first: `latchkey auth login --provider <id>` (see `latchkey auth providers`).',
        }),
    },
  );
  const stored = records.filter((r) => r.provider === manifest.id);
  const outcome: SwitchOutcome = { provider: manifest.id, title: manifest.title, scope: 'default' };
  const manifestOf = discovery.providers.get(manifest.id)?.provider;
  const overriding =
    (manifestOf && envCredential(manifestOf, runtime.env)?.variable) ??
    (runtime.env[latchkeyEnvName(manifest.id, 'ACCOUNT')]?.trim()
      ? latchkeyEnvName(manifest.id, 'ACCOUNT')
      : undefined);
  await applyChoice(runtime, store, manifest, stored, request, outcome);
  if (overriding !== undefined) {
    outcome.overriddenBy = overriding;
    runtime.warn(`${overriding} is set here and wins over this choice until you unset it.`);
  }
  return outcome;
}

async function applyChoice(
  runtime: Runtime,
  store: CredentialStore,
  manifest: { id: string; title: string },
  stored: StoredRecord[],
  request: SwitchRequest,
  outcome: SwitchOutcome,
): Promise<void> {
  if (request.dir !== undefined) {
    const directory = resolve(request.cwd, request.dir);
    outcome.scope = 'directory';
    if (request.unset) {
      const before = await store.directoryChoices(manifest.id);
      await store.setDirectoryChoice(manifest.id, directory, undefined);
      const real = await realDirectory(directory);
      outcome.directory = real;
      const removed = before.find((c) => c.dir === real)?.account;
      if (removed !== undefined) outcome.removed = removed;
      return;
    }
    await checkDirectory(directory, request.dir, request.force ?? false);
    const account = await pickAccount(runtime, manifest, stored, request.account);
    await store.setDirectoryChoice(manifest.id, directory, account);
    outcome.account = account;
    outcome.directory = await realDirectory(directory);
    return;
  }
  const account = await pickAccount(runtime, manifest, stored, request.account);
  await store.setDefault(manifest.id, account);
  outcome.account = account;
}

/** The account to switch to: `--account`, else a question in a terminal, else a usage error listing them. */
async function pickAccount(
  runtime: Runtime,
  provider: { id: string; title: string },
  stored: StoredRecord[],
  requested: string | undefined,
): Promise<string> {
  const record = await chooseStoredAccount(runtime, provider, stored, requested, {
    question: `Which ${provider.title} account?`,
    onlyOne: false,
    required: (names) =>
      usageError(
        `--account is required: there is no terminal to ask which ${provider.title} account.`,
        `Pass --account with one of: ${names.join(', ')}.`,
      ),
  });
  return record.account;
}

/**
 * `--dir acme` where no provider was given otherwise and `acme` is a provider id: the provider
 * (the first argument, as every auth command takes it) and `--dir` alone, the current directory. A
 * directory of that name is written `--dir ./acme`.
 */
export function providerGivenAsDir(
  request: SwitchRequest,
  providers: { has(id: string): boolean },
): SwitchRequest {
  if (request.provider !== undefined || request.dir === undefined || !providers.has(request.dir)) {
    return request;
  }
  return { ...request, provider: request.dir, dir: '.' };
}

/**
 * A directory choice is for a directory that exists (a typo would be stored and never match); `--force`
 * records it anyway (one about to be created). Usage error (exit 2) saying what to do.
 */
async function checkDirectory(directory: string, given: string, force: boolean): Promise<void> {
  if (force) return;
  const found = await stat(directory).catch((error: NodeJS.ErrnoException) => error);
  if (found instanceof Error) {
    if (found.code !== 'ENOENT' && found.code !== 'ENOTDIR') throw found;
    throw usageError(
      `--dir ${given}: there is no directory ${directory}.`,
      'Check the path (it is taken from the current directory), create the directory first, or pass --force to record the choice anyway.',
    );
  }
  if (!found.isDirectory()) {
    throw usageError(
      `--dir ${given}: ${directory} is a file, not a directory.`,
      `Name the directory the choice is for (\`--dir ${dirname(given) || '.'}\` for the one that holds it), or pass --force to record it anyway.`,
    );
  }
}

/** The directory as storage records it: resolved through symlinks when it exists. */
async function realDirectory(dir: string): Promise<string> {
  return realpath(dir).catch(() => dir);
}

/**
 * oclif flags cannot have an optional value, so `--dir` alone (at the end, or before another flag) is
 * rewritten to `--dir=.`: the current directory. `--dir PATH` and `--dir=PATH` are left as they are.
 */
export function withOptionalDirValue(argv: readonly string[]): string[] {
  return argv.map((arg, i) => {
    if (arg !== '--dir') return arg;
    const next = argv[i + 1];
    return next === undefined || next.startsWith('-') ? '--dir=.' : arg;
  });
}

/** A directory as people write it: `~/work/api` under the home directory. */
export function shownDirectory(dir: string, home: string | undefined): string {
  if (home && home !== '/' && (dir === home || dir.startsWith(`${home}${sep}`))) {
    return `~${dir.slice(home.length)}`;
  }
  return dir;
}

/** The human summary of `auth switch`, for stderr. */
export function describeSwitch(outcome: SwitchOutcome, home: string | undefined): string[] {
  const where = outcome.directory !== undefined ? shownDirectory(outcome.directory, home) : '';
  const lines: string[] = [];
  if (outcome.scope === 'default') {
    lines.push(`✓ ${outcome.account} is now the default ${outcome.title} account.`);
  } else if (outcome.account !== undefined) {
    lines.push(`✓ ${outcome.title} uses ${outcome.account} in ${where} and below.`);
    lines.push('  Recorded in your latchkey config, not in the directory.');
  } else if (outcome.removed !== undefined) {
    lines.push(`✓ Removed the ${outcome.title} account choice for ${where} (it was ${outcome.removed}).`);
  } else {
    lines.push(`✓ There was no ${outcome.title} account choice for ${where}; nothing changed.`);
  }
  return lines;
}
