import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { maskingStream } from './mask.js';

/** The signals passed on to the child, as if it ran alone. */
export const forwardedSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface ChildRequest {
  command: string;
  args: string[];
  /** The child's whole environment (credentials only here, never on its command line). */
  env: NodeJS.ProcessEnv;
  /**
   * Values replaced in the child's stdout and stderr, which then go through pipes; undefined connects the
   * child straight to latchkey's own stdio (`--no-masking`: a terminal stays a terminal).
   */
  mask?: string[] | undefined;
  stdout: Writable;
  stderr: Writable;
  /** Where signals arrive (process); latchkey's own handlers are removed when the child ends. */
  signals: Pick<NodeJS.Process, 'on' | 'off'>;
}

/** How the child ended: its exit code (128+N when signal N ended it), or why it could not start. */
export type ChildOutcome =
  | { kind: 'exited'; exitCode: number }
  | { kind: 'not-found'; exitCode: 127 }
  | { kind: 'not-executable'; exitCode: 126 };

/** Runs the child to its end; prints nothing of its own. */
export async function runChild(request: ChildRequest): Promise<ChildOutcome> {
  const masked = request.mask !== undefined;
  let child: ChildProcess;
  try {
    child = spawn(request.command, request.args, {
      env: request.env,
      stdio: masked ? ['inherit', 'pipe', 'pipe'] : 'inherit',
    });
  } catch (error) {
    return startFailure(error);
  }
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of forwardedSignals) request.signals.on(signal, forward);
  try {
    const copies = masked
      ? [
          copy(child.stdout!, request.mask!, request.stdout),
          copy(child.stderr!, request.mask!, request.stderr),
        ]
      : [];
    const ended = new Promise<ChildOutcome>((resolve, reject) => {
      child.once('error', (error) => {
        try {
          resolve(startFailure(error));
        } catch (other) {
          reject(other as Error);
        }
      });
      child.once('exit', (code, signal) =>
        resolve({
          kind: 'exited',
          exitCode: signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 0),
        }),
      );
    });
    const outcome = await ended;
    await Promise.all(copies);
    return outcome;
  } finally {
    for (const signal of forwardedSignals) request.signals.off(signal, forward);
  }
}

/** One output stream through the mask; a closed destination (`| head`) ends the copy, not latchkey. */
async function copy(from: NodeJS.ReadableStream, secrets: string[], to: Writable): Promise<void> {
  await pipeline(from, maskingStream(secrets), to, { end: false }).catch(() => undefined);
}

function startFailure(error: unknown): ChildOutcome {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EISDIR') return { kind: 'not-executable', exitCode: 126 };
  if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'not-found', exitCode: 127 };
  throw error;
}
