#!/usr/bin/env node
/**
 * Runs a real better-auth server configured like Kaneo's, for manual tries and for e2e scripts in other
 * languages. Prints one JSON line `{"url":"http://127.0.0.1:PORT"}` on stdout once listening; the demo user
 * and how to approve a code on stderr; stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startKaneoServer } from '../kaneo/server.js';

const usage = 'Usage: latchkey-kaneo-server [--port N] [--expires-in S] [--interval S]';

function fail(message: string): never {
  console.error(`kaneo-server: ${message}\n${usage}`);
  process.exit(2);
}

function numberFlag(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`--${name} needs an integer >= ${min}, got "${value}"`);
  return n;
}

function parseFlags() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string' },
        'expires-in': { type: 'string' },
        interval: { type: 'string' },
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

const server = await startKaneoServer({
  port: numberFlag('port', values.port, 0),
  deviceExpiresIn: numberFlag('expires-in', values['expires-in'], 1),
  interval: numberFlag('interval', values.interval, 0),
  onLog: (level, message) => console.error(`[kaneo-server] better-auth ${level}: ${message}`),
});
const demo = await server.signUp({ email: 'demo@kaneo.test', name: 'Demo User' });

process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
console.error(`[kaneo-server] better-auth listening on ${server.url} (auth under ${server.url}/api/auth)`);
console.error(`[kaneo-server] demo user: ${demo.email} / ${demo.password}`);
console.error(
  '[kaneo-server] no web UI is served (better-auth has none). To approve a code as a browser would: ' +
    `POST /api/auth/sign-in/email {"email","password"} with the header Origin: ${server.url}, then with ` +
    'that session (its "token" as Authorization: Bearer) ' +
    'GET /api/auth/device?user_code=CODE and POST /api/auth/device/approve {"userCode":"CODE"} ' +
    '(or /device/deny) — approve()/deny() of @latchkey/testkit/kaneo do exactly this.',
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.error(`[kaneo-server] ${signal}: stopping`);
    void server.close().then(() => process.exit(0));
  });
}
