#!/usr/bin/env node
/**
 * Runs the NanoTerm emulator on its own, for manual tries and for e2e scripts in other languages.
 * Prints one JSON line `{"url":"http://127.0.0.1:PORT","keys":{"full":"nt_live_..."}}` on stdout once
 * listening (`keys` holds one key per --key-<permission> flag given, and is `{}` without them); logs each
 * request on stderr with keys masked; stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import {
  startNanoTermEmulator,
  type NanoTermPermission,
  type NanoTermPlan,
  type NanoTermRequest,
} from '../nanoterm/emulator.js';

const usage = `Usage: latchkey-nanoterm-emulator [--port N] [--key-full] [--key-execute] [--key-read]
                                  [--plan free|developer|team] [--min-cli-version X.Y.Z] [--no-rate-limits]`;

function fail(message: string): never {
  console.error(`nanoterm-emulator: ${message}\n${usage}`);
  process.exit(2);
}

/** Keys are secrets even here: show only the 12-character prefix NanoTerm itself shows. */
function maskKey(key: string): string {
  return `${key.slice(0, 12)}...`;
}

function describe(request: NanoTermRequest): string {
  // ?token= must not reach a log in clear either.
  const path = request.path.replace(
    /([?&]token=)([^&#]*)/g,
    (_m, name: string, value: string) => `${name}${maskKey(decodeURIComponentSafe(value))}`,
  );
  const bearer = /^Bearer +(\S+)/i.exec(request.headers.authorization ?? '')?.[1];
  const who = bearer === undefined ? 'no key' : `key ${maskKey(bearer)}`;
  const client = request.headers['x-client-name']
    ? ` client=${request.headers['x-client-name']}/${request.headers['x-client-version'] ?? '?'}`
    : '';
  return `${request.method} ${path} -> ${request.status === 0 ? 'dropped' : request.status} (${who}${client})`;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function parseFlags() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string' },
        'key-full': { type: 'boolean' },
        'key-execute': { type: 'boolean' },
        'key-read': { type: 'boolean' },
        plan: { type: 'string' },
        'min-cli-version': { type: 'string' },
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

let port: number | undefined;
if (values.port !== undefined) {
  port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--port needs an integer from 0 to 65535, got "${values.port}"`);
}
const plan = values.plan;
if (plan !== undefined && plan !== 'free' && plan !== 'developer' && plan !== 'team')
  fail(`--plan needs free, developer or team, got "${plan}"`);
const minCliVersion = values['min-cli-version'];
if (
  minCliVersion !== undefined &&
  !/^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(minCliVersion)
)
  fail(`--min-cli-version needs a semver such as 2.0.0, got "${minCliVersion}"`);

const emulator = await startNanoTermEmulator({
  port,
  minCliVersion,
  rateLimits: values['no-rate-limits'] ? false : undefined,
  onRequest: (request) => console.error(`[nanoterm-emulator] ${describe(request)}`),
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
  console.error(`[nanoterm-emulator] key ${maskKey(key)} (${permission}, id ${info.id}) provisioned`);
}

process.stdout.write(`${JSON.stringify({ url: emulator.url, keys })}\n`);
console.error(`[nanoterm-emulator] listening on ${emulator.url}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.error(`[nanoterm-emulator] ${signal}: stopping`);
    void emulator.close().then(() => process.exit(0));
  });
}
