import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { latchkeyRejection } from '@latchkey/testkit';
import { maxStdinBytes, readStdin } from './stdin.js';

describe('readStdin at its edges', () => {
  it('reads exactly 64 KiB, and refuses one byte more', async () => {
    const full = Buffer.alloc(maxStdinBytes, 0x61);
    expect(await readStdin(Readable.from([full.subarray(0, 1000), full.subarray(1000)]))).toHaveLength(
      maxStdinBytes,
    );
    const error = await latchkeyRejection(readStdin(Readable.from([full, Buffer.from('b')])));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('longer than 64 KiB');
  });

  it('decodes a UTF-8 character split across chunks, and strings as well as buffers', async () => {
    const euro = Buffer.from('tok€n\n');
    const split = [euro.subarray(0, 4), euro.subarray(4)]; // '€' is bytes 3..5
    expect(await readStdin(Readable.from(split))).toBe('tok€n\n');
    expect(await readStdin(Readable.from(['ab', 'c'], { objectMode: true }))).toBe('abc');
  });

  it('reads nothing from a terminal (the prompt asks instead)', async () => {
    const tty = Object.assign(Readable.from([Buffer.from('never read')]), { isTTY: true });
    expect(await readStdin(tty)).toBe('');
  });
});
