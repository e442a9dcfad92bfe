import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { page } from './pager.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

function output(isTTY: boolean, rows = 10) {
  let written = '';
  return { stdout: { isTTY, rows, write: (text: string) => void (written += text) }, written: () => written };
}

const tall = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n') + '\n';

describe('page', () => {
  it('not a terminal (a pipe, a file): the text as it is, no pager started', async () => {
    const out = output(false);
    await page(tall, out.stdout, { PAGER: 'exit 3' });
    expect(out.written()).toBe(tall);
  });

  it('a terminal and a page taller than it: through $PAGER, which gets the whole text', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-pager-'));
    dirs.push(dir);
    const out = output(true);
    await page(tall, out.stdout, { PATH: process.env.PATH, PAGER: `cat > '${join(dir, 'paged')}'` });
    expect(out.written()).toBe('');
    expect(await readFile(join(dir, 'paged'), 'utf8')).toBe(tall);
  });

  it('a page that fits, PAGER=cat or empty, or a pager that is not there: printed directly', async () => {
    for (const [text, env] of [
      ['short\n', { PAGER: 'exit 3' }],
      [tall, { PAGER: 'cat' }],
      [tall, { PAGER: '' }],
      [tall, { PATH: process.env.PATH, PAGER: 'latchkey-no-such-pager' }],
    ] as const) {
      const out = output(true);
      await page(text, out.stdout, env);
      expect(out.written()).toBe(text);
    }
  });
});
