import { Command, Flags } from '@oclif/core';
import { ExitCode, LatchkeyError, isLatchkeyError, toLatchkeyError } from '@latchkey/errors';
import { resolveStoragePreference } from '@latchkey/storage';
import { colours } from './terminal/colour.js';
import type { Runtime } from './runtime/ports.js';
import { createRuntime } from './runtime/runtime.js';
import {
  failureEnvelope,
  renderJson,
  reportError,
  successEnvelope,
  type FailureEnvelope,
  type SuccessEnvelope,
} from './render-error.js';

/** `--json`: the envelope on stdout. Declared per command for its description; `enableJsonFlag` does the rest. */
export const jsonFlag = Flags.boolean({
  description: 'Print a machine-readable result on stdout; human text stays on stderr.',
});

/**
 * What every latchkey command shares: `--json` (oclif's `enableJsonFlag`: `run()` returns the result and
 * oclif prints it through `toSuccessJson`/`logJson`, here the one envelope of docs/json.md), Ctrl-C as a
 * clean cancellation (exit 130), warnings collected for the envelope, and one way to render errors
 * (render-error.ts, shared with the `auth token` fast path).
 */
export abstract class LatchkeyCommand extends Command {
  static enableJsonFlag = true;
  protected readonly abort = new AbortController();
  /** Errors from this command are printed on one line (for `auth token`, whose stderr scripts read). */
  protected compactErrors = false;
  /** Everything warned during the run, for the envelope's `warnings` (people see each on stderr too). */
  protected readonly warnings: string[] = [];
  #runtime: Runtime | undefined;

  protected get runtime(): Runtime {
    if (!this.#runtime) {
      const runtime = createRuntime(this.config, this.abort.signal);
      // `--json` runs are for programs: no colour on either stream, even in a terminal.
      if (this.jsonEnabled()) runtime.colours = { stdout: colours(false), stderr: colours(false) };
      const print = runtime.warn;
      runtime.warn = (message) => {
        this.warnings.push(message);
        print(message);
      };
      this.#runtime = runtime;
    }
    return this.#runtime;
  }

  /** Ctrl-C and SIGTERM cancel the command (exit 130); `exec` passes them on to its child instead. */
  protected cancelOnSignal = true;

  /**
   * A LATCHKEY_STORAGE that is not a storage latchkey knows is a usage error (exit 2) naming the valid
   * values, on every command (the fast paths check it too); `doctor` reports it as one of its findings.
   */
  protected checkStorageSetting = true;

  async init(): Promise<void> {
    if (this.checkStorageSetting) resolveStoragePreference(undefined, this.runtime.env);
    if (!this.cancelOnSignal) return super.init();
    const onSignal = () => {
      this.abort.abort();
      // Give the flow a moment to unwind, then leave whatever it is doing.
      setTimeout(() => process.exit(ExitCode.Cancelled), 5000).unref();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await super.init();
  }

  /** The success envelope; `status` is the exit code the command set (`auth status` sums up its rows). */
  protected toSuccessJson(result: unknown): SuccessEnvelope {
    return successEnvelope(result, Number(process.exitCode ?? 0), this.warnings);
  }

  protected toErrorJson(error: unknown): FailureEnvelope {
    return failureEnvelope(asLatchkeyError(error), this.warnings);
  }

  /** Every envelope goes through the output boundary: strings sanitized (server text is data) and redacted. */
  protected logJson(json: unknown): void {
    this.runtime.stdout.write(renderJson(json as SuccessEnvelope | FailureEnvelope));
  }

  protected async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    const runtime = this.runtime;
    process.exitCode = reportError(asLatchkeyError(error), {
      json: this.jsonEnabled(),
      compact: this.compactErrors,
      warnings: this.warnings,
      env: runtime.env,
      stdout: runtime.stdout,
      stderr: runtime.stderr,
      red: runtime.colours.stderr.red,
    });
  }
}

function asLatchkeyError(error: unknown): LatchkeyError {
  return fromOclif(error as Error) ?? toLatchkeyError(error);
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
