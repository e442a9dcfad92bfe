import { describe, expect, it } from 'vitest';
import { ExitCode, isLatchkeyError } from '@latchkey/errors';
import { checkTokenInput, maxTokenBytes } from './token-input.js';

function failure(token: string, source = 'NANOGPT_API_KEY') {
  try {
    checkTokenInput(token, source);
  } catch (error) {
    if (isLatchkeyError(error)) return error;
    throw error;
  }
  throw new Error('expected the token to be refused');
}

describe('checkTokenInput', () => {
  it('accepts every printable ASCII token up to the limit', () => {
    expect(() => checkTokenInput('sk-nano-0b7c7d64-5d8e-4bb4-9f7e-2a1c3b4d5e6f', '--token')).not.toThrow();
    expect(() => checkTokenInput('!"#$%&()*+,-./0-9:;<=>?@A~', '--token')).not.toThrow();
    expect(() => checkTokenInput('a'.repeat(maxTokenBytes), '--token')).not.toThrow();
  });

  it('refuses a control character with a usage error naming the source, never the token', () => {
    const error = failure('nsv_secret\x01value');
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.code).toBe('USAGE');
    expect(error.message).toMatch(/^The token from NANOGPT_API_KEY contains a control character/);
    expect(`${error.message} ${error.action}`).not.toContain('secret');
  });

  it('refuses ESC, DEL, C1 and tab', () => {
    for (const bad of ['a\x1b[31m', 'a\x7f', 'a\x9b', 'a\tb']) {
      expect(failure(bad).message).toContain('a control character');
    }
  });

  it('refuses a space and non-ASCII characters', () => {
    expect(failure('abc def', 'standard input').message).toMatch(
      /^The token from standard input contains a space/,
    );
    expect(failure('abc\u202edef').message).toContain('not printable ASCII');
    expect(failure('ключ').message).toContain('not printable ASCII');
  });

  it('refuses anything over 8 KiB, before looking at its characters', () => {
    const error = failure('a'.repeat(maxTokenBytes + 1), '--token');
    expect(error.exitCode).toBe(ExitCode.Usage);
    expect(error.message).toMatch(/^The token from --token is longer than 8 KiB/);
    const huge = '\x01'.repeat(10_000_000);
    const started = performance.now();
    expect(failure(huge).message).toMatch(/longer than 8 KiB/);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
