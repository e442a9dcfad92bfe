#!/usr/bin/env node
/**
 * Runs the NanoGPT emulator on its own, for manual tries and for e2e scripts in other languages.
 * Prints one JSON line `{"url":"http://127.0.0.1:PORT"}` on stdout once listening; logs on stderr; stops on
 * SIGINT/SIGTERM.
 */
import { startNanoGptEmulator, type NanoGptEmulatorEvent } from '../nanogpt/emulator.js';
import { standaloneCommand } from './command.js';

const command = standaloneCommand(
  'nanogpt-emulator',
  `Usage: latchkey-nanogpt-emulator [--port N] [--interval S] [--expires-in S] [--auto-approve-after N]
                                 [--key KEY]... [--no-rate-limits]`,
);

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

const values = command.parseFlags({
  port: { type: 'string' },
  interval: { type: 'string' },
  'expires-in': { type: 'string' },
  'auto-approve-after': { type: 'string' },
  key: { type: 'string', multiple: true },
  'no-rate-limits': { type: 'boolean' },
});

const emulator = await startNanoGptEmulator({
  port: command.numberFlag('port', values.port, 0),
  interval: command.numberFlag('interval', values.interval, 0),
  expiresIn: command.numberFlag('expires-in', values['expires-in'], 1),
  autoApproveAfterPolls: command.numberFlag('auto-approve-after', values['auto-approve-after'], 0),
  keys: values.key,
  rateLimits: values['no-rate-limits'] ? false : undefined,
  onEvent: (event) => command.log(describe(event)),
});

// Handlers first: a parent may send SIGINT as soon as it reads the ready line.
command.stopOnSignals(() => emulator.close());
command.printReady({ url: emulator.url });
command.log(`listening on ${emulator.url}`);
