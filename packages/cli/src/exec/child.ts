import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { isatty } from 'node:tty';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { maskingStream } from './mask.js';

/** The signals passed on to the child, as if it ran alone (SIGINT and SIGQUIT: see `terminalSentIt`). */
export const forwardedSignals = ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'] as const;

/** The keys a terminal turns into a signal for its whole foreground process group (Ctrl-C, Ctrl-\\). */
const terminalSignals: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGQUIT']);

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
  /**
   * Whether a SIGINT/SIGQUIT that reached latchkey also reached the child from the terminal (then it is not
   * passed on again); default `terminalSentIt`.
   */
  fromTerminal?: (childPid: number | undefined) => boolean;
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
  const fromTerminal = request.fromTerminal ?? terminalSentIt;
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // Ctrl-C in a terminal reaches every process of the foreground group, the child too: a second copy
    // would interrupt its clean-up. Then latchkey only keeps waiting for it.
    if (terminalSignals.has(signal) && fromTerminal(child.pid)) return;
    child.kill(signal);
  };
  for (const signal of forwardedSignals) request.signals.on(signal, forward);
  try {
    // The reader of latchkey's output is gone (`| head`): the child gets what a pipe would give it, SIGPIPE,
    // before its own end is closed (a socket's reset would reach it as "Connection reset by peer").
    const readerGone = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGPIPE');
    };
    const copies = masked
      ? [
          copy(child.stdout!, request.mask!, request.stdout, readerGone),
          copy(child.stderr!, request.mask!, request.stderr, readerGone),
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

/** The fields of /proc/<pid>/stat this needs: the process group, and the terminal's foreground group. */
function procStat(text: string): { pgrp: number; tpgid: number } | undefined {
  // "pid (comm) state ppid pgrp session tty_nr tpgid ..."; comm may hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const pgrp = Number(fields[2]);
  const tpgid = Number(fields[5]);
  return Number.isInteger(pgrp) && Number.isInteger(tpgid) ? { pgrp, tpgid } : undefined;
}

/**
 * Whether a SIGINT or SIGQUIT latchkey received was, as far as can be told, sent by its terminal to the
 * whole foreground process group, so that the child (in latchkey's group) got it too. Node cannot see a
 * signal's sender, so this asks where latchkey stands: on Linux, /proc says whether latchkey's process
 * group is its controlling terminal's foreground group and whether the child is still in that group (a
 * child that made a group of its own got nothing from the terminal). Without /proc (macOS), a terminal on
 * stdin or stderr counts as yes. The limit (docs/exec.md): `kill -INT <latchkey pid>` from elsewhere while
 * latchkey runs in the foreground of a terminal is not passed on; SIGTERM and SIGHUP always are.
 */
export function terminalSentIt(
  childPid: number | undefined,
  read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
  tty: (fd: number) => boolean = isatty,
): boolean {
  let own;
  try {
    own = procStat(read('/proc/self/stat'));
  } catch {
    return tty(0) || tty(2);
  }
  if (own === undefined || own.tpgid <= 0 || own.tpgid !== own.pgrp) return false;
  if (childPid === undefined) return true;
  try {
    return procStat(read(`/proc/${childPid}/stat`))?.pgrp === own.pgrp;
  } catch {
    return true; // the child is gone already: nothing to pass on either way
  }
}

/**
 * One output stream through the mask; a closed destination (`| head`) ends the copy, not latchkey. When the
 * destination's reader is gone (EPIPE), `readerGone` runs first, before the copy closes the child's end.
 */
async function copy(
  from: NodeJS.ReadableStream,
  secrets: string[],
  to: Writable,
  readerGone: () => void,
): Promise<void> {
  const onError = (error: NodeJS.ErrnoException) => {
    if (brokenPipeCodes.has(error.code ?? '')) readerGone();
  };
  // Added before pipeline's own listener, so it runs before pipeline destroys the source.
  to.on('error', onError);
  try {
    await pipeline(from, maskingStream(secrets), to, { end: false }).catch(() => undefined);
  } finally {
    to.off('error', onError);
  }
}

/** What a write gets when the reading end is gone: a pipe's EPIPE, or a socket's ECONNRESET. */
const brokenPipeCodes: ReadonlySet<string> = new Set(['EPIPE', 'ECONNRESET']);

function startFailure(error: unknown): ChildOutcome {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EISDIR') return { kind: 'not-executable', exitCode: 126 };
  if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'not-found', exitCode: 127 };
  throw error;
}
