// `latchkey inject`: a template with `{{ latchkey://... }}` references in, the same text with the values out
// (stdout or a 0600 file written atomically). Every reference is resolved before a byte is written.
import { open, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LatchkeyError, usageError } from '@latchkey/errors';
import { writeFileAtomic } from '@latchkey/storage';
import { allStaticProviders, loadProviders } from '../providers/providers.js';
import { parseReference, resolveReferences, type ReferenceContext } from './references.js';
import type { Runtime } from '../runtime/ports.js';
import { readOnlyStore } from '../runtime/environment.js';
import { passphraseAsker } from '../runtime/runtime.js';
import { readBounded, type Input } from '../terminal/stdin.js';
import { tokenRefresher } from '../token/refresher.js';

/** The largest template read (stdin or `-i`): past it, reading stops and nothing is written. */
export const maxTemplateBytes = 1024 * 1024;
/** A reference longer than this inside `{{ }}` is not looked for (it keeps the scan linear). */
const maxReferenceChars = 1024;

/** One `{{ latchkey://... }}` in a template: the reference, where it starts and ends, and its line. */
export interface TemplateReference {
  ref: string;
  start: number;
  end: number;
  line: number;
}

// A reference in braces, or (second branch) an opening `{{ latchkey://` that is never closed.
const referencePattern = new RegExp(
  `\\{\\{[ \\t]*(latchkey://[^}\\s]{0,${maxReferenceChars}}?)[ \\t]*\\}\\}|\\{\\{[ \\t]*latchkey://`,
  'g',
);

/** Line numbers for increasing offsets, counting each newline once (linear in the template's length). */
function lineCounter(text: string): (index: number) => number {
  let line = 1;
  let next = text.indexOf('\n');
  return (index) => {
    while (next !== -1 && next < index) {
      line++;
      next = text.indexOf('\n', next + 1);
    }
    return line;
  };
}

/**
 * The references in a template, in order. `{{` and `}}` around them, spaces or tabs inside optional; other
 * `{{ ... }}` text is left alone. An opening `{{ latchkey://` without its `}}` on the same line (or with
 * spaces inside the reference) is a usage error naming the line. Each reference is parsed (malformed: exit 2).
 */
export function findReferences(template: string, source = 'the template'): TemplateReference[] {
  const found: TemplateReference[] = [];
  const lineAt = lineCounter(template);
  for (const match of template.matchAll(referencePattern)) {
    const line = lineAt(match.index);
    if (match[1] === undefined) {
      const rest = template.slice(match.index, template.indexOf('\n', match.index) >>> 0);
      throw usageError(
        `${source} line ${line}: a reference is not closed, or has a space in it: ${JSON.stringify(rest.slice(0, 80))}.`,
        'Write each reference as {{ latchkey://<provider>[/<account>][#field] }}, on one line, without spaces inside it.',
      );
    }
    const ref = match[1];
    try {
      parseReference(ref);
    } catch (error) {
      throw withPlace(`${source} line ${line}`, error);
    }
    found.push({ ref, start: match.index, end: match.index + match[0].length, line });
  }
  return found;
}

function withPlace(place: string, error: unknown): unknown {
  if (!(error instanceof LatchkeyError)) return error;
  return new LatchkeyError({
    code: error.code,
    message: `${place}: ${error.message}`,
    ...(error.action !== undefined && { action: error.action }),
    exitCode: error.exitCode,
    cause: error,
  });
}

/** The template with each reference replaced by its value (`values` has one entry per reference, in order). */
export function renderTemplate(
  template: string,
  refs: readonly TemplateReference[],
  values: readonly string[],
): string {
  let out = '';
  let at = 0;
  refs.forEach((ref, i) => {
    out += template.slice(at, ref.start) + values[i]!;
    at = ref.end;
  });
  return out + template.slice(at);
}

/**
 * The filled-in template: every reference found and resolved (through `resolveReferences`: the account in
 * the reference or the usual order; errors name the line and the reference, never a value) before the
 * text is put together.
 */
export async function fillTemplate(
  template: string,
  ctx: ReferenceContext,
  source = 'the template',
): Promise<string> {
  const refs = findReferences(template, source);
  const values = await resolveReferences(
    refs.map(({ ref, line }) => ({ name: `${source} line ${line}`, ref })),
    ctx,
  );
  return renderTemplate(
    template,
    refs,
    values.map((v) => v.value),
  );
}

function tooLarge(what: string): LatchkeyError {
  return usageError(
    `${what} is larger than ${maxTemplateBytes / 1024 / 1024} MiB; latchkey stopped reading and wrote nothing.`,
    'Split the template into smaller files.',
  );
}

