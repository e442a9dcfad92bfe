/**
 * `latchkey __complete WORD...`: what a shell offers at <TAB>. The shell scripts (scripts.ts) pass the words
 * after `latchkey`, the last one being the word under the cursor, and print what this returns. Pure: the
 * command table and the providers and accounts come in, lines go out, so every branch is a unit test.
 *
 * The first line is a directive: `:words` (the lines after it, `WORD<TAB>DESCRIPTION`), `:files` or `:dirs`
 * (the shell completes paths itself). Every word is one a shell takes as it is, every description one line
 * without control characters: stored account names and plugin titles are data, not terminal input.
 */
import { sanitizeLine } from '@latchkey/errors';

export interface FlagSpec {
  name: string;
  char?: string;
  /** Takes a value (`--provider ID`), else a switch. */
  value: boolean;
  multiple?: boolean;
  /** `--no-NAME` too. */
  allowNo?: boolean;
  /** The only values it takes. */
  options?: string[];
  summary?: string;
}

export interface ArgSpec {
  name: string;
  options?: string[];
}

export interface CommandSpec {
  /** With spaces: `auth token`. */
  id: string;
  summary?: string;
  flags: FlagSpec[];
  args: ArgSpec[];
}

/** What the word under the cursor should be. */
export type Want =
  | { kind: 'words'; words: Candidate[] }
  | { kind: 'providers' }
  | { kind: 'accounts'; provider: string | undefined }
  | { kind: 'files' }
  | { kind: 'dirs' };

export interface Candidate {
  word: string;
  summary?: string;
}

export interface Request {
  want: Want;
  /** The part of the current word being completed (after `--flag=`). */
  current: string;
  /** Put back before each word: `--provider=` when the value is typed in the same word. */
  prefix: string;
}

export interface CompletionSources {
  /** Provider ids and titles. */
  providers(): Promise<Array<{ id: string; title?: string }>>;
  /** Stored accounts, of one provider or (undefined) all. Never secrets. */
  accounts(provider: string | undefined): Promise<Array<{ provider: string; account: string }>>;
}

const nothing: Want = { kind: 'words', words: [] };

/** The flags whose values are paths, and the one that is a directory. */
const FILE_FLAGS = new Set(['in-file', 'out-file']);
const DIR_FLAGS = new Set(['dir']);

/** The completion request for `words` (after the program name; the last is under the cursor, maybe ''). */
export function parseLine(table: readonly CommandSpec[], words: readonly string[]): Request {
  const typed = words.slice(0, -1);
  const current = words.at(-1) ?? '';
  const plain = (want: Want): Request => ({ want, current, prefix: '' });

  // The command: the leading words that name a topic or command, as far as they go.
  const path: string[] = [];
  let i = 0;
  for (; i < typed.length; i += 1) {
    const next = [...path, typed[i]!].join(' ');
    if (typed[i]!.startsWith('-') || !table.some((c) => c.id === next || c.id.startsWith(`${next} `))) break;
    path.push(typed[i]!);
  }
  const id = path.join(' ');
  const command = table.find((c) => c.id === id);
  const below = subcommands(table, id);
  if (i === typed.length && !current.startsWith('-') && below.length > 0) {
    // `auth <TAB>`, `auth providers <TAB>`: what comes next in the tree.
    return plain({ kind: 'words', words: below });
  }
  if (!command) return plain(nothing);

  // Its flags and arguments so far.
  const given = new Set<string>();
  const positionals: string[] = [];
  let provider: string | undefined;
  let pending: FlagSpec | undefined;
  let rest = false;
  for (const word of typed.slice(i)) {
    if (pending) {
      if (pending.name === 'provider') provider = word;
      pending = undefined;
    } else if (rest || word === '-' || !word.startsWith('-')) {
      positionals.push(word);
    } else if (word === '--') {
      rest = true;
    } else {
      const { flag, value } = readFlag(command, word);
      if (!flag) continue;
      given.add(flag.name);
      if (flag.value && value === undefined) pending = flag;
      else if (flag.name === 'provider' && value !== undefined) provider = value;
    }
  }
  const argProvider = command.args[0]?.name === 'provider' ? positionals[0] : undefined;
  const chosen = provider ?? argProvider;
  // `auth token PROVIDER --<TAB>`: the provider is given, so --provider is not offered.
  if (argProvider !== undefined) given.add('provider');

  if (rest) return plain({ kind: 'files' }); // `exec -- <TAB>`: the command's own words
  if (pending) return plain(valuesOf(pending, chosen));
  if (current.startsWith('--') && current.includes('=')) {
    const split = current.indexOf('=');
    const { flag } = readFlag(command, current.slice(0, split));
    if (!flag?.value) return plain(nothing);
    return {
      want: valuesOf(flag, chosen),
      current: current.slice(split + 1),
      prefix: current.slice(0, split + 1),
    };
  }
  if (current.startsWith('-')) return plain({ kind: 'words', words: flagWords(command, given) });
  const arg = command.args[positionals.length];
  if (!arg) return plain(nothing);
  if (arg.name === 'provider') return plain({ kind: 'providers' });
  return plain({ kind: 'words', words: (arg.options ?? []).map((word) => ({ word })) });
}

