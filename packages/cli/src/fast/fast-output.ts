import { writeSync } from 'node:fs';

/**
 * Writes `text` to `fd` (stdout) directly, for the fast paths: process.stdout would first build a stream
 * for it, which costs a few ms on a pipe. A non-blocking descriptor that is full (EAGAIN) gets the rest
 * through `fallback()` (process.stdout, which waits for room). Any other failure (EPIPE: the reader is
 * gone) is exit 1, with nothing more written. Returns the exit code.
 */
export function printLine(
  text: string,
  fd = 1,
  fallback: () => NodeJS.WritableStream = () => process.stdout,
  write: typeof writeSync = writeSync,
): number {
  const bytes = Buffer.from(text);
  let offset = 0;
  try {
    while (offset < bytes.length) offset += write(fd, bytes, offset);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return 1;
    fallback().write(bytes.subarray(offset));
  }
  return 0;
}
