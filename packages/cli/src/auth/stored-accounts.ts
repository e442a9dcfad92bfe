// Choosing among stored accounts, the one way `auth logout` and `auth switch` do it: a provider that has
// stored accounts, then one of its accounts (named, else asked in a terminal, else a usage error).
import type { LatchkeyError } from '@latchkey/errors';
import type { Discovery, Provider } from '@latchkey/plugin-kit';
import { matchAccount, unknownAccount, type AccountRecord } from '@latchkey/storage';
import { chooseProvider, unknownProvider } from '../providers/providers.js';
import type { Runtime } from '../runtime/ports.js';

export type StoredRecord = AccountRecord & { active: boolean };

/** What a command says when it finds nothing to act on. */
export interface NothingStored {
  /** `--provider` names an installed provider without a stored account. */
  notStored: (provider: Provider) => LatchkeyError;
  /** No provider has a stored account. */
  none: () => LatchkeyError;
}

/**
 * The provider (of those with stored accounts) a command applies to: `requested`, else the only one, else a
 * question in a terminal, else a usage error listing them. An id nothing installed provides and nothing
 * stored names is an unknown provider (exit 2).
 */
export async function chooseStoredProvider(
  runtime: Runtime,
  records: readonly StoredRecord[],
  discovery: Discovery,
  requested: string | undefined,
  what: string,
  nothing: NothingStored,
): Promise<{ id: string; title: string }> {
  const withAccounts = new Map<string, { manifest: { id: string; title: string } }>();
  for (const record of records) {
    const title = discovery.providers.get(record.provider)?.provider.title ?? record.provider;
    withAccounts.set(record.provider, { manifest: { id: record.provider, title } });
  }
  if (requested !== undefined && !withAccounts.has(requested)) {
    const provider = discovery.providers.get(requested)?.provider;
    if (!provider) throw unknownProvider(requested, [...discovery.providers.keys()]);
    throw nothing.notStored(provider);
  }
  if (withAccounts.size === 0) throw nothing.none();
  const { manifest } = await chooseProvider(runtime, requested, withAccounts, [...withAccounts.keys()], what);
  return manifest;
}

/**
 * One stored account of `provider`: `named` (matched as `--account` is everywhere; not stored:
 * ACCOUNT_NOT_FOUND), else the only one when `onlyOne` allows, else a question in a terminal (the default
 * marked), else a usage error listing the names (never a guess).
 */
export async function chooseStoredAccount(
  runtime: Runtime,
  provider: { id: string; title: string },
  stored: readonly StoredRecord[],
  named: string | undefined,
  texts: { question: string; onlyOne: boolean; required: (names: string[]) => LatchkeyError },
): Promise<StoredRecord> {
  const names = stored.map((r) => r.account).sort();
  if (named !== undefined) {
    const name = matchAccount(named, names);
    const record = stored.find((r) => r.account === name);
    if (!record) throw unknownAccount(provider.title, named, names);
    return record;
  }
  if (texts.onlyOne && stored.length === 1) return stored[0]!;
  if (runtime.interactive) {
    const byName = [...stored].sort((a, b) => a.account.localeCompare(b.account));
    const account = await runtime.prompter.select(
      texts.question,
      byName.map((r) => ({ name: `${r.account}${r.active ? ' (default)' : ''}`, value: r.account })),
    );
    return stored.find((r) => r.account === account)!;
  }
  throw texts.required(names);
}
