/**
 * The commands and flags completion knows, as plain data (complete.ts). Built from oclif's command metadata:
 * at build time from the manifests of @latchkey/cli and the plugins in its `oclif.plugins`
 * (scripts/bundle.mjs compiles them into the fast entry, as it does the bundled providers), and in the full
 * CLI from the running config, which knows user-installed plugins too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArgSpec, CommandSpec, FlagSpec } from './complete.js';

/** What oclif's manifest (and its loaded commands) say about a command, as far as completion reads it. */
export interface CommandMetadata {
  id: string;
  hidden?: boolean;
  aliases?: string[];
  summary?: string;
  description?: string;
  flags?: Record<
    string,
    {
      type?: string;
      char?: string;
      hidden?: boolean;
      multiple?: boolean;
      allowNo?: boolean;
      options?: readonly string[];
      summary?: string;
      description?: string;
    }
  >;
  args?: Record<string, { options?: readonly string[] }>;
}

/** A topic (`auth`, `plugins`): a word with commands below it. */
export interface TopicMetadata {
  name: string;
  description?: string;
  hidden?: boolean;
}

/** The first line, with oclif's `<%= config.bin %>` template filled in. */
const firstLine = (text: string | undefined) =>
  text?.split('\n', 1)[0]?.replaceAll('<%= config.bin %>', 'latchkey').trim() || undefined;

/**
 * The visible commands (aliases too) with their visible flags and arguments, ids with spaces, sorted; a
 * topic that is not a command itself is an entry without flags or arguments, for its description.
 */
export function commandTable(
  commands: Iterable<CommandMetadata>,
  topics: Iterable<TopicMetadata> = [],
): CommandSpec[] {
  const table = new Map<string, CommandSpec>();
  for (const c of commands) {
    if (c.hidden) continue;
    const flags: FlagSpec[] = Object.entries(c.flags ?? {})
      .filter(([, f]) => !f.hidden)
      .map(([name, f]) => {
        const summary = firstLine(f.summary ?? f.description);
        return {
          name,
          value: f.type === 'option',
          ...(f.char !== undefined && { char: f.char }),
          ...(f.multiple && { multiple: true }),
          ...(f.allowNo && { allowNo: true }),
          ...(f.options && { options: [...f.options] }),
          ...(summary !== undefined && { summary }),
        };
      });
    const args: ArgSpec[] = Object.entries(c.args ?? {}).map(([name, a]) => ({
      name,
      ...(a.options && { options: [...a.options] }),
    }));
    const summary = firstLine(c.summary ?? c.description);
    for (const id of [c.id, ...(c.aliases ?? [])]) {
      const spaced = id.replaceAll(':', ' ');
      if (!table.has(spaced)) table.set(spaced, { id: spaced, ...(summary && { summary }), flags, args });
    }
  }
  for (const t of topics) {
    const id = t.name.replaceAll(':', ' ');
    const summary = firstLine(t.description);
    if (!t.hidden && !table.has(id)) table.set(id, { id, ...(summary && { summary }), flags: [], args: [] });
  }
  return [...table.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** `<dir>/node_modules/<name>` in `from` or the nearest directory above that has one. */
function packageDir(name: string, from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const found = join(dir, 'node_modules', name);
    if (existsSync(join(found, 'package.json'))) return found;
    if (dirname(dir) === dir) throw new Error(`plugin ${name} not found from ${from}`);
  }
}

/**
 * The commands in the oclif manifests of @latchkey/cli at `cliRoot` and of its `oclif.plugins`, and the
 * topics their package.json files describe (build time).
 */
export function readManifestCommands(cliRoot: string): {
  commands: CommandMetadata[];
  topics: TopicMetadata[];
} {
  type Pjson = { oclif?: { plugins?: string[]; topics?: Record<string, { description?: string }> } };
  const read = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Pjson;
  const cli = read(cliRoot);
  const commands: CommandMetadata[] = [];
  const topics: TopicMetadata[] = [];
  for (const dir of [cliRoot, ...(cli.oclif?.plugins ?? []).map((name) => packageDir(name, cliRoot))]) {
    for (const [name, topic] of Object.entries(read(dir).oclif?.topics ?? {}))
      topics.push({ name, ...(topic.description !== undefined && { description: topic.description }) });
    const file = join(dir, 'oclif.manifest.json');
    if (!existsSync(file)) continue; // a plugin without commands (the provider plugins)
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { commands?: Record<string, CommandMetadata> };
    commands.push(...Object.values(manifest.commands ?? {}));
  }
  return { commands, topics };
}

let fromManifests: CommandSpec[] | undefined;

/**
 * The commands @latchkey/cli ships, read once from the manifests. In a bundle, scripts/bundle.mjs replaces
 * this whole module with one function returning the table it built at build time.
 */
export function bundledCommands(): CommandSpec[] {
  if (!fromManifests) {
    const { commands, topics } = readManifestCommands(
      join(dirname(fileURLToPath(import.meta.url)), '..', '..'),
    );
    fromManifests = commandTable(commands, topics);
  }
  return fromManifests;
}
