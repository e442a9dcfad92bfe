import { describe, expect, it } from 'vitest';
import { closestCommand, suggestCommand, suggestName, unknownCommand } from './suggest.js';

const names = [
  { id: 'auth' },
  { id: 'auth:login' },
  { id: 'auth:logout' },
  { id: 'auth:status' },
  { id: 'auth:token' },
  { id: 'auth:switch' },
  { id: 'doctor' },
  { id: 'exec' },
  { id: 'autocomplete:create', hidden: true },
];

describe('suggestCommand', () => {
  it.each([
    ['auth:lgin', 'auth login'],
    ['atuh:login', 'auth login'],
    ['auth:stauts', 'auth status'],
    ['doctr', 'doctor'],
    ['auth:tokn', 'auth token'],
  ])('%s -> %s, with spaces', (typed, expected) => {
    expect(suggestCommand(typed, names)).toBe(expected);
  });

  it('suggests nothing when no command is near', () => {
    expect(suggestCommand('deploy:everything', names)).toBeUndefined();
    expect(suggestCommand('', names)).toBeUndefined();
  });

  it('never suggests a hidden command', () => {
    expect(suggestCommand('autocomplete:creat', names)).not.toBe('autocomplete create');
  });
});

describe('unknownCommand', () => {
  it('is a usage error (exit 2) in the spaced form with the suggestion', () => {
    const error = unknownCommand('auth:lgin', 'auth login', 'latchkey');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('"auth lgin" is not a latchkey command.');
    expect(error.action).toBe('Did you mean `auth login`?');
    expect(error.message).not.toContain(':');
  });

  it('says so plainly without a suggestion', () => {
    expect(unknownCommand('deploy', undefined, 'latchkey')).toMatchObject({
      message: '"deploy" is not a latchkey command.',
      action: 'Run `latchkey --help` to see the commands.',
    });
  });
});

describe('closestCommand', () => {
  const topics = new Set(['auth', 'auth:providers']);
  const all = [...names, { id: 'auth:providers' }, { id: 'auth:providers:add' }];

  it.each([
    ['auth:lgin:nanogpt', 'auth:lgin', 'auth login'],
    ['atuh:login', 'atuh:login', 'auth login'],
    ['auth:providers:ad:acme', 'auth:providers:ad', 'auth providers add'],
    ['doctr', 'doctr', 'doctor'],
    // A command without its topic, as other CLIs have it at the top (`doppler login`, `gh` habits).
    ['login', 'login', 'auth login'],
    ['login:nanogpt', 'login', 'auth login'],
    ['logout', 'logout', 'auth logout'],
    ['token', 'token', 'auth token'],
  ])('%s: typed %s, suggests %s', (id, typed, suggestion) => {
    expect(closestCommand(id, all, topics)).toEqual({ typed, suggestion });
  });

  it('without a suggestion the typed command ends at the first word that is not a topic', () => {
    expect(closestCommand('auth:frobnicate:nanogpt:extra', all, topics)).toEqual({
      typed: 'auth:frobnicate',
    });
    expect(closestCommand('deploy:everything:now', all, topics)).toEqual({ typed: 'deploy' });
  });
});

describe('suggestName', () => {
  it('the nearest provider id to a typo, or nothing when none is near', () => {
    const ids = ['kaneo', 'nanogpt', 'nanoterm', 'nanoctl'];
    expect(suggestName('nangpt', ids)).toBe('nanogpt');
    expect(suggestName('nanoterrm', ids)).toBe('nanoterm');
    expect(suggestName('github', ids)).toBeUndefined();
    expect(suggestName('nangpt', [])).toBeUndefined();
  });
});
