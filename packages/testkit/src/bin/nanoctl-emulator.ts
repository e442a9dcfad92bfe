#!/usr/bin/env node
/**
 * Runs the Nanoservices (nanoctl) API emulator on its own, for manual tries and for e2e scripts in other
 * languages. Prints one JSON line `{"url":"http://127.0.0.1:PORT"}` on stdout once listening (the API base:
 * the token check is `GET {url}/v1/whoami`); logs each request on stderr with tokens masked; stops on
 * SIGINT/SIGTERM.
 *
 *   --token T          provision T as a valid token (user `dev-user`, expires in 90 days); repeatable
 *   --expired-token T  provision T as a token that expired a day ago; repeatable
 */
import { parseArgs } from 'node:util';
import { startNanoctlEmulator, type NanoctlRequest } from '../nanoctl/emulator.js';

const usage = `Usage: latchkey-nanoctl-emulator [--port N] [--token T]... [--expired-token T]...`;
const DAY_MS = 24 * 60 * 60 * 1000;

function fail(message: string): never {
  console.error(`nanoctl-emulator: ${message}\n${usage}`);
  process.exit(2);
}

/** Tokens are secrets even here: show only enough to tell them apart, and nothing of a short one. */
function maskToken(token: string): string {
  if (token.startsWith('nsv_') && token.length >= 16) return `${token.slice(0, 8)}...`;
  return token.length >= 16 ? `${token.slice(0, 4)}...` : `***(${token.length} chars)`;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function describe(request: NanoctlRequest): string {
  // A token sent in the query string by mistake must not reach the log in clear either.
  const path = request.path.replace(
    /([?&](?:token|access_token)=)([^&#]*)/gi,
    (_m, name: string, value: string) => `${name}${maskToken(decodeURIComponentSafe(value))}`,
  );
  const authorization = request.headers.authorization;
  const bearer = /^\s*Bearer +(\S+)/i.exec(authorization ?? '')?.[1];
  const who =
    authorization === undefined
      ? 'no token'
      : bearer === undefined
        ? 'malformed auth'
        : `token ${maskToken(bearer)}`;
  return `${request.method} ${path} -> ${request.status === 0 ? 'dropped' : request.status} (${who})`;
}

function parseFlags() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string' },
        token: { type: 'string', multiple: true },
        'expired-token': { type: 'string', multiple: true },
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
  if (values.port.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--port needs an integer from 0 to 65535, got "${values.port}"`);
}

const emulator = await startNanoctlEmulator({
  port,
  onRequest: (request) => console.error(`[nanoctl-emulator] ${describe(request)}`),
});

const provision = (token: string, expired: boolean): void => {
  try {
    const added = emulator.addToken({
      token,
      expiresAt: expired ? new Date(Date.now() - DAY_MS).toISOString() : undefined,
    });
    console.error(
      `[nanoctl-emulator] ${expired ? 'expired ' : ''}token ${maskToken(added.token)} provisioned ` +
        `(user ${added.username}, expires ${added.expiresAt})`,
    );
  } catch (error) {
    void emulator.close();
    fail(
      `cannot provision token ${maskToken(token)}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
};
for (const token of values.token ?? []) provision(token, false);
for (const token of values['expired-token'] ?? []) provision(token, true);

process.stdout.write(`${JSON.stringify({ url: emulator.url })}\n`);
console.error(`[nanoctl-emulator] listening on ${emulator.url}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.error(`[nanoctl-emulator] ${signal}: stopping`);
    void emulator.close().then(() => process.exit(0));
  });
}
