#!/usr/bin/env node
/**
 * Runs the NanoGPT emulator on its own, for manual tries and for e2e scripts in other languages.
 * Prints one JSON line `{"url":"http://127.0.0.1:PORT"}` on stdout once listening; logs on stderr; stops on
 * SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startNanoGptEmulator, type NanoGptEmulatorEvent } from '../nanogpt/emulator.js';

const usage = `Usage: latchkey-nanogpt-emulator [--port N] [--interval S] [--expires-in S] [--auto-approve-after N]
                                 [--key KEY]... [--no-rate-limits]`;

function fail(message: string): never {
  console.error(`nanogpt-emulator: ${message}\n${usage}`);
  process.exit(2);
}

function numberFlag(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`--${name} needs an integer >= ${min}, got "${value}"`);
  return n;
}

/** Keys are secrets even here: show only enough to tell them apart. */
function maskKey(key: string): string {
  return `${key.slice(0, key.startsWith('sk-nano-') ? 12 : 4)}...`;
}

function describe(event: NanoGptEmulatorEvent): string {
  switch (event.type) {
    case 'code-issued':
      return `code ${event.userCode} issued to "${event.clientName}"; approve at ${event.verificationUriComplete}`;
    case 'approved':
      return `code ${event.userCode} approved`;
    case 'denied':
      return `code ${event.userCode} denied`;
    case 'key-created':
      return `key ${maskKey(event.key)} created, named "${event.name}"`;
    case 'key-delivered':
      return `key ${maskKey(event.key)} delivered for code ${event.userCode}`;
  }
}

function parseFlags() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string' },
        interval: { type: 'string' },
        'expires-in': { type: 'string' },
        'auto-approve-after': { type: 'string' },
        key: { type: 'string', multiple: true },
        'no-rate-limits': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}

const values = parseFlags();

if (values.help) {
  console.log(usage);
  process.exit(0);
}

const emulator = await startNanoGptEmulator({
  port: numberFlag('port', values.port, 0),
  interval: numberFlag('interval', values.interval, 0),
  expiresIn: numberFlag('expires-in', values['expires-in'], 1),
  autoApproveAfterPolls: numberFlag('auto-approve-after', values['auto-approve-after'], 0),
  keys: values.key,
  rateLimits: values['no-rate-limits'] ? false : undefined,
  onEvent: (event) => console.error(`[nanogpt-emulator] ${describe(event)}`),
});

process.stdout.write(`${JSON.stringify({ url: emulator.url })}\n`);
console.error(`[nanogpt-emulator] listening on ${emulator.url}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.error(`[nanogpt-emulator] ${signal}: stopping`);
    void emulator.close().then(() => process.exit(0));
  });
}
