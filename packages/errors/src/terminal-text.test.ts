import { describe, expect, it } from 'vitest';
import { sanitizeJsonValue, sanitizeLine, sanitizeTerminalText } from './terminal-text.js';

// Nothing a terminal treats as control may survive: ESC, BEL, 8-bit CSI/OSC/ST, DEL, C1, bidi controls.
// eslint-disable-next-line no-control-regex
const control = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

describe('sanitizeTerminalText', () => {
  const cases: Array<[string, string, string]> = [
    ['CSI colour', 'Ada \x1b[31mLovelace\x1b[0m', 'Ada Lovelace'],
    ['CSI clear screen and cursor moves', '\x1b[2J\x1b[1;1HAda', 'Ada'],
    ['8-bit CSI', 'Ada\x9b2J Lovelace', 'Ada Lovelace'],
    ['OSC title, BEL-terminated', '\x1b]0;pwned\x07Ada', 'Ada'],
    ['OSC 8 hyperlink, ST-terminated', '\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\', 'click'],
    ['OSC 52 clipboard write', 'Ada\x1b]52;c;ZWNobyBwd25lZA==\x07', 'Ada'],
    ['8-bit OSC with 8-bit ST', 'Ada\x9d0;title\x9c Lovelace', 'Ada Lovelace'],
    ['DCS', '\x1bPq#0;2;0;0;0\x1b\\Ada', 'Ada'],
    ['unterminated OSC keeps its visible text', 'Ada\x1b]0;rest', 'Ada0;rest'],
    ['two-byte ESC sequences', '\x1bcAda\x1b7\x1b(B', 'Ada'],
    ['BEL, backspace, carriage return, DEL', 'Ad\x07a\x08\r\x7f', 'Ada'],
    ['C1 controls', 'A\x85d\x8da', 'Ada'],
    ['bidi overrides and isolates', '\u202eadA\u202c \u2066x\u2069 \u202a\u202b\u202d\u2067\u2068', 'adA x '],
    [
      'plain text and non-ASCII letters are kept',
      'Zoë Ørsted <zoe@example.com> ✓',
      'Zoë Ørsted <zoe@example.com> ✓',
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      const out = sanitizeTerminalText(input);
      expect(out).toBe(expected);
      expect(out).not.toMatch(control);
    });
  }

  it('keeps the newlines and tabs of multi-line output', () => {
    expect(sanitizeTerminalText('a\n\tb\r\n')).toBe('a\n\tb\n');
  });

  // Linear, not quadratic: 192 K characters take milliseconds (a quadratic scan would take many seconds), so
  // the bound is generous enough for a loaded machine and still catches a backtracking pattern.
  it('stays fast on a run of unterminated introducers', () => {
    const hostile = '\x9d'.repeat(1 << 17) + '\x1b]'.repeat(1 << 15);
    const started = performance.now();
    expect(sanitizeTerminalText(hostile)).toBe('');
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('sanitizeLine', () => {
  it('puts a value on one line', () => {
    expect(sanitizeLine('Ada\nLovelace\t\x1b[1m!')).toBe('Ada Lovelace !');
  });
});

describe('sanitizeJsonValue', () => {
  it('cleans every string, keys included, and applies the transform after cleaning', () => {
    const value = {
      credentials: [{ name: 'Ada\x1b]0;x\x07', n: 1, ok: true, none: null }],
      ['k\u202e']: 'sec\x1b[0mret',
    };
    expect(sanitizeJsonValue(value, (t) => t.replace('secret', '[redacted]'))).toEqual({
      credentials: [{ name: 'Ada', n: 1, ok: true, none: null }],
      k: '[redacted]',
    });
  });

  it('follows toJSON (URLs, dates)', () => {
    expect(sanitizeJsonValue({ at: new URL('http://127.0.0.1/a') })).toEqual({ at: 'http://127.0.0.1/a' });
  });
});
