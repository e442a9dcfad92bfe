/**
 * The guides `latchkey help <topic>` prints: pages of docs/ turned into plain text at build time
 * (scripts/help-pages.mjs writes dist/help/<topic>.txt) and shipped in the package, so every pointer
 * latchkey prints ("see `latchkey help security`", an error's `docs` field) names something an installed
 * user has. Here: the topics, and wrapping a page to the terminal. Nothing here prints.
 */
export interface Guide {
  topic: string;
  /** The page of docs/ it is made from. */
  source: string;
  /** One line for the list of guides. */
  summary: string;
}

export const GUIDES: readonly Guide[] = [
  { topic: 'accounts', source: 'accounts.md', summary: 'several accounts per provider; which one is used' },
  { topic: 'exec', source: 'exec.md', summary: 'run a command with credentials: exec and inject' },
  { topic: 'security', source: 'security.md', summary: 'what latchkey protects against, and what not' },
  { topic: 'storage', source: 'storage.md', summary: 'where credentials are kept: keychain, file, pass' },
  { topic: 'oauth', source: 'providers/oauth.md', summary: 'any OAuth 2.0 server, added by configuration' },
  { topic: 'plugins', source: 'plugins.md', summary: 'install, link and write provider plugins' },
  { topic: 'environment', source: 'environment.md', summary: 'the environment variables latchkey reads' },
  { topic: 'exit-codes', source: 'exit-codes.md', summary: 'what each exit code means' },
  { topic: 'json', source: 'json.md', summary: 'the --json envelope of every command' },
];

export function findGuide(topic: string): Guide | undefined {
  return GUIDES.find((guide) => guide.topic === topic);
}

/** A pointer to a guide, as messages print it. */
export function seeGuide(topic: string): string {
  return `see \`latchkey help ${topic}\``;
}

/**
 * A page wrapped to `width` columns. The shipped text keeps each paragraph and list item on one line;
 * lines indented by 4 spaces or more (code, examples) are printed as they are, and a list item's
 * continuation lines line up after its marker.
 */
export function wrapGuide(text: string, width: number): string {
  const columns = Math.max(40, Math.min(width, 100));
  const out: string[] = [];
  for (const line of text.replace(/\s+$/, '').split('\n')) {
    if (line === '' || /^ {4}/.test(line) || line.length <= columns) {
      out.push(line);
      continue;
    }
    const marker = /^(\s*(?:[-*]|\d+\.)\s+|\s*)/.exec(line)![0];
    const hang = ' '.repeat(marker.length);
    let current = marker;
    let empty = true;
    for (const word of line.slice(marker.length).split(/ +/)) {
      if (!empty && current.length + 1 + word.length > columns) {
        out.push(current);
        current = hang;
        empty = true;
      }
      current += empty ? word : ` ${word}`;
      empty = false;
    }
    out.push(current);
  }
  return `${out.join('\n')}\n`;
}
