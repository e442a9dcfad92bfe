import { writeSync } from 'node:fs';
import { resolveStoragePreference } from '@latchkey/storage';
import { readProviders, type KnownProviders } from '../providers/installed-providers.js';
import { isCi, mayAskPassphrase } from '../runtime/environment.js';

/** A person at a terminal who could be asked (not CI). Touching process.stdin builds its stream (~7 ms). */
export function isInteractive(env: NodeJS.ProcessEnv): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY) && !isCi(env);
}

/**
 * For `auth token` and `exec`: the providers they know, or undefined when the full CLI must answer (a
 * passphrase may have to be asked: its prompter does). A bad LATCHKEY_STORAGE (exit 2 on every command,
 * also where nothing is stored) or providers.json throws, as in the full CLI.
 */
export async function fastProviders(env: NodeJS.ProcessEnv): Promise<KnownProviders | undefined> {
  resolveStoragePreference(undefined, env);
  return mayAskPassphrase(env, () => isInteractive(env)) ? undefined : readProviders(env);
}

/**
 * Writes `text` to `fd` (stdout) directly, for the fast paths: process.stdout would first build a stream
 * for it, which costs a few ms on a pipe. A non-blocking descriptor that is full (EAGAIN) gets the rest
 * through `fallback()` (process.stdout, which waits for room). Any other failure (EPIPE: the reader is
 * gone, also while the stream writes the rest) is exit 1. Resolves to the exit code once every byte is
 * written, so bin/run.cjs may leave at once.
 */
export async function printLine(
  text: string,
  fd = 1,
  fallback: () => NodeJS.WritableStream = () => process.stdout,
  write: typeof writeSync = writeSync,
): Promise<number> {
  const bytes = Buffer.from(text);
  let offset = 0;
  try {
    while (offset < bytes.length) offset += write(fd, bytes, offset);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') return 1;
    const failed = await new Promise((written) =>
      fallback().write(bytes.subarray(offset), (error) => written(error != null)),
    );
    return failed ? 1 : 0;
  }
  return 0;
}
