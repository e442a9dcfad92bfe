import { describe, expect, it } from 'vitest';
import { handOver, parseTokenArgs } from './fast-token.js';

describe('the fast path takes only the plain forms of `auth token`', () => {
  it.each([
    [[], {}],
    [['--provider', 'nanogpt'], { provider: 'nanogpt' }],
    [['-p', 'nanogpt'], { provider: 'nanogpt' }],
    [['--provider=nanogpt'], { provider: 'nanogpt' }],
    [['--account', 'work'], { account: 'work' }],
    [['--account=alice@example.com'], { account: 'alice@example.com' }],
    [['-p', 'nanoterm', '--account', 'work'], { provider: 'nanoterm', account: 'work' }],
    [['--account=home', '--provider=nanoterm'], { provider: 'nanoterm', account: 'home' }],
    // The provider as the argument, like --provider (`auth token kaneo` stays on the fast path).
    [['kaneo'], { provider: 'kaneo' }],
    [['nanoterm', '--account', 'work'], { provider: 'nanoterm', account: 'work' }],
    [['--account', 'work', 'nanoterm'], { provider: 'nanoterm', account: 'work' }],
    [['nanogpt', '--provider', 'nanogpt'], { provider: 'nanogpt' }],
    [['toString'], { provider: 'toString' }],
  ])('%j asks for %j', (args, wanted) => {
    expect(parseTokenArgs(args)).toEqual(wanted);
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
    [['-pnanogpt']],
    [['-p=nanogpt']],
    [['--provider', 'a', '--provider', 'b']],
    [['--provider', 'a', '-p', 'b']],
    [['nanogpt', 'kaneo']],
    [['--provider', 'nanogpt', 'extra']],
    [['kaneo', '-p', 'nanogpt']],
    [[' ']],
    [['--']],
    [['--provider', 'nanogpt', '--']],
    [['--no-provider']],
    [['--account']],
    [['--account=']],
    [['--account', ' ']],
    [['--account', '--json']],
    [['--account', 'a', '--account', 'b']],
    [['--account', 'a', 'b', 'c']],
    [['-a', 'work']],
    [['--no-account']],
    [['--provider=-x']],
    [['--account=--json']],
    [['-']],
    [['']],
    [['--provider=nanogpt', '--provider=kaneo']],
    [['--Provider', 'nanogpt']],
    [['--providers', 'nanogpt']],
    [['-p', 'nanogpt', 'extra', 'more']],
    // Names of Object.prototype's members are words like any other, not options.
    [['toString', 'x']],
    [['constructor', 'nanogpt']],
    [['__proto__', 'nanogpt']],
  ])('%j hands over to the full CLI', (args) => {
    expect(parseTokenArgs(args)).toBe(handOver);
  });
});
