import { describe, expect, it } from 'vitest';
import { bundledCommands, commandTable, type CommandMetadata } from './command-table.js';
import { completeLine, parseLine, type CommandSpec, type CompletionSources } from './complete.js';

/** A small tree in oclif's shape: a topic, a command that is also a topic, a provider argument, options. */
const metadata: CommandMetadata[] = [
  {
    id: 'auth:token',
    summary: 'Print the raw credential.',
    flags: {
      provider: { type: 'option', char: 'p', summary: 'Provider id.' },
      account: { type: 'option', description: 'The stored account.\nMore text.' },
      secret: { type: 'option', hidden: true },
    },
    args: { provider: {} },
  },
  {
    id: 'auth:migrate',
    flags: {
      to: { type: 'option', options: ['file', 'keychain'] },
      account: { type: 'option' },
      provider: { type: 'option', char: 'p' },
    },
  },
  { id: 'auth:providers', summary: 'List providers.', flags: { json: { type: 'boolean' } } },
  { id: 'auth:providers:add', flags: { 'base-url': { type: 'option' } }, args: { name: {} } },
  {
    id: 'exec',
    summary: 'Run a command.',
    flags: {
      provider: { type: 'option', char: 'p', multiple: true },
      masking: { type: 'boolean', allowNo: true },
    },
  },
  {
    id: 'inject',
    flags: { 'in-file': { type: 'option', char: 'i' }, json: { type: 'boolean' } },
  },
  {
    id: 'auth:switch',
    flags: { dir: { type: 'option' }, account: { type: 'option' } },
    args: { provider: {} },
  },
  {
    id: 'autocomplete',
    description: 'Completion for <%= config.bin %>.',
    args: { shell: { options: ['zsh', 'bash'] } },
  },
  { id: 'plugins:uninstall', aliases: ['plugins:remove'], summary: 'Remove a plugin.' },
  { id: 'secret:thing', hidden: true },
];
const table: CommandSpec[] = commandTable(metadata, [
  { name: 'auth', description: 'Sign in.' },
  { name: 'hidden-topic', hidden: true },
]);

const want = (words: string[]) => parseLine(table, words).want;

describe('commandTable', () => {
  it('has the visible commands and aliases with spaces, topics with their description, sorted', () => {
    expect(table.map((c) => c.id)).toEqual([
      'auth',
      'auth migrate',
      'auth providers',
      'auth providers add',
      'auth switch',
      'auth token',
      'autocomplete',
      'exec',
      'inject',
      'plugins remove',
      'plugins uninstall',
    ]);
    const token = table.find((c) => c.id === 'auth token')!;
    expect(token).toEqual({
      id: 'auth token',
      summary: 'Print the raw credential.',
      flags: [
        { name: 'provider', value: true, char: 'p', summary: 'Provider id.' },
        { name: 'account', value: true, summary: 'The stored account.' },
      ],
      args: [{ name: 'provider' }],
    });
    expect(table.find((c) => c.id === 'autocomplete')!.summary).toBe('Completion for latchkey.');
    expect(table.find((c) => c.id === 'auth')).toEqual({
      id: 'auth',
      summary: 'Sign in.',
      flags: [],
      args: [],
    });
  });

  it("the shipped table has every command's flags (built from the real manifests)", () => {
    const shipped = bundledCommands();
    const token = shipped.find((c) => c.id === 'auth token')!;
    expect(token.flags.map((f) => f.name)).toEqual(['provider', 'account']);
    expect(shipped.map((c) => c.id)).toEqual(
      expect.arrayContaining(['auth login', 'auth status', 'exec', 'plugins install', 'autocomplete']),
    );
    expect(shipped.some((c) => c.id.startsWith('__'))).toBe(false);
  });
});

