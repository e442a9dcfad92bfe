import { afterEach, describe, expect, it } from 'vitest';
import {
  accountLabel,
  forgetSecrets,
  mask,
  redact,
  registerSecret,
  registerSecretPrefixes,
} from './redact.js';
import { ExitCode, LatchkeyError, isLatchkeyError, toLatchkeyError } from './index.js';

afterEach(() => forgetSecrets());

describe('mask', () => {
  it('keeps a declared prefix and the last 4, as the account name does; never the whole key', () => {
    const key = 'acme_live_0b7c7d64-5d8e-4bb4-9f7e-2a1c3b4d5e6f';
    expect(mask(key)).toBe('...5e6f');
    registerSecretPrefixes(['acme_', 'acme_live_']);
    expect(mask(key)).toBe('acme_live_...5e6f');
    expect(mask(key)).toBe(accountLabel(key));
    expect(mask('acme_a1b2c3d4e5f6g7h8i9j0')).toBe('acme_...i9j0');
    expect(mask('acme_a1b2c3d4e5f6')).toBe('acme_...');
    expect(mask('short')).toBe('...');
  });
});

describe('accountLabel', () => {
  it.each([
    [
      'a declared prefix and the last 4',
      'sk-nano-0b7c7d64-5d8e-4bb4-9f7e-2a1c3b4da1b2',
      ['sk-nano-'],
      'sk-nano-...a1b2',
    ],
    ['the longest declared prefix', 'nt_live_abcdefghijklmnopwxyz', ['nt_', 'nt_live_'], 'nt_live_...wxyz'],
    ['no prefix known: the last 4 only', '0b7c7d64-5d8e-4bb4-9f7e-2a1c3b4d9z9z', [], '...9z9z'],
    ['a short secret: none of it', 'nt_live_abcdefgh', ['nt_live_'], 'nt_live_...'],
    ['a very short secret without prefix: none of it', 'abc123', [], '...'],
  ])('%s', (_, secret, declared, label) => {
    expect(accountLabel(secret, declared)).toBe(label);
    expect(redact(label, [secret])).toBe(label);
  });

  it('uses prefixes registered by providers', () => {
    registerSecretPrefixes(['lbl_test_']);
    expect(accountLabel('lbl_test_0123456789abcdefQRST')).toBe('lbl_test_...QRST');
  });
});

describe('redact', () => {
  it('removes registered secrets wherever they appear', () => {
    registerSecret('DEVICE-CODE-abcdef123456');
    expect(redact('polling with DEVICE-CODE-abcdef123456 failed')).not.toContain('DEVICE-CODE-abcdef123456');
  });

  it('removes generic token shapes even when nobody registered them', () => {
    const out = redact('sent Authorization: Bearer abc.def.ghi to /x?token=zzz and X-Api-Key: k123');
    expect(out).toBe(
      'sent Authorization: Bearer [redacted] to /x?token=[redacted] and X-Api-Key: [redacted]',
    );
  });

  it('removes tokens with a declared prefix once a provider declared it, and only then', () => {
    const text =
      'answer: {"key":"zz_test_0b7c7d645d8e4bb49f7e"} and zz_short and xzz_test_0b7c7d645d8e4bb49f7e';
    expect(redact(text)).toBe(text);
    registerSecretPrefixes(['zz_', 'zz_test_']);
    expect(redact(text)).toBe(
      'answer: {"key":"zz_test_...9f7e"} and zz_short and xzz_test_0b7c7d645d8e4bb49f7e',
    );
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
