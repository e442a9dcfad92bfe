#!/usr/bin/env node
/**
 * Runs the NanoTerm emulator on its own, for manual tries and for e2e scripts in other languages.
 * Prints one JSON line `{"url":"http://127.0.0.1:PORT","keys":{"full":"nt_live_..."}}` on stdout once
 * listening (`keys` holds one key per --key-<permission> flag given, and is `{}` without them); logs each
 * request on stderr with keys masked; stops on SIGINT/SIGTERM.
 */
import {
  startNanoTermEmulator,
  type NanoTermPermission,
  type NanoTermPlan,
  type NanoTermRequest,
} from '../nanoterm/emulator.js';
import { maskQueryParams, requestLogLine, standaloneCommand } from './command.js';

const command = standaloneCommand(
  'nanoterm-emulator',
  `Usage: latchkey-nanoterm-emulator [--port N] [--key-full] [--key-execute] [--key-read]
                                  [--plan free|developer|team] [--min-cli-version X.Y.Z] [--no-rate-limits]`,
);

/** Keys are secrets even here: show only the 12-character prefix NanoTerm itself shows. */
function maskKey(key: string): string {
  return `${key.slice(0, 12)}...`;
}

function describe(request: NanoTermRequest): string {
  // ?token= must not reach a log in clear either.
  const path = maskQueryParams(request.path, ['token'], maskKey);
  const bearer = /^Bearer +(\S+)/i.exec(request.headers.authorization ?? '')?.[1];
  const who = bearer === undefined ? 'no key' : `key ${maskKey(bearer)}`;
  const client = request.headers['x-client-name']
    ? ` client=${request.headers['x-client-name']}/${request.headers['x-client-version'] ?? '?'}`
    : '';
  return requestLogLine(request, path, `${who}${client}`);
}

const values = command.parseFlags({
  port: { type: 'string' },
  'key-full': { type: 'boolean' },
  'key-execute': { type: 'boolean' },
  'key-read': { type: 'boolean' },
  plan: { type: 'string' },
  'min-cli-version': { type: 'string' },
  'no-rate-limits': { type: 'boolean' },
});

const port = command.portFlag(values.port);
const plan = values.plan;
if (plan !== undefined && plan !== 'free' && plan !== 'developer' && plan !== 'team')
  command.fail(`--plan needs free, developer or team, got "${plan}"`);
const minCliVersion = values['min-cli-version'];
if (
  minCliVersion !== undefined &&
  !/^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(minCliVersion)
)
  command.fail(`--min-cli-version needs a semver such as 2.0.0, got "${minCliVersion}"`);

const emulator = await startNanoTermEmulator({
  port,
  minCliVersion,
  rateLimits: values['no-rate-limits'] ? false : undefined,
  onRequest: (request) => command.log(describe(request)),
});

const keys: Partial<Record<NanoTermPermission, string>> = {};
for (const permission of ['full', 'execute', 'read'] as const) {
  if (!values[`key-${permission}`]) continue;
  const { key, info } = emulator.createKey({
    name: `${permission} key`,
    permission,
    plan: plan as NanoTermPlan | undefined,
  });
  keys[permission] = key;
  command.log(`key ${maskKey(key)} (${permission}, id ${info.id}) provisioned`);
}

// Handlers first: a parent may send SIGINT as soon as it reads the ready line.
command.stopOnSignals(() => emulator.close());
command.printReady({ url: emulator.url, keys });
command.log(`listening on ${emulator.url}`);
