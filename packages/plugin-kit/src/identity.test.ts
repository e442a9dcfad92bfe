import { describe, expect, it } from 'vitest';
import { sanitizeIdentity } from './identity.js';

describe('sanitizeIdentity', () => {
  it('removes escape sequences, controls and bidi overrides from every field, keeping the words', () => {
    const identity = sanitizeIdentity({
      account: '\x1b[31malice\x1b[0m\u202e',
      name: 'Alice\x1b]8;;https://evil.example\x07 Smith',
      email: 'a@example.com\r\n',
      permission: 'full\x07',
      details: { 'Work\x07space': 'one\ttwo', empty: '\x1b[0m' },
    });
    expect(identity).toEqual({
      account: 'alice',
      name: 'Alice Smith',
      email: 'a@example.com',
      permission: 'full',
      details: { Workspace: 'one two', empty: '' },
    });
  });

  it('keeps a label when the server sent nothing printable, and caps long values at 256 characters', () => {
    expect(sanitizeIdentity({ account: '\x1b[2J' }).account).toBe('unnamed');
    expect(sanitizeIdentity({ account: 'x'.repeat(10_000) }).account).toHaveLength(256);
  });

  it('drops fields that are empty after cleaning and values that are not strings', () => {
    const identity = sanitizeIdentity({
      account: 'bob',
      name: '\x07',
      details: { n: 5 as unknown as string },
    });
    expect(identity).toEqual({ account: 'bob' });
  });
});
