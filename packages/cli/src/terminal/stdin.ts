import { text } from 'node:stream/consumers';
import { cancelledError, usageError } from '@latchkey/errors';

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

/**
 * The first line of a stream (without its line break), at most `limit` bytes; EOF ends it too. `signal`
 * stops the reading (rejects with CANCELLED) and leaves the stream alone for the process to end. For
 * `auth login --web --paste` without a terminal: the address the browser ended on, piped in.
 */
export async function readLine(input: Input, signal: AbortSignal, limit = 16 * 1024): Promise<string> {
  if (signal.aborted) throw cancelledError();
  return new Promise<string>((resolve, reject) => {
    let seen = '';
    const done = (finish: () => void) => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onError);
      signal.removeEventListener('abort', onAbort);
      input.pause();
      finish();
    };
    const onData = (chunk: Buffer | string) => {
      seen += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      const end = seen.indexOf('\n');
      if (end >= 0) return done(() => resolve(seen.slice(0, end).replace(/\r$/, '')));
      if (Buffer.byteLength(seen) > limit) {
        done(() =>
          reject(
            usageError(
              `The line read from standard input is longer than ${limit / 1024} KiB.`,
              'Paste only the address the browser ended on.',
            ),
          ),
        );
      }
    };
    const onEnd = () => done(() => resolve(seen));
    const onError = (error: Error) => done(() => reject(error));
    const onAbort = () => done(() => reject(cancelledError()));
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    input.resume();
  });
}
