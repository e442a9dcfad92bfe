/**
 * What the standalone commands in this folder share: flag parsing that exits 2 with the usage on a bad flag
 * and 0 with it on `--help`, the one JSON line on stdout that scripts wait for, `[name]`-prefixed logging on
 * stderr, masking secrets in logged request targets, and stopping on SIGINT/SIGTERM.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

export interface StandaloneCommand {
  /** Prints the message and the usage on stderr and exits with code 2. */
  fail(message: string): never;
  /** Logs one line on stderr, prefixed with `[name]`. */
  log(message: string): void;
  /**
   * Parses the process's flags strictly (no positionals), with `-h`/`--help` added: help prints the usage and
   * exits 0; a bad flag fails.
   */
  parseFlags<const O extends ParseArgsOptionsConfig>(options: O): FlagValues<O>;
  /** An integer flag of at least `min`, or undefined when not given; fails otherwise. */
  numberFlag(name: string, value: string | undefined, min: number): number | undefined;
  /** A `--port` value from 0 to 65535, or undefined when not given; fails otherwise. */
  portFlag(value: string | undefined, options?: { rejectBlank?: boolean }): number | undefined;
  /** Writes the one JSON line on stdout that tells a script the command is ready. */
  printReady(line: Record<string, unknown>): void;
  /** On SIGINT or SIGTERM (the first one only): logs it, closes the server and exits 0. */
  stopOnSignals(close: () => Promise<void>): void;
}

type FlagValues<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>
>['values'];

/** `name` prefixes messages (`kaneo-server: ...`, `[kaneo-server] ...`); `usage` is shown on failure and help. */
export function standaloneCommand(name: string, usage: string): StandaloneCommand {
  function fail(message: string): never {
    console.error(`${name}: ${message}\n${usage}`);
    process.exit(2);
  }
  const log = (message: string) => console.error(`[${name}] ${message}`);

  return {
    fail,
    log,
    parseFlags<const O extends ParseArgsOptionsConfig>(options: O): FlagValues<O> {
      let values: FlagValues<O> & { help?: boolean };
      try {
        values = parseArgs({
          options: { ...options, help: { type: 'boolean', short: 'h' } },
          strict: true,
          allowPositionals: false,
        }).values as FlagValues<O> & { help?: boolean };
      } catch (error) {
        return fail(error instanceof Error ? error.message : String(error));
      }
      if (values.help) {
        console.log(usage);
        process.exit(0);
      }
      return values;
    },
    numberFlag(flag, value, min) {
      if (value === undefined) return undefined;
      const n = Number(value);
      if (!Number.isInteger(n) || n < min) fail(`--${flag} needs an integer >= ${min}, got "${value}"`);
      return n;
    },
    portFlag(value, { rejectBlank = false } = {}) {
      if (value === undefined) return undefined;
      const port = Number(value);
      if ((rejectBlank && value.trim() === '') || !Number.isInteger(port) || port < 0 || port > 65535)
        fail(`--port needs an integer from 0 to 65535, got "${value}"`);
      return port;
    },
    printReady(line) {
      process.stdout.write(`${JSON.stringify(line)}\n`);
    },
    stopOnSignals(close) {
      let stopping = false;
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.on(signal, () => {
          if (stopping) return;
          stopping = true;
          log(`${signal}: stopping`);
          void close().then(() => process.exit(0));
        });
      }
    },
  };
}

/**
 * The request target with the values of the named query parameters masked (decoded first, so an encoded
 * secret is masked like a plain one): a secret sent in a URL by mistake must not reach a log in clear.
 */
export function maskQueryParams(
  path: string,
  names: readonly string[],
  mask: (value: string) => string,
  { ignoreCase = false }: { ignoreCase?: boolean } = {},
): string {
  const pattern = new RegExp(`([?&](?:${names.join('|')})=)([^&#]*)`, ignoreCase ? 'gi' : 'g');
  return path.replace(
    pattern,
    (_m, name: string, value: string) => `${name}${mask(decodeUriComponentSafe(value))}`,
  );
}

function decodeUriComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** One request as the commands log it: `GET /path -> 200 (detail)`, `dropped` for a reset connection. */
export function requestLogLine(
  request: { method: string; status: number },
  path: string,
  detail: string,
): string {
  return `${request.method} ${path} -> ${request.status === 0 ? 'dropped' : request.status} (${detail})`;
}
