// What `latchkey exec` does once its arguments are read: shared by the oclif command and the fast path.
import type { Writable } from 'node:stream';
import { isLatchkeyError, toLatchkeyError } from '@latchkey/errors';
import { runChild, type ChildOutcome } from './child.js';
import { execEnvironment, type ExecRequest } from './environment.js';
import { forTerminal, readOnlyStore } from '../runtime/environment.js';
import type { StaticProvider } from '../providers/provider-facts.js';
import { RefreshNeeded, type Refresher } from '../token/token-lookup.js';
import type { PassphraseAsker } from '@latchkey/storage';
import { reportText } from '../render-error.js';

export interface ExecArgs extends ExecRequest {
  masking: boolean;
  command: string;
  args: string[];
}

export interface ExecIo {
  env: NodeJS.ProcessEnv;
  /** Asks for the passphrase file's passphrase (the full CLI in a terminal); else only LATCHKEY_FILE_PASSPHRASE. */
  askPassphrase?: PassphraseAsker | undefined;
  cwd: string;
  stdout: Writable;
  stderr: Writable;
  /** The full CLI's refresh of a due token; without it (the fast path) such a run is handed over. */
  refresher?: Refresher;
}

/**
 * Resolves the environment, runs COMMAND and returns the exit code to leave with: COMMAND's own (128+N
 * for signal N), 127 when it is not found, 126 when it cannot be run, or latchkey's code when a reference
 * could not be resolved (COMMAND not started); undefined, before anything ran, when a stored token is due
 * and `io` has no `refresher` (the fast path hands over). Shared by the fast path
 * and the `exec` command.
 */
export async function runExec(
  request: ExecArgs,
  providers: Map<string, StaticProvider>,
  io: ExecIo,
): Promise<number | undefined> {
  let prepared;
  try {
    prepared = await execEnvironment(request, {
      providers,
      env: io.env,
      store: readOnlyStore(io.env, { askPassphrase: io.askPassphrase }),
      cwd: io.cwd,
      ...(io.refresher !== undefined && { refresher: io.refresher }),
    });
  } catch (error) {
    // A due token on the fast path: the full CLI refreshes it and runs it all again.
    if (error instanceof RefreshNeeded) return undefined;
    return report(error, io);
  }
  const outcome: ChildOutcome = await runChild({
    command: request.command,
    args: request.args,
    env: prepared.env,
    mask: request.masking ? prepared.secrets : undefined,
    stdout: io.stdout,
    stderr: io.stderr,
    signals: process,
  });
  if (outcome.kind === 'not-found') {
    io.stderr.write(`latchkey: ${forTerminal(request.command, true)} not found\n`);
    io.stderr.write('  Check the name, or give its path (PATH is searched).\n');
  } else if (outcome.kind === 'not-executable') {
    io.stderr.write(`latchkey: ${forTerminal(request.command, true)}: permission denied (not executable)\n`);
  }
  return outcome.exitCode;
}

export function report(error: unknown, io: ExecIo): number {
  return reportText(isLatchkeyError(error) ? error : toLatchkeyError(error), io);
}
