// The composition root: builds the real runtime from the adapters (io/), and the helpers every flow uses
// to reach the network and the store through it. The interfaces are in ports.ts.
import type { Config } from '@oclif/core';
import { usageError } from '@latchkey/errors';
import { HttpClient } from '@latchkey/http';
import { systemClock } from '@latchkey/polling';
import {
  CredentialStore,
  resolveConfigDir,
  resolveStoragePreference,
  type LockHolderInfo,
  type PassphraseAsker,
} from '@latchkey/storage';
import { processIo } from '../io/process-io.js';
import type { HostIo, Runtime } from './ports.js';
import { colours, colourWanted, paintMarks } from '../terminal/colour.js';
import { forTerminal, isCi, isDebug } from './environment.js';

export function createRuntime(config: Config, signal: AbortSignal, io: HostIo = processIo(signal)): Runtime {
  const { env, stdout, stderr } = io;
  const paint = {
    stdout: colours(colourWanted(env, stdout.isTTY)),
    stderr: colours(colourWanted(env, stderr.isTTY)),
  };
  const runtime: Runtime = {
    config,
    env,
    platform: io.platform,
    clock: io.clock ?? systemClock,
    signal,
    interactive: io.stdinIsTty && stderr.isTTY && !isCi(env),
    stdout,
    stderr,
    prompter: io.prompter,
    browser: io.browser,
    enterKey: io.enterKey ?? (async () => false),
    clipboard: io.clipboard ?? (async () => false),
    colours: paint,
    // Through `runtime.colours`, so a command can turn colour off after parsing its flags (`--json`).
    say: (line) => stderr.write(`${paintMarks(forTerminal(line), runtime.colours.stderr)}\n`),
    warn: (message) => stderr.write(`${paintMarks(forTerminal(`! ${message}`), runtime.colours.stderr)}\n`),
    out: (text) => stdout.write(paintMarks(forTerminal(text), runtime.colours.stdout)),
    version: config.version,
  };
  if (io.keychain) runtime.keychain = io.keychain;
  if (isDebug(env)) runtime.debug = (line) => stderr.write(`[debug] ${forTerminal(line)}\n`);
  return runtime;
}

export function httpClient(runtime: Runtime): HttpClient {
  return new HttpClient({
    clientName: 'latchkey',
    clientVersion: runtime.version,
    env: runtime.env,
    signal: runtime.signal,
    clock: runtime.clock,
    debug: runtime.debug,
  });
}

/** The store for writing: `--storage` / LATCHKEY_STORAGE decide where new secrets go. */
export function credentialStore(runtime: Runtime, storageFlag?: string): CredentialStore {
  return new CredentialStore({
    configDir: resolveConfigDir(runtime.env),
    preference: resolveStoragePreference(storageFlag, runtime.env),
    onLockWait: lockWaitNotice(runtime),
    env: runtime.env,
    ...(runtime.keychain && { keychain: runtime.keychain }),
    ...(runtime.interactive && { askPassphrase: passphraseAsker(runtime) }),
  });
}

/**
 * Asks for the passphrase file's passphrase on the terminal, nothing echoed; a new one is typed twice.
 * Undefined without a terminal: LATCHKEY_FILE_PASSPHRASE is then the only source (storage says so).
 */
export function passphraseAsker(runtime: Runtime): PassphraseAsker | undefined {
  if (!runtime.interactive) return undefined;
  return async (purpose) => {
    if (purpose === 'unlock') return runtime.prompter.password("Passphrase of latchkey's credentials file:");
    const first = await runtime.prompter.password("New passphrase for latchkey's credentials file:");
    const again = await runtime.prompter.password('The same passphrase again:');
    if (first !== again) {
      throw usageError(
        'The two passphrases differ; nothing was changed.',
        'Run the command again and type the same passphrase twice.',
      );
    }
    return first;
  };
}

/** The one line a write prints when another live latchkey process holds the storage lock for 1 s. */
export function lockWaitNotice(runtime: Runtime): (holder: LockHolderInfo) => void {
  return (holder) =>
    runtime.warn(
      `Waiting for another latchkey process${holder.pid !== undefined ? ` (pid ${holder.pid})` : ''} that is writing credentials…`,
    );
}
