import { describe, expect, it } from 'vitest';
import { execFlags, readFlags, tokenFlags } from './command-flags.js';
import { parseExecArgs } from './fast/fast-exec.js';

/** `auth token`'s argv as the fast path reads it: its provider (argument or flag) and account. */
function token(args: string[]) {
  const read = readFlags(tokenFlags, args, 1);
  return read && { ...read.flags, positionals: read.positionals };
}

describe("the fast paths read argv with util.parseArgs against the commands' own flag definitions", () => {
  it.each([
    [[], { positionals: [] }],
    [['--provider', 'nanogpt'], { provider: 'nanogpt', positionals: [] }],
    [['-p', 'nanogpt'], { provider: 'nanogpt', positionals: [] }],
    [['-pnanogpt'], { provider: 'nanogpt', positionals: [] }],
    [['--provider=nanogpt'], { provider: 'nanogpt', positionals: [] }],
    [['--account', 'work'], { account: 'work', positionals: [] }],
    [['--account=alice@example.com'], { account: 'alice@example.com', positionals: [] }],
    [['-p', 'nanoterm', '--account', 'work'], { provider: 'nanoterm', account: 'work', positionals: [] }],
    [['kaneo'], { positionals: ['kaneo'] }],
    [['--account', 'work', 'nanoterm'], { account: 'work', positionals: ['nanoterm'] }],
    [['toString'], { positionals: ['toString'] }],
  ])('auth token %j reads as %j', (args, wanted) => {
    expect(token(args)).toEqual(wanted);
  });

  it.each([
    [['--json']],
    [['--help']],
    [['-h']],
    [['--provider']],
    [['-p']],
    [['--provider=']],
    [['--provider', '']],
    [['--provider', '--json']],
    [['-p', '-x']],
    [['--provider', 'a', '--provider', 'b']],
    [['--provider', 'a', '-p', 'b']],
    [['nanogpt', 'kaneo']],
    [[' ']],
    [['--']],
    [['--provider', 'nanogpt', '--']],
    [['--no-provider']],
    [['--account=']],
    [['--account', ' ']],
    [['--account', 'a', '--account', 'b']],
    [['-a', 'work']],
    [['--provider=-x']],
    [['--account=--json']],
    [['--Provider', 'nanogpt']],
    [['constructor', 'nanogpt']],
    [['__proto__', 'nanogpt']],
  ])('auth token %j is left to oclif', (args) => {
    expect(token(args)).toBeUndefined();
  });

  it.each([
    [
      ['-p', 'a', '--provider', 'b', '--env', 'X=latchkey://a', '--', 'cmd', '--flag'],
      { providers: ['a', 'b'], env: ['X=latchkey://a'], masking: true, command: 'cmd', args: ['--flag'] },
    ],
    [
      ['--no-masking', '--account', 'w', '--', 'cmd'],
      { providers: [], account: 'w', env: [], masking: false },
    ],
    [['--masking', '--', 'cmd'], { masking: true }],
  ])('exec %j reads as %j', (args, wanted) => {
    expect(parseExecArgs(args)).toMatchObject(wanted);
  });

  it.each([
    [['-p', 'a']],
    [['-p', 'a', '--']],
    [['--help', '--', 'cmd']],
    [['--masking', '--no-masking', '--', 'cmd']],
    [['--masking=false', '--', 'cmd']],
    [['--no-masking', '--no-masking', '--', 'cmd']],
    [['--no-masking=1', '--', 'cmd']],
    [['--no-account', '--', 'cmd']],
    [['--no-env=X', '--', 'cmd']],
    [['--no-p', '--', 'cmd']],
    [['--account', 'a', '--account', 'b', '--', 'cmd']],
    [['stray', '--', 'cmd']],
    [['--env', '', '--', 'cmd']],
  ])('exec %j is left to oclif', (args) => {
    expect(parseExecArgs(args)).toBeUndefined();
  });

  it('defines each flag once for both: the oclif command reads the same definitions', async () => {
    const { default: AuthToken } = await import('./commands/auth/token.js');
    const { default: Exec } = await import('./commands/exec.js');
    expect(Object.keys(AuthToken.flags)).toEqual(Object.keys(tokenFlags));
    expect(AuthToken.flags.provider).toMatchObject({
      char: 'p',
      description: tokenFlags.provider.description,
    });
    expect(Object.keys(Exec.flags)).toEqual(Object.keys(execFlags));
    expect(Exec.flags.provider).toMatchObject({ char: 'p', multiple: true });
    expect(Exec.flags.masking).toMatchObject({ type: 'boolean', allowNo: true, default: true });
  });
});
