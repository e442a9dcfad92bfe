import { afterEach, describe, expect, it } from 'vitest';
import { LatchkeyError, forgetSecrets, registerSecret, usageError } from '@latchkey/errors';
import {
  failureEnvelope,
  renderErrorText,
  renderJson,
  reportError,
  successEnvelope,
} from './render-error.js';

afterEach(() => forgetSecrets());

const rejected = new LatchkeyError({
  code: 'CREDENTIAL_REJECTED',
  message: 'NanoGPT rejected the API key.',
  action: 'Sign in again.',
  docs: 'accounts',
  exitCode: 4,
});

function capture() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    stdout: { write: (text: string) => void (out.stdout += text) },
    stderr: { write: (text: string) => void (out.stderr += text) },
  };
}

describe('the one error renderer', () => {
  it('people: message, action and the guide to read on their own lines; stdout untouched', () => {
    const io = capture();
    const code = reportError(rejected, { json: false, compact: false, warnings: [], env: {}, ...io });
    expect(code).toBe(4);
    expect(io.out).toEqual({
      stdout: '',
      stderr: 'latchkey: NanoGPT rejected the API key.\n  Sign in again.\n  See `latchkey help accounts`.\n',
    });
  });

  it("a server's docs address (not a guide) is shown as it is, cleaned", () => {
    const fromServer = new LatchkeyError({
      code: 'UNAUTHORIZED',
      message: 'The key was revoked.',
      docs: 'https://docs.example.com/errors/UNAUTHORIZED\x1b[2J',
    });
    expect(renderErrorText(fromServer, false)).toBe(
      'latchkey: The key was revoked.\n  Docs: https://docs.example.com/errors/UNAUTHORIZED\n',
    );
  });

  it('on a terminal the message line is red; the action and docs lines stay plain', () => {
    const io = capture();
    const red = (text: string) => `\x1b[31m${text}\x1b[39m`;
    reportError(rejected, { json: false, compact: false, warnings: [], env: {}, ...io, red });
    expect(io.out.stderr).toBe(
      '\x1b[31mlatchkey: NanoGPT rejected the API key.\x1b[39m\n  Sign in again.\n  See `latchkey help accounts`.\n',
    );
  });

  it('compact (the silent check of a login): one line, whatever newlines a server put in the message', () => {
    const error = usageError('bad\nline\x1b[31m', 'Do this.');
    expect(renderErrorText(error, true)).toBe('latchkey: bad line Do this.\n');
  });

  it('--json: one failure envelope on stdout, status = exit code, warnings kept, nothing on stderr', () => {
    const io = capture();
    const code = reportError(rejected, {
      json: true,
      compact: false,
      warnings: ['Provider id "x" is claimed twice'],
      env: {},
      ...io,
    });
    expect(code).toBe(4);
    expect(io.out.stderr).toBe('');
    expect(io.out.stdout.endsWith('}\n')).toBe(true);
    expect(JSON.parse(io.out.stdout)).toEqual({
      status: 4,
      error: {
        code: 'CREDENTIAL_REJECTED',
        message: 'NanoGPT rejected the API key.',
        action: 'Sign in again.',
        retryable: false,
        docs: 'accounts',
      },
      warnings: ['Provider id "x" is claimed twice'],
    });
  });

  it('envelopes go through the output boundary: controls removed, secrets redacted, in warnings too', () => {
    registerSecret('sk-test-0123456789abcdef');
    const text = renderJson(
      successEnvelope({ name: 'Ada\x1b]0;pwned\x07', echoed: 'sk-test-0123456789abcdef' }, 0, [
        'keychain said \x1b[2Jsk-test-0123456789abcdef',
      ]),
    );
    expect(text).not.toContain('0123456789abcdef');
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/\x1b|\x07|\\u001b|\\u0007/);
    const doc = JSON.parse(text) as { status: number; result: { name: string }; warnings: string[] };
    expect(doc.status).toBe(0);
    expect(doc.result.name).toBe('Ada');
    expect(doc.warnings).toHaveLength(1);
  });

  it('a failure envelope has no result and a success envelope no error', () => {
    expect(Object.keys(failureEnvelope(rejected, []))).toEqual(['status', 'error', 'warnings']);
    expect(Object.keys(successEnvelope({}, 0, []))).toEqual(['status', 'result', 'warnings']);
  });

  it("LATCHKEY_DEBUG=1 adds a bug's stack on stderr, never for an expected failure", () => {
    const bug = new LatchkeyError({
      code: 'INTERNAL_ERROR',
      message: 'Unexpected error: x',
      cause: new Error('x'),
    });
    const debug = capture();
    reportError(bug, { json: true, compact: false, warnings: [], env: { LATCHKEY_DEBUG: '1' }, ...debug });
    expect(debug.out.stderr).toContain('Error: x');
    const expected = capture();
    reportError(rejected, {
      json: false,
      compact: false,
      warnings: [],
      env: { LATCHKEY_DEBUG: '1' },
      ...expected,
    });
    expect(expected.out.stderr.split('\n')).toHaveLength(4);
  });
});
