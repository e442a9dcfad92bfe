// Writes dist/help/<topic>.txt for every guide of `latchkey help <topic>` (dist/help/guides.js lists them):
// the page of docs/ as plain text, parsed with marked's lexer. Headings are underlined, each paragraph and
// list item is one line (wrapped to the terminal when shown), code is indented by 4 spaces, a table is a
// list of its rows, and a link to another guide says `latchkey help <topic>` instead of a file name.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, resolve } from 'node:path';
import { Lexer } from 'marked';

const cliRoot = resolve(process.argv[2] ?? '.');
const docs = resolve(cliRoot, '..', '..', 'docs');
const { GUIDES } = await import(join(cliRoot, 'dist', 'help', 'guides.js'));
const bySource = new Map(GUIDES.map((guide) => [normalize(guide.source), guide.topic]));
// A page of the repository that is not a guide: its address on the project's site.
const { homepage } = JSON.parse(await readFile(join(cliRoot, 'package.json'), 'utf8'));
const repository = homepage.replace(/#.*$/, '');

/** marked leaves HTML entities of the source encoded in text tokens. */
const decode = (text) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');

function inline(tokens, page) {
  return (tokens ?? [])
    .map((token) => {
      switch (token.type) {
        case 'codespan':
          return `\`${decode(token.text)}\``;
        case 'strong':
        case 'em':
        case 'del':
          return inline(token.tokens, page);
        case 'link': {
          const text = inline(token.tokens, page);
          if (/^https?:/.test(token.href)) return text === token.href ? text : `${text} (${token.href})`;
          const [file] = token.href.split('#');
          if (!file) return text; // a section of this page
          const path = normalize(join(dirname(page), file));
          const topic = bySource.get(path);
          // A link whose text is only the file name becomes the command.
          const named = /^[\w./-]+\.md$/.test(text) || text === file;
          if (topic) return named ? `\`latchkey help ${topic}\`` : `${text} (\`latchkey help ${topic}\`)`;
          const address = `${repository}/blob/main/${normalize(join('docs', path))}`;
          return named ? address : `${text} (${address})`;
        }
        case 'image':
          return token.text;
        case 'br':
          return ' ';
        case 'html':
          return '';
        default:
          return token.tokens ? inline(token.tokens, page) : decode(token.text ?? token.raw ?? '');
      }
    })
    .join('')
    .replace(/\s*\n\s*/g, ' ');
}

function block(tokens, page, indent = '') {
  const out = [];
  for (const token of tokens) {
    switch (token.type) {
      case 'heading': {
        const text = inline(token.tokens, page);
        if (token.depth === 1) out.push(text, '='.repeat(text.length), '');
        else if (token.depth === 2) out.push(text, '-'.repeat(text.length), '');
        else out.push(text, '');
        break;
      }
      case 'paragraph':
      case 'text':
        out.push(`${indent}${inline(token.tokens ?? [token], page)}`);
        if (!indent) out.push('');
        break;
      case 'code':
        for (const line of token.text.split('\n')) out.push(line === '' ? '' : `${indent}    ${line}`);
        out.push('');
        break;
      case 'list':
        token.items.forEach((item, i) => {
          const marker = token.ordered ? `${Number(token.start || 1) + i}. ` : '- ';
          const [first, ...rest] = block(item.tokens, page, `${indent}${' '.repeat(marker.length)}`).filter(
            (line) => line !== '',
          );
          out.push(`${indent}${marker}${(first ?? '').trimStart()}`, ...rest);
        });
        if (!indent) out.push('');
        break;
      case 'table': {
        const headers = token.header.map((cell) => inline(cell.tokens, page));
        for (const row of token.rows) {
          const cells = row.map((cell) => inline(cell.tokens, page));
          const rest =
            cells.length === 2
              ? cells[1]
              : cells
                  .slice(1)
                  .map((cell, i) => `${headers[i + 1]}: ${cell}`)
                  .join('; ');
          out.push(`${indent}- ${cells[0]}: ${rest}`);
        }
        out.push('');
        break;
      }
      case 'blockquote':
        out.push(...block(token.tokens, page, indent));
        break;
      case 'hr':
      case 'space':
      case 'html':
        break;
      default:
        if (token.tokens) out.push(...block(token.tokens, page, indent));
    }
  }
  return out;
}

await mkdir(join(cliRoot, 'dist', 'help'), { recursive: true });
for (const guide of GUIDES) {
  const markdown = await readFile(join(docs, guide.source), 'utf8');
  const lines = block(Lexer.lex(markdown), guide.source);
  const text = `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
  await writeFile(join(cliRoot, 'dist', 'help', `${guide.topic}.txt`), text);
}
