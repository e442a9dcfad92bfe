import { afterEach, describe, expect, it } from 'vitest';
import { forgetSecrets, registerSecret } from '@latchkey/errors';
import type { Config } from '@oclif/core';
import { forTerminal, jsonForTerminal } from './environment.js';
import { createRuntime } from './runtime.js';

afterEach(() => forgetSecrets());

describe('the output boundary', () => {
  it('human text: escape sequences and bidi controls go, words and newlines stay', () => {
    const out = forTerminal(
      '✓ Logged in as \x1b]0;pwned\x07Ada \x1b[31mLovelace\x1b[0m\u202e\n  next line\r',
    );
    expect(out).toBe('✓ Logged in as Ada Lovelace\n  next line');
  });

  it('one line: a server newline cannot start a fake line', () => {
    expect(forTerminal('latchkey: denied\n✓ Logged in', true)).toBe('latchkey: denied ✓ Logged in');
  });

  it('an escape sequence inside an echoed secret does not hide it from redaction', () => {
    registerSecret('nsv_0123456789abcdef');
    const out = forTerminal('server said: nsv_0123\x1b[0m456789abcdef');
    expect(out).not.toContain('0123456789abcdef');
  });

  it('--json: every string value is sanitized before encoding, so a parsed value is clean too', () => {
    registerSecret('nsv_0123456789abcdef');
    const text = jsonForTerminal({
      credentials: [
        { identity: { name: 'Ada\x1b]8;;https://evil\x1b\\x\x1b]8;;\x1b\\' }, note: 'nsv_0123456789abcdef' },
      ],
      error: { message: 'bad\x9b2J \u2066request\u2069', action: 'retry\x07' },
    });
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/\\u001b|\\u0007|\x1b|\x07|\x9b|\u2066|\u2069/);
    expect(JSON.parse(text)).toEqual({
      credentials: [{ identity: { name: 'Adax' }, note: '...cdef' }],
      error: { message: 'bad request', action: 'retry' },
    });
  });
});

describe('createRuntime from injected I/O', () => {
  const config = { version: '1.2.3' } as Config;
  function make(io: { stdinIsTty: boolean; stderrIsTty: boolean; env?: NodeJS.ProcessEnv }) {
    let out = '';
    let err = '';
    const runtime = createRuntime(config, new AbortController().signal, {
      env: io.env ?? {},
      platform: 'linux',
      stdinIsTty: io.stdinIsTty,
      stdout: { write: (text) => void (out += text), isTTY: false },
      stderr: { write: (text) => void (err += text), isTTY: io.stderrIsTty },
      prompter: { select: async () => '', password: async () => '' },
      browser: async () => false,
    });
    return { runtime, out: () => out, err: () => err };
  }

  const table: Array<
    [string, { stdinIsTty: boolean; stderrIsTty: boolean; env?: NodeJS.ProcessEnv }, boolean]
  > = [
    ['stdin and stderr are terminals', { stdinIsTty: true, stderrIsTty: true }, true],
    ['stdin is a pipe', { stdinIsTty: false, stderrIsTty: true }, false],
    ['stderr is a pipe', { stdinIsTty: true, stderrIsTty: false }, false],
    ['CI is set', { stdinIsTty: true, stderrIsTty: true, env: { CI: 'true' } }, false],
    ['CI=0 is not CI', { stdinIsTty: true, stderrIsTty: true, env: { CI: '0' } }, true],
  ];
  for (const [name, io, interactive] of table) {
    it(`interactive when ${name}: ${interactive}`, () =>
      expect(make(io).runtime.interactive).toBe(interactive));
  }

  it('say, warn and out write through the output boundary to the injected streams', () => {
    registerSecret('nsv_0123456789abcdef');
    const { runtime, out, err } = make({
      stdinIsTty: false,
      stderrIsTty: false,
      env: { LATCHKEY_DEBUG: '1' },
    });
    runtime.say('Hello \x1b[31mAda\x1b[0m');
    runtime.warn('key nsv_0123456789abcdef leaked');
    runtime.debug?.('GET /\x07');
    runtime.out('result\x1b]0;title\x07\n');
    expect(err()).toBe('Hello Ada\n! key ...cdef leaked\n[debug] GET /\n');
    expect(out()).toBe('result\n');
  });
});