/** The next words of the commands below `id` (the top level for ''), with a command's summary. */
function subcommands(table: readonly CommandSpec[], id: string): Candidate[] {
  const start = id === '' ? '' : `${id} `;
  const found = new Map<string, Candidate>();
  for (const c of table) {
    if (!c.id.startsWith(start)) continue;
    const word = c.id.slice(start.length).split(' ')[0]!;
    const exact = c.id === start + word;
    if (!found.has(word) || exact)
      found.set(word, { word, ...(exact && c.summary && { summary: c.summary }) });
  }
  return [...found.values()];
}

/** `--name`, `--name=value`, `--no-name`, `-p`, `-pVALUE`: the flag and its value when in the same word. */
function readFlag(command: CommandSpec, word: string): { flag?: FlagSpec; value?: string } {
  if (word.startsWith('--')) {
    const split = word.indexOf('=');
    const name = split === -1 ? word.slice(2) : word.slice(2, split);
    const value = split === -1 ? undefined : word.slice(split + 1);
    const flag =
      command.flags.find((f) => f.name === name) ??
      command.flags.find((f) => f.allowNo && `no-${f.name}` === name);
    return flag ? { flag, ...(value !== undefined && { value }) } : {};
  }
  const flag = command.flags.find((f) => f.char !== undefined && f.char === word[1]);
  if (!flag) return {};
  return word.length > 2 && flag.value ? { flag, value: word.slice(2) } : { flag };
}

/** The values a flag takes. */
function valuesOf(flag: FlagSpec, provider: string | undefined): Want {
  if (flag.name === 'provider') return { kind: 'providers' };
  if (flag.name === 'account') return { kind: 'accounts', provider };
  if (flag.options) return { kind: 'words', words: flag.options.map((word) => ({ word })) };
  if (FILE_FLAGS.has(flag.name)) return { kind: 'files' };
  if (DIR_FLAGS.has(flag.name)) return { kind: 'dirs' };
  return nothing;
}

/** The command's flags as `--name`, without those already given once (a repeatable flag stays). */
function flagWords(command: CommandSpec, given: ReadonlySet<string>): Candidate[] {
  const words: Candidate[] = [];
  for (const flag of command.flags) {
    if (given.has(flag.name) && !flag.multiple) continue;
    const summary = flag.summary ? { summary: flag.summary } : {};
    words.push({ word: `--${flag.name}`, ...summary });
    if (flag.allowNo) words.push({ word: `--no-${flag.name}`, ...summary });
  }
  return words;
}

/** A word a shell takes as it is: no quotes, spaces, `$`, `:` or `=` (which bash splits at). */
const plainWord = /^[\w@.+-]{1,128}$/;
/** A description is one short line. */
const SUMMARY_MAX = 80;

/**
 * The shell's answer to `words`: the directive, then `WORD<TAB>DESCRIPTION` lines for the candidates that
 * start with the current word, sorted, without repeats. Account names read with either ellipsis come as
 * `...` (which `--account` takes); a name a shell would split or run is left out.
 */
export async function completeLine(
  table: readonly CommandSpec[],
  words: readonly string[],
  sources: CompletionSources,
): Promise<string[]> {
  const { want, current, prefix } = parseLine(table, words);
  if (want.kind === 'files') return [':files'];
  if (want.kind === 'dirs') return [':dirs'];
  let candidates: Candidate[];
  if (want.kind === 'providers') {
    candidates = (await sources.providers()).map((p) => ({
      word: p.id,
      ...(p.title && { summary: p.title }),
    }));
  } else if (want.kind === 'accounts') {
    const accounts = await sources.accounts(want.provider);
    candidates = accounts.map((a) => ({
      word: a.account.replaceAll('\u2026', '...'),
      ...(want.provider === undefined && { summary: a.provider }),
    }));
  } else {
    candidates = want.words;
  }
  const lines = new Map<string, string>();
  for (const { word, summary } of candidates) {
    if (!plainWord.test(word) || !word.startsWith(current) || lines.has(word)) continue;
    const text = summary === undefined ? '' : sanitizeLine(summary).trim();
    const short = text.length > SUMMARY_MAX ? `${text.slice(0, SUMMARY_MAX - 3)}...` : text;
    lines.set(word, short === '' ? `${prefix}${word}` : `${prefix}${word}\t${short}`);
  }
  return [':words', ...[...lines.keys()].sort().map((word) => lines.get(word)!)];
}
