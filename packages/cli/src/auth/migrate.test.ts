/** `auth migrate`'s lines per account: moved, already there, moved with its old copy kept, not moved. */
import { describe, expect, it } from 'vitest';
import { LatchkeyError } from '@latchkey/errors';
import { describeMigrated } from './migrate.js';

const base = { provider: 'nanogpt', account: 'work', from: 'file', to: 'passphrase' } as const;

describe('describeMigrated', () => {
  it('says what happened to each account, and what to do when something is left', () => {
    expect(describeMigrated({ ...base, status: 'moved' })).toEqual([
      "✓ Moved nanogpt account 'work' from the file backend to the passphrase file.",
    ]);
    expect(describeMigrated({ ...base, from: 'passphrase', status: 'already', leftoversRemoved: 1 })).toEqual(
      [
        "✓ nanogpt account 'work' is already in the passphrase file (removed 1 copy an interrupted move left behind).",
      ],
    );
    const io = new LatchkeyError({ code: 'STORAGE_IO', message: 'Could not write credentials.enc (EIO).' });
    expect(describeMigrated({ ...base, status: 'moved', oldCopyKept: io })[1]).toBe(
      '! Its old copy in the file backend could not be deleted (Could not write credentials.enc (EIO).); run the same migration again to remove it.',
    );
    const locked = new LatchkeyError({
      code: 'PASS_LOCKED',
      message: 'Your GPG key is locked.',
      action: 'Unlock it first.',
    });
    expect(describeMigrated({ ...base, to: 'pass', status: 'failed', error: locked })).toEqual([
      "✗ Could not move nanogpt account 'work' to the pass store; it stays in the file backend: Your GPG key is locked.",
      '  Unlock it first.',
    ]);
  });
});
