/**
 * The host's I/O is injected: no flow (the feature folders: auth/, status/, token/, providers/, ...) prompts,
 * spawns or writes to the process's streams by itself. Only the boundaries do: io/ (the adapters), exec/
 * (it runs COMMAND), commands/, hooks/ and help.ts (oclif's entry points) and fast/ (what bin/run.cjs runs before
 * oclif). The adapters reach the flows through the Runtime, so the flows can be
 * tested with fakes. This test reads the source, so a new direct write fails here, not in review.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = dirname(dirname(fileURLToPath(import.meta.url)));

function sources(dir: string): string[] {
  return readdirSync(join(src, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => relative(src, join(entry.parentPath, entry.name)));
}

/** Each line of code (comments left out) that matches. */
function offending(files: string[], pattern: RegExp): string[] {
  const found: string[] = [];
  for (const file of files) {
    readFileSync(join(src, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/^\s*(\/\/|\*|\/\*)/.test(line)) return;
        if (pattern.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
      });
  }
  return found;
}

const inquirer = /['"]@inquirer\/prompts['"]/;
const childProcess = /['"](node:)?child_process['"]/;
const processStreams = /\bprocess\s*\.\s*(stdout|stderr)\b/;

describe('host I/O', () => {
  const host = sources('.').filter(
    (file) => !/^(io|fast|exec|commands|hooks|e2e|testing)\/|^help\.ts$/.test(file),
  ); // the flows

  it('finds the host sources (the test would pass vacuously otherwise)', () => {
    expect(host).toEqual(
      expect.arrayContaining([
        'auth/login.ts',
        'runtime/runtime.ts',
        'terminal/terminal-ui.ts',
        'status/status.ts',
      ]),
    );
  });

  it('no flow imports @inquirer/prompts', () => {
    expect(offending(host, inquirer)).toEqual([]);
  });

  it('no flow imports child_process', () => {
    expect(offending(host, childProcess)).toEqual([]);
  });

  it('no flow touches process.stdout or process.stderr', () => {
    expect(offending(host, processStreams)).toEqual([]);
  });

  it('the prompt library is loaded in one adapter, lazily (auth token never pays for it)', () => {
    const all = [...sources('.')];
    expect(offending(all, inquirer).map((line) => line.split(':')[0])).toEqual([
      'io/prompter.ts',
      'io/prompter.ts',
    ]);
    // Only `await import(...)`: a static import would load it with the runtime, on every command.
    expect(offending(all, /^\s*import\b.*['"]@inquirer\/prompts['"]/)).toEqual([]);
  });

  it("child processes are spawned in adapters: the browser, the clipboard tool, npm, the pager and `exec`'s command", () => {
    // e2e/ and testing/ are test support (they start servers and the binary), not the product.
    const product = sources('.').filter((file) => !/^(e2e|testing)\//.test(file));
    expect(offending(product, childProcess).map((line) => line.split(':')[0])).toEqual([
      'exec/child.ts',
      'io/browser.ts',
      'io/clipboard.ts',
      'io/npm.ts',
      'io/pager.ts',
    ]);
  });

  it('the patterns catch what they are meant to (so an empty result means something)', () => {
    const samples = [
      "import { select } from '@inquirer/prompts';",
      "const { spawn } = await import('node:child_process');",
      "import { spawn } from 'child_process';",
      'process.stderr.write(`\\r\\x1b[2K`);',
      'const out = process.stdout;',
    ];
    expect(samples.filter((s) => inquirer.test(s) || childProcess.test(s) || processStreams.test(s))).toEqual(
      samples,
    );
  });
});
