import { afterEach, describe, expect, it } from 'vitest';
import { forgetSecrets, mask, redact, registerSecret } from './redact.js';
import { ExitCode, LatchkeyError, isLatchkeyError, toLatchkeyError } from './index.js';

afterEach(() => forgetSecrets());

describe('mask', () => {
  it('keeps the provider prefix and a few characters, never the whole key', () => {
    const key = 'sk-nano-0b7c7d64-5d8e-4bb4-9f7e-2a1c3b4d5e6f';
    expect(mask(key)).toBe('sk-nano-0b7c7d64...');
    expect(mask('nt_a1b2c3d4e5f6g7h8i9j0')).toBe('nt_a1b2c3d4...');
    expect(mask('short')).toBe('...');
  });
});

describe('redact', () => {
  it('removes registered secrets wherever they appear', () => {
    registerSecret('DEVICE-CODE-abcdef123456');
    expect(redact('polling with DEVICE-CODE-abcdef123456 failed')).not.toContain('DEVICE-CODE-abcdef123456');
  });

  it('removes token shapes even when nobody registered them', () => {
    const text =
      'sent Authorization: Bearer abc.def.ghi and sk-nano-0b7c7d64-5d8e-4bb4-9f7e-2a1c3b4d5e6f to /x?token=zzz';
    const out = redact(text);
    expect(out).not.toContain('abc.def.ghi');
    expect(out).not.toContain('0b7c7d64-5d8e');
    expect(out).not.toContain('zzz');
    expect(out).toContain('Authorization: Bearer [redacted]');
  });
});

describe('LatchkeyError', () => {
  it('carries the envelope and an exit code', () => {
    const error = new LatchkeyError({ code: 'X', message: 'm', action: 'a', exitCode: ExitCode.Auth });
    expect(error.toEnvelope()).toEqual({ code: 'X', message: 'm', action: 'a', retryable: false });
    expect(error.exitCode).toBe(4);
  });

  it('recognises errors from another copy of the package by shape', () => {
    const foreign = Object.assign(new Error('m'), { name: 'LatchkeyError', code: 'X', exitCode: 4 });
    expect(isLatchkeyError(foreign)).toBe(true);
    expect(toLatchkeyError(new Error('boom')).code).toBe('INTERNAL_ERROR');
  });
});
