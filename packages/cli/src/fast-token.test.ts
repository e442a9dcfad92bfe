import { describe, expect, it } from 'vitest';
import { handOver, parseProvider } from './fast-token.js';

describe('the fast path takes only the plain forms of `auth token` (util.parseArgs, strict)', () => {
  it.each([
    [[], undefined],
    [['--provider', 'nanogpt'], 'nanogpt'],
    [['-p', 'nanogpt'], 'nanogpt'],
    [['--provider=nanogpt'], 'nanogpt'],
  ])('%j asks for %s', (args, provider) => {
    expect(parseProvider(args)).toBe(provider);
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
    [['nanogpt']],
    [['--provider', 'nanogpt', 'extra']],
    [['--']],
    [['--provider', 'nanogpt', '--']],
    [['--no-provider']],
  ])('%j hands over to the full CLI', (args) => {
    expect(parseProvider(args)).toBe(handOver);
  });
});
