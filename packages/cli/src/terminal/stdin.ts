import { text } from 'node:stream/consumers';
import { usageError } from '@latchkey/errors';

/** More standard input than any token could be; reading stops here (a token itself is capped at 8 KiB). */
export const maxStdinBytes = 64 * 1024;

export type Input = NodeJS.ReadableStream & { isTTY?: boolean; destroy?: () => void };

/**
 * All of standard input, as text (for --with-token), reading at most `limit` bytes: past it, reading stops
 * and a usage error says so, so a huge or endless pipe cannot exhaust memory.
 */
export async function readStdin(input: Input = process.stdin, limit = maxStdinBytes): Promise<string> {
  if (input.isTTY) return '';
  return readBounded(input, limit, () =>
    usageError(
      `The token from standard input (--with-token) is longer than ${limit / 1024} KiB; latchkey stopped reading.`,
      'Pipe in the token itself, not a file or a whole response.',
    ),
  );
}

/**
 * A stream as text, at most `limit` bytes: past it the stream is closed and `tooLarge()` is thrown. The
 * one bounded reader of standard input (--with-token, inject's template).
 */
export async function readBounded(input: Input, limit: number, tooLarge: () => Error): Promise<string> {
  return text(upTo(input, limit, tooLarge));
}

/** The stream's chunks while they add up to at most `limit` bytes; past it the stream is closed. */
async function* upTo(input: Input, limit: number, tooLarge: () => Error): AsyncGenerator<Buffer> {
  let size = 0;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > limit) {
      // Leaving the loop stops reading; destroying the stream lets the process exit while a writer still writes.
      input.destroy?.();
      throw tooLarge();
    }
    yield bytes;
  }
}