describe('parseLine', () => {
  it('the top level, a topic and a command that is also a topic list what comes next', () => {
    expect(want([''])).toEqual({
      kind: 'words',
      words: [
        { word: 'auth', summary: 'Sign in.' },
        { word: 'autocomplete', summary: 'Completion for latchkey.' },
        { word: 'exec', summary: 'Run a command.' },
        { word: 'inject' },
        { word: 'plugins' },
      ],
    });
    expect(want(['auth', 'to'])).toMatchObject({
      kind: 'words',
      words: expect.arrayContaining([{ word: 'token', summary: 'Print the raw credential.' }]),
    });
    expect(want(['auth', 'providers', ''])).toEqual({ kind: 'words', words: [{ word: 'add' }] });
    expect(want([])).toEqual(want(['']));
  });

  it('flags after a positional and after other flags (where oclif stopped)', () => {
    const flags = { kind: 'words', words: [{ word: '--account', summary: 'The stored account.' }] };
    expect(want(['auth', 'token', 'nanogpt', '--'])).toEqual(flags);
    expect(want(['auth', 'token', '--provider', 'nanoterm', '--acc'])).toEqual(flags);
    expect(want(['auth', 'token', '-p', 'nanoterm', '--'])).toEqual(flags);
    expect(want(['auth', 'token', '-pnanoterm', '-'])).toEqual(flags);
    expect(want(['auth', 'token', '--provider=nanoterm', '--'])).toEqual(flags);
    expect(want(['auth', 'token', '--'])).toMatchObject({
      words: [{ word: '--provider' }, { word: '--account' }],
    });
  });

  it('a repeatable flag stays on offer; --no-NAME comes with a flag that has it', () => {
    expect(want(['exec', '-p', 'a', '--'])).toEqual({
      kind: 'words',
      words: [{ word: '--provider' }, { word: '--masking' }, { word: '--no-masking' }],
    });
    expect(want(['exec', '--no-masking', '--'])).toEqual({ kind: 'words', words: [{ word: '--provider' }] });
  });

  it("--provider's value and the provider argument are provider ids", () => {
    expect(want(['auth', 'token', '--provider', 'na'])).toEqual({ kind: 'providers' });
    expect(want(['auth', 'token', '-p', ''])).toEqual({ kind: 'providers' });
    expect(want(['auth', 'token', ''])).toEqual({ kind: 'providers' });
    expect(want(['auth', 'token', '--account', 'work', 'n'])).toEqual({ kind: 'providers' });
  });

  it("--account's value is an account of the provider chosen on the line, or of any", () => {
    expect(want(['auth', 'token', 'nanoterm', '--account', ''])).toEqual({
      kind: 'accounts',
      provider: 'nanoterm',
    });
    expect(want(['auth', 'token', '--provider', 'kaneo', '--account', 'w'])).toEqual({
      kind: 'accounts',
      provider: 'kaneo',
    });
    expect(want(['auth', 'token', '-p', 'kaneo', '--account', ''])).toEqual({
      kind: 'accounts',
      provider: 'kaneo',
    });
    expect(want(['auth', 'token', '--provider=kaneo', '--account', ''])).toEqual({
      kind: 'accounts',
      provider: 'kaneo',
    });
    // --provider wins over the argument (oclif refuses the two when they differ anyway).
    expect(want(['auth', 'token', 'a', '--provider', 'b', '--account', ''])).toEqual({
      kind: 'accounts',
      provider: 'b',
    });
    expect(want(['auth', 'token', '--account', ''])).toEqual({ kind: 'accounts', provider: undefined });
    // auth migrate has --provider but no provider argument: a positional there is not a provider.
    expect(want(['auth', 'migrate', 'x', '--account', ''])).toEqual({
      kind: 'accounts',
      provider: undefined,
    });
  });

  it('--flag=value in the word being typed completes the value and keeps the prefix', () => {
    expect(parseLine(table, ['auth', 'token', '--provider=na'])).toEqual({
      want: { kind: 'providers' },
      current: 'na',
      prefix: '--provider=',
    });
    expect(parseLine(table, ['auth', 'token', 'x', '--account='])).toEqual({
      want: { kind: 'accounts', provider: 'x' },
      current: '',
      prefix: '--account=',
    });
    // A switch or an unknown flag takes no value.
    expect(want(['auth', 'providers', '--json=x'])).toEqual({ kind: 'words', words: [] });
    expect(want(['auth', 'token', '--nope=x'])).toEqual({ kind: 'words', words: [] });
  });

  it('fixed values, paths and directories', () => {
    expect(want(['auth', 'migrate', '--to', ''])).toEqual({
      kind: 'words',
      words: [{ word: 'file' }, { word: 'keychain' }],
    });
    expect(want(['autocomplete', 'z'])).toEqual({
      kind: 'words',
      words: [{ word: 'zsh' }, { word: 'bash' }],
    });
    expect(want(['inject', '--in-file', ''])).toEqual({ kind: 'files' });
    expect(want(['inject', '-i', 'te'])).toEqual({ kind: 'files' });
    expect(want(['auth', 'switch', 'nanoterm', '--dir', ''])).toEqual({ kind: 'dirs' });
    expect(want(['exec', '-p', 'kaneo', '--', 'cu'])).toEqual({ kind: 'files' });
  });

  it('nothing for free text, a second argument, an unknown command or flag, a bare topic', () => {
    for (const words of [
      ['auth', 'providers', 'add', '--base-url', ''],
      ['auth', 'providers', 'add', ''],
      ['auth', 'token', 'nanogpt', ''],
      ['deploy', '--'],
      ['auth', 'nope', ''],
      ['auth', '--'],
      ['exec', ''],
    ]) {
      expect(want(words), words.join(' ')).toEqual({ kind: 'words', words: [] });
    }
    // An unknown flag is skipped; a lone `-` is an argument (stdin), not a flag.
    expect(want(['auth', 'token', '--nope', '--'])).toMatchObject({ kind: 'words' });
    expect(want(['auth', 'token', '-x', '--account', ''])).toEqual({ kind: 'accounts', provider: undefined });
    expect(want(['auth', 'token', '-', '--account', ''])).toEqual({ kind: 'accounts', provider: '-' });
  });
});

