import { describe, expect, it } from 'vitest';
import type { LatchkeyError } from '@latchkey/errors';
import { resolveLoginOptions } from './login-options.js';

const acme = {
  title: 'Acme',
  loginOptions: [
    { name: 'clientName', flag: 'client-name', description: 'the key name' },
    { name: 'audience', flag: 'audience', description: 'the API audience', env: 'ACME_AUDIENCE' },
  ],
};

function usage(run: () => unknown): { message: string; action: string | undefined; exitCode: number } {
  try {
    run();
  } catch (error) {
    const { message, action, exitCode } = error as LatchkeyError;
    return { message, action, exitCode };
  }
  throw new Error('expected a usage error');
}

describe('resolveLoginOptions', () => {
  it('takes a host flag and --option by the declared flag name, keyed by the declared name', () => {
    expect(
      resolveLoginOptions(
        acme,
        { flags: { 'client-name': 'ci', 'client-id': undefined }, option: ['audience=api://x=y'] },
        {},
      ),
    ).toEqual({ clientName: 'ci', audience: 'api://x=y' });
    expect(resolveLoginOptions(acme, { option: ['client-name=box'] }, {})).toEqual({ clientName: 'box' });
  });

  it("reads an option's declared variable when the command line does not give it", () => {
    expect(resolveLoginOptions(acme, {}, { ACME_AUDIENCE: ' api://env ' })).toEqual({
      audience: 'api://env',
    });
    expect(resolveLoginOptions(acme, { option: ['audience=cli'] }, { ACME_AUDIENCE: 'env' })).toEqual({
      audience: 'cli',
    });
    expect(resolveLoginOptions(acme, {}, { ACME_AUDIENCE: '' })).toEqual({});
  });

  it('refuses a flag the provider does not declare, as before (exit 2)', () => {
    expect(
      usage(() => resolveLoginOptions(acme, { flags: { 'client-name': undefined, 'client-id': 'x' } }, {})),
    ).toEqual({
      message: '--client-id does not apply to Acme.',
      action:
        'Leave out --client-id. Acme accepts --client-name <value> (the key name), --option audience=<value> (the API audience).',
      exitCode: 2,
    });
    expect(usage(() => resolveLoginOptions({ title: 'Bare' }, { option: ['x=1'] }, {}))).toEqual({
      message: '--option x does not apply to Bare.',
      action: 'Leave out --option x. Bare takes no login options.',
      exitCode: 2,
    });
  });

  it('refuses an --option without a value and an option given twice', () => {
    expect(usage(() => resolveLoginOptions(acme, { option: ['audience'] }, {})).message).toBe(
      '--option "audience" is not of the form name=value.',
    );
    expect(
      usage(() => resolveLoginOptions(acme, { flags: { 'client-name': 'a' }, option: ['client-name=b'] }, {}))
        .message,
    ).toBe('--option client-name and --client-name set the same option.');
  });
});
