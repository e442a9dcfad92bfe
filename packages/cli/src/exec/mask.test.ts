import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { CONCEALED, SecretMasker, maskingStream } from './mask.js';

/** Feeds `chunks` through a masker and returns everything it released, plus what each write released. */
function mask(secrets: string[], chunks: string[]): { out: string; perWrite: string[] } {
  const masker = new SecretMasker(secrets);
  const perWrite = chunks.map((c) => masker.write(Buffer.from(c)).toString());
  return { out: perWrite.join('') + masker.end().toString(), perWrite };
}

/** Every way of splitting `input` into two writes, and into 1-byte writes. */
function splits(input: string): string[][] {
  const ways = [[...input], [input]];
  for (let i = 1; i < input.length; i++) ways.push([input.slice(0, i), input.slice(i)]);
  for (let i = 1; i < input.length; i++)
    for (let j = i + 1; j < input.length; j++)
      ways.push([input.slice(0, i), input.slice(i, j), input.slice(j)]);
  return ways;
}

describe('SecretMasker', () => {
  const secret = 'sk-nano-0123456789abcdef';

  it('replaces a secret however the output is split (every split point, 1-byte writes)', () => {
    const input = `key=${secret}\nnext ${secret}!`;
    for (const chunks of splits(input)) {
      expect(mask([secret], chunks).out, JSON.stringify(chunks)).toBe(`key=${CONCEALED}\nnext ${CONCEALED}!`);
    }
  });

  it('holds back only a tail that could still start a secret, and releases the rest at once', () => {
    const { perWrite, out } = mask([secret], ['hello sk-na', 'x and more', ' sk-nano-01']);
    expect(perWrite).toEqual(['hello ', 'sk-nax and more', ' ']);
    // The stream ended mid-prefix: the held bytes are plain text, released at the end.
    expect(out).toBe('hello sk-nax and more sk-nano-01');
  });

  it('releases text with no possible secret start immediately', () => {
    expect(mask([secret], ['plain line\n']).perWrite).toEqual(['plain line\n']);
  });

  it('masks several secrets, each at every split', () => {
    const other = 'nt_zyxwvutsrq';
    const input = `a ${other} b ${secret} c ${other}`;
    for (const chunks of splits(input)) {
      expect(mask([secret, other], chunks).out).toBe(`a ${CONCEALED} b ${CONCEALED} c ${CONCEALED}`);
    }
  });

  it('overlapping secrets become one replacement, and no byte of either gets through', () => {
    // "abcdef" and "defghi" overlap in "def"; "cdefgh" sits inside their union.
    const secrets = ['abcdef', 'defghi', 'cdefgh'];
    for (const chunks of splits('x abcdefghi y')) {
      expect(mask(secrets, chunks).out, JSON.stringify(chunks)).toBe(`x ${CONCEALED} y`);
    }
  });

  it('overlapping occurrences of one secret (a repeated pattern) become one replacement', () => {
    for (const chunks of splits('[abab ababab]')) {
      expect(mask(['abab'], chunks).out, JSON.stringify(chunks)).toBe(`[${CONCEALED} ${CONCEALED}]`);
    }
  });

  it('a secret inside a longer one is covered by the longer one', () => {
    for (const chunks of splits('-xsecretx-secret-')) {
      expect(mask(['secret', 'xsecretx'], chunks).out).toBe(`-${CONCEALED}-${CONCEALED}-`);
    }
  });

  it('adjacent secrets each get a replacement', () => {
    expect(mask([secret], [`${secret}${secret}`]).out).toBe(`${CONCEALED}${CONCEALED}`);
  });

  it('masks multi-byte UTF-8 secrets split inside a character', () => {
    const utf = 'pässwörd-🔑-key';
    const bytes = Buffer.from(`<${utf}>`);
    const masker = new SecretMasker([utf]);
    const out = [...bytes].map((b) => masker.write(Buffer.from([b])));
    out.push(masker.end());
    expect(Buffer.concat(out).toString()).toBe(`<${CONCEALED}>`);
  });

  it('with no secrets (or only empty ones), passes bytes through untouched', () => {
    expect(mask([], ['abc', 'def']).perWrite).toEqual(['abc', 'def']);
    expect(mask([''], ['abc']).out).toBe('abc');
  });

  it('a secret that never completes is released as written, in order', () => {
    expect(mask([secret], ['sk-', 'nano-', '0123']).out).toBe('sk-nano-0123');
  });
});

describe('maskingStream', () => {
  it('is a Transform that masks across chunks and flushes the held tail when the input ends', async () => {
    const secret = 'tok_1234567890';
    const source = Readable.from([Buffer.from('a tok_12'), Buffer.from('34567890 b tok_1')]);
    expect(await text(source.pipe(maskingStream([secret])))).toBe(`a ${CONCEALED} b tok_1`);
  });
});
