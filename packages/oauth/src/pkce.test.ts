import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redact } from '@latchkey/errors';
import { createPkce, createState, sameState } from './pkce.js';

describe('PKCE (RFC 7636)', () => {
  it('makes a 43-character base64url verifier and its S256 challenge, fresh each time', async () => {
    const first = await createPkce();
    const second = await createPkce();
    expect(first.method).toBe('S256');
    expect(first.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.challenge).toBe(createHash('sha256').update(first.verifier).digest('base64url'));
    expect(second.verifier).not.toBe(first.verifier);
    // The verifier never appears in anything latchkey prints.
    expect(redact(`verifier ${first.verifier}`)).not.toContain(first.verifier);
  });

  it('makes a fresh, unguessable state each time', () => {
    const states = new Set(Array.from({ length: 50 }, () => createState()));
    expect(states.size).toBe(50);
    for (const state of states) expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('compares states exactly: another value, a prefix, a longer one or none is not the same', () => {
    const state = createState();
    expect(sameState(state, state)).toBe(true);
    expect(sameState(state, `${state}`)).toBe(true);
    expect(sameState(state, state.slice(0, -1))).toBe(false);
    expect(sameState(state, `${state}x`)).toBe(false);
    expect(sameState(state, createState())).toBe(false);
    expect(sameState(state, '')).toBe(false);
    expect(sameState(state, null)).toBe(false);
    expect(sameState(state, undefined)).toBe(false);
  });
});