/** Standard input as text, at most `limit` bytes (past it: a usage error, and the pipe is closed). */
export async function readTemplateStream(input: Input, limit = maxTemplateBytes): Promise<string> {
  if (input.isTTY) {
    throw usageError(
      'latchkey inject reads the template from standard input, which is a terminal here.',
      'Pass the template with -i FILE, or pipe it in: latchkey inject < template.env.',
    );
  }
  return readBounded(input, limit, () => tooLarge('The template on standard input'));
}

/** A template file as text, at most `limit` bytes; a file that cannot be read is a usage error naming it. */
export async function readTemplateFile(file: string, limit = maxTemplateBytes): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw cannot('read the template', file, error);
  }
  try {
    const buffer = Buffer.alloc(limit + 1);
    let size = 0;
    // Bounded: each read adds at least a byte, and it stops at limit + 1.
    while (size <= limit) {
      const { bytesRead } = await handle.read(buffer, size, limit + 1 - size, size);
      if (bytesRead === 0) break;
      size += bytesRead;
    }
    if (size > limit) throw tooLarge(`The template ${JSON.stringify(file)}`);
    return buffer.subarray(0, size).toString('utf8');
  } catch (error) {
    if (error instanceof LatchkeyError) throw error;
    throw cannot('read the template', file, error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function cannot(what: string, file: string, error: unknown): LatchkeyError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'it does not exist'
      : code === 'EISDIR'
        ? 'it is a directory'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : (code ?? 'it failed');
  return usageError(`Cannot ${what} ${JSON.stringify(file)}: ${why}.`, 'Check the path and try again.');
}

/**
 * Writes the output file: mode 0600, atomically (a temp file renamed over it). Without `force` the name is
 * first claimed with an exclusive create, so an existing file is never replaced (exit 2), even by a race.
 */
export async function writeOutputFile(
  file: string,
  text: string,
  force: boolean,
  shown = file,
): Promise<void> {
  const target = resolve(file);
  if (!force) {
    let claim;
    try {
      claim = await open(target, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw usageError(
          `${JSON.stringify(shown)} already exists; latchkey inject wrote nothing.`,
          'Pass --force to replace it, or choose another -o FILE.',
        );
      }
      throw cannot('write', shown, error);
    }
    await claim.close();
    try {
      await writeFileAtomic(target, text);
    } catch (error) {
      await rm(target, { force: true }).catch(() => undefined);
      throw error;
    }
    return;
  }
  await writeFileAtomic(target, text);
}

export interface InjectRequest {
  /** `-i FILE`; else standard input. */
  input?: string | undefined;
  /** `-o FILE`; else standard output. */
  output?: string | undefined;
  force: boolean;
  cwd: string;
}

/** The providers and store references are resolved against, with no plugin code unless a reference needs it. */
export async function referenceContext(
  runtime: Runtime,
  ids: Iterable<string>,
  cwd: string,
): Promise<ReferenceContext> {
  const providers = await allStaticProviders(runtime.config, runtime.env);
  const missing = [...new Set(ids)].filter((id) => !providers.has(id));
  if (missing.length > 0) {
    // A plugin without a static manifest: ask its hook (slower, but no network and no login code).
    const found = (await loadProviders(runtime.config, runtime.env)).providers;
    for (const id of missing) {
      const entry = found.get(id);
      if (entry) providers.set(id, { manifest: entry.provider, plugin: entry.plugin });
    }
  }
  return {
    providers,
    env: runtime.env,
    store: readOnlyStore(runtime.env, {
      keychain: runtime.keychain,
      askPassphrase: passphraseAsker(runtime),
    }),
    cwd,
    refresher: tokenRefresher(runtime),
  };
}

/**
 * `latchkey inject`: reads the template, resolves every reference, then writes the result once to stdout
 * (raw: this is where a secret is meant to go) or to `-o FILE`. Any failure before that writes nothing.
 */
export async function runInject(
  runtime: Runtime,
  request: InjectRequest,
  stdin: Input = process.stdin,
): Promise<void> {
  const source = request.input === undefined ? 'stdin' : JSON.stringify(request.input);
  const template =
    request.input === undefined
      ? await readTemplateStream(stdin)
      : await readTemplateFile(resolve(request.cwd, request.input));
  const refs = findReferences(template, source);
  const ctx = await referenceContext(
    runtime,
    refs.map(({ ref }) => parseReference(ref).provider),
    request.cwd,
  );
  const text = await fillTemplate(template, ctx, source);
  if (request.output === undefined) {
    runtime.stdout.write(text);
    return;
  }
  await writeOutputFile(resolve(request.cwd, request.output), text, request.force, request.output);
}
