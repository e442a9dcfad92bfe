import { describe, expect, it } from 'vitest';
import { GUIDES, findGuide, seeGuide, wrapGuide } from './guides.js';

describe('the guides of latchkey help', () => {
  it('has the topics the messages point at, each from a page of docs/', () => {
    expect(GUIDES.map((guide) => guide.topic)).toEqual([
      'accounts',
      'exec',
      'security',
      'storage',
      'oauth',
      'plugins',
      'environment',
      'exit-codes',
      'json',
    ]);
    expect(findGuide('storage')?.source).toBe('storage.md');
    expect(findGuide('docs/storage.md')).toBeUndefined();
    expect(seeGuide('security')).toBe('see `latchkey help security`');
  });

  it('wraps paragraphs and list items to the width, list items with a hanging indent; code as it is', () => {
    const text = [
      'Title',
      '=====',
      '',
      'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen',
      '',
      '- alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho',
      '12. alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho',
      '    a code line that is much longer than forty columns and must stay exactly as it is',
    ].join('\n');
    expect(wrapGuide(text, 40)).toBe(
      [
        'Title',
        '=====',
        '',
        'one two three four five six seven eight',
        'nine ten eleven twelve thirteen fourteen',
        'fifteen',
        '',
        '- alpha beta gamma delta epsilon zeta',
        '  eta theta iota kappa lambda mu nu xi',
        '  omicron pi rho',
        '12. alpha beta gamma delta epsilon zeta',
        '    eta theta iota kappa lambda mu nu xi',
        '    omicron pi rho',
        '    a code line that is much longer than forty columns and must stay exactly as it is',
        '',
      ].join('\n'),
    );
  });

  it('keeps to 40..100 columns whatever the terminal says, and never splits a word', () => {
    const long = `${'word '.repeat(60)}${'x'.repeat(120)}`;
    const lines = wrapGuide(long, 500).trimEnd().split('\n');
    expect(Math.max(...lines.slice(0, -1).map((line) => line.length))).toBeLessThanOrEqual(100);
    expect(lines.at(-1)).toBe('x'.repeat(120));
    for (const line of wrapGuide(long, 10).trimEnd().split('\n').slice(0, -1))
      expect(line.length).toBeLessThanOrEqual(40);
  });
});
