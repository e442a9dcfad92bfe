import { Command, Flags } from '@oclif/core';
import { ExitCode, LatchkeyError, isLatchkeyError, toLatchkeyError } from '@latchkey/errors';
import { createRuntime, forTerminal, isDebug, jsonForTerminal, type Runtime } from './host/runtime.js';

/**
 * What every latchkey command shares: `--json`, Ctrl-C as a clean cancellation (exit 130), and one way to
 * render errors: message, action and docs on stderr, or the envelope on stdout with `--json`.
 */
/** `--json`: machine-readable result on stdout. */
export const jsonFlag = Flags.boolean({
  description: 'Print a machine-readable result on stdout; human text stays on stderr.',
});

export abstract class LatchkeyCommand extends Command {
  protected readonly abort = new AbortController();
  protected jsonMode = false;
  /** Errors from this command are printed on one line (for `auth token`, whose stderr scripts read). */
  protected compactErrors = false;
  #runtime: Runtime | undefined;

  protected get runtime(): Runtime {
    this.#runtime ??= createRuntime(this.config, this.abort.signal);
    return this.#runtime;
  }

  async init(): Promise<void> {
    const flags = (this.constructor as { flags?: Record<string, unknown> }).flags ?? {};
    this.jsonMode = 'json' in flags && this.argv.includes('--json');
    const onSignal = () => {
      this.abort.abort();
      // Give the flow a moment to unwind, then leave whatever it is doing.
      setTimeout(() => process.exit(ExitCode.Cancelled), 5000).unref();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await super.init();
  }

  /** JSON on stdout: every string sanitized (server text is data) and redacted (servers echo keys back). */
  protected printJson(value: unknown): void {
    process.stdout.write(`${jsonForTerminal(value)}\n`);
  }

  protected async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    const latchkeyError = fromOclif(error) ?? toLatchkeyError(error);
    if (this.jsonMode) {
      this.printJson({ error: latchkeyError.toEnvelope() });
    } else if (this.compactErrors) {
      process.stderr.write(
        `${forTerminal(`latchkey: ${latchkeyError.message}${latchkeyError.action ? ` ${latchkeyError.action}` : ''}`, true)}\n`,
      );
    } else {
      // Each field on its own line, whatever newlines a server put in it.
      const lines = [`latchkey: ${forTerminal(latchkeyError.message, true)}`];
      if (latchkeyError.action) lines.push(`  ${forTerminal(latchkeyError.action, true)}`);
      if (latchkeyError.docs) lines.push(`  Docs: ${forTerminal(latchkeyError.docs, true)}`);
      process.stderr.write(`${lines.join('\n')}\n`);
    }
    if (isDebug(process.env) && latchkeyError.code === 'INTERNAL_ERROR') {
      process.stderr.write(
        `${forTerminal(String((latchkeyError.cause as Error | undefined)?.stack ?? ''))}\n`,
      );
    }
    process.exitCode = latchkeyError.exitCode;
  }
}

/** oclif's own errors: a bad flag is a usage error (exit 2); `this.exit(n)` keeps its code. */
function fromOclif(
  error: Error & { exitCode?: number; oclif?: { exit?: number }; code?: unknown },
): LatchkeyError | undefined {
  if (isLatchkeyError(error)) return error;
  if (error.oclif?.exit === undefined) return undefined;
  if (error.name === 'ExitError' || error.code === 'EEXIT') {
    return new LatchkeyError({ code: 'EXIT', message: error.message, exitCode: error.oclif.exit as 0 });
  }
  const message = error.message.split('\n')[0] ?? error.message;
  return new LatchkeyError({
    code: 'USAGE',
    message,
    action: 'Run the command with --help to see its flags.',
    exitCode:
      error.oclif.exit === 2 || /flag|argument|Expected/i.test(error.message)
        ? ExitCode.Usage
        : ExitCode.Failure,
  });
}
