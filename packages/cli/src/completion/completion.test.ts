import type { Config } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import { addFlagOptions, bashValueCompletion, completionWordsFrom } from './completion.js';

const words = { providers: ['kaneo', 'nanogpt'], accounts: ['alice@example.com', 'work'] };

function fakeConfig(flags: Record<string, { type: string; options?: string[] }>) {
  const command = { id: 'auth:login', flags };
  return { config: { getPluginsList: () => [{ commands: [command] }] } as unknown as Config, command };
}

describe('addFlagOptions', () => {
  it('gives --provider and --account the installed ids and stored names', () => {
    const { config, command } = fakeConfig({
      provider: { type: 'option' },
      account: { type: 'option' },
      json: { type: 'boolean' },
    });
    addFlagOptions(config, words);
    expect(command.flags.provider!.options).toEqual(['kaneo', 'nanogpt']);
    expect(command.flags.account!.options).toEqual(['alice@example.com', 'work']);
    expect(command.flags.json!.options).toBeUndefined();
  });

  it('keeps options a flag declares itself, and adds none when there are no words', () => {
    const { config, command } = fakeConfig({
      provider: { type: 'option', options: ['fixed'] },
      account: { type: 'option' },
    });
    addFlagOptions(config, { providers: [], accounts: [] });
    expect(command.flags.provider!.options).toEqual(['fixed']);
    expect(command.flags.account!.options).toBeUndefined();
  });
});

describe('bashValueCompletion', () => {
  const generated = '_latchkey_autocomplete() { :; }\ncomplete -F _latchkey_autocomplete latchkey\n';

  it('adds a function with the values that falls back to the generated one, and registers it', () => {
    const script = bashValueCompletion(generated, 'latchkey', words);
    expect(script.startsWith(generated.trimEnd())).toBe(true);
    expect(script).toContain('local providers="kaneo nanogpt"');
    expect(script).toContain('local accounts="alice@example.com work"');
    expect(script).toContain('  _latchkey_autocomplete\n}');
    expect(script.endsWith('complete -F _latchkey_values latchkey\n')).toBe(true);
  });

  it('replaces its earlier addition instead of adding a second', () => {
    const once = bashValueCompletion(generated, 'latchkey', words);
    const twice = bashValueCompletion(once, 'latchkey', { providers: ['acme'], accounts: [] });
    expect(twice.match(/_latchkey_values\(\)/g)).toHaveLength(1);
    expect(twice).toContain('local providers="acme"');
    expect(twice).not.toContain('nanogpt');
  });
});

describe('completionWordsFrom', () => {
  it('sorts, drops repeats, and leaves out names a shell would run or split', () => {
    expect(
      completionWordsFrom(
        ['nanogpt', 'kaneo', 'nanogpt'],
        ['work', '$(touch /tmp/x)', 'a b', 'alice@example.com', '`id`', 'work', 'x"y'],
      ),
    ).toEqual({ providers: ['kaneo', 'nanogpt'], accounts: ['alice@example.com', 'work'] });
  });
});