describe('completeLine', () => {
  const accounts = [
    { provider: 'nanogpt', account: 'sk-nano-...c906' },
    { provider: 'nanogpt', account: 'sk-nano-\u2026ab12' },
    { provider: 'nanoterm', account: 'work' },
    { provider: 'nanoterm', account: '$(touch x)' },
    { provider: 'nanoterm', account: 'has space' },
    { provider: 'nanoterm', account: 'bell\u0007' },
    { provider: 'kaneo', account: 'work' },
  ];
  const asked: Array<string | undefined> = [];
  const sources: CompletionSources = {
    providers: async () => [
      { id: 'nanoterm', title: 'Nano\u001b[31mTerm' },
      { id: 'nanogpt', title: 'NanoGPT' },
      { id: 'bad id', title: 'x' },
    ],
    accounts: async (provider) => {
      asked.push(provider);
      return accounts.filter((a) => provider === undefined || a.provider === provider);
    },
  };
  const complete = (words: string[]) => completeLine(table, words, sources);

  it('providers: sorted, with their titles, control characters gone', async () => {
    expect(await complete(['auth', 'token', 'nano'])).toEqual([
      ':words',
      'nanogpt\tNanoGPT',
      'nanoterm\tNanoTerm',
    ]);
  });

  it("accounts: the chosen provider's, read when asked, ASCII labels; names a shell would run or split left out", async () => {
    asked.length = 0;
    expect(await complete(['auth', 'token', 'nanogpt', '--account', ''])).toEqual([
      ':words',
      'sk-nano-...ab12',
      'sk-nano-...c906',
    ]);
    expect(await complete(['auth', 'token', '--provider', 'nanoterm', '--account', ''])).toEqual([
      ':words',
      'work',
    ]);
    expect(asked).toEqual(['nanogpt', 'nanoterm']);
  });

  it('accounts with no provider chosen: every label once, with its provider', async () => {
    expect(await complete(['auth', 'token', '--account', ''])).toEqual([
      ':words',
      'sk-nano-...ab12\tnanogpt',
      'sk-nano-...c906\tnanogpt',
      'work\tnanoterm',
    ]);
    expect(await complete(['auth', 'token', '--account', 'sk-nano-...c'])).toEqual([
      ':words',
      'sk-nano-...c906\tnanogpt',
    ]);
  });

  it("--flag=value words come back whole; paths and directories are the shell's", async () => {
    expect(await complete(['auth', 'token', '--provider=nanot'])).toEqual([
      ':words',
      '--provider=nanoterm\tNanoTerm',
    ]);
    expect(await complete(['inject', '--in-file', ''])).toEqual([':files']);
    expect(await complete(['auth', 'switch', '--dir', ''])).toEqual([':dirs']);
  });

  it('commands and flags with one-line descriptions, a long one shortened', async () => {
    const long = commandTable([{ id: 'x', summary: `${'word '.repeat(30)}\tend` }]);
    const [, line] = await completeLine(long, [''], sources);
    expect(line).toMatch(/^x\t(word ){15}wo\.\.\.$/);
    expect(line!.length).toBe('x\t'.length + 80);
    expect(await complete(['auth', 'token', 'x', '--'])).toEqual([
      ':words',
      '--account\tThe stored account.',
    ]);
  });
});
