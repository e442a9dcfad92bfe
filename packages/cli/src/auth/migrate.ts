import type { ErrorEnvelope } from '@latchkey/errors';
import { backendName, type BackendName, type MigrateOutcome } from '@latchkey/storage';
import type { Runtime } from '../runtime/ports.js';
import { credentialStore } from '../runtime/runtime.js';

/** The backends an account can be moved to (`auto` is a preference, not a place). */
export const MIGRATE_TARGETS: readonly BackendName[] = ['keychain', 'file', 'passphrase', 'pass'];

export interface MigrateRequest {
  to: BackendName;
  provider?: string | undefined;
  account?: string | undefined;
}

/** One account, as `auth migrate` reports it (`--json`). */
export interface MigratedAccount {
  provider: string;
  account: string;
  from: BackendName;
  to: BackendName;
  status: MigrateOutcome['status'];
  leftoversRemoved?: number;
  /** Moved, but the old copy could not be deleted (why); the next run removes it. */
  oldCopyKept?: ErrorEnvelope;
  error?: ErrorEnvelope;
}

export interface MigrateResult {
  to: BackendName;
  accounts: MigratedAccount[];
}

/**
 * `auth migrate`: every matching account copied to `to`, read back, then removed from where it was (the
 * store does the steps under its lock; see `CredentialStore.migrate`). Each account is said as it is
 * done. The command exits 1 when one could not be moved (it stays where it was).
 */
export async function migrate(runtime: Runtime, request: MigrateRequest): Promise<MigrateResult> {
  const store = credentialStore(runtime);
  const outcomes = await store.migrate(
    request.to,
    {
      ...(request.provider !== undefined && { provider: request.provider }),
      ...(request.account !== undefined && { account: request.account }),
    },
    (outcome) => {
      for (const line of describeMigrated(outcome)) runtime.say(line);
    },
  );
  return {
    to: request.to,
    accounts: outcomes.map((o) => ({
      provider: o.provider,
      account: o.account,
      from: o.from,
      to: o.to,
      status: o.status,
      ...(o.leftoversRemoved ? { leftoversRemoved: o.leftoversRemoved } : {}),
      ...(o.oldCopyKept !== undefined && { oldCopyKept: o.oldCopyKept.toEnvelope() }),
      ...(o.error !== undefined && { error: o.error.toEnvelope() }),
    })),
  };
}

/** The lines for one account, for stderr. */
export function describeMigrated(o: MigrateOutcome): string[] {
  const who = `${o.provider} account '${o.account}'`;
  if (o.status === 'moved') {
    const lines = [`✓ Moved ${who} from ${backendName(o.from)} to ${backendName(o.to)}.`];
    if (o.oldCopyKept !== undefined) {
      lines.push(
        `! Its old copy in ${backendName(o.from)} could not be deleted (${o.oldCopyKept.message}); run the same migration again to remove it.`,
      );
    }
    return lines;
  }
  if (o.status === 'already') {
    const left = o.leftoversRemoved
      ? ` (removed ${o.leftoversRemoved} cop${o.leftoversRemoved === 1 ? 'y' : 'ies'} an interrupted move left behind)`
      : '';
    return [`✓ ${who} is already in ${backendName(o.to)}${left}.`];
  }
  const lines = [
    `✗ Could not move ${who} to ${backendName(o.to)}; it stays in ${backendName(o.from)}: ${o.error?.message ?? 'unknown error'}`,
  ];
  if (o.error?.action) lines.push(`  ${o.error.action}`);
  return lines;
}
