#!/usr/bin/env node
/**
 * Runs a real better-auth server configured like Kaneo's, for manual tries and for e2e scripts in other
 * languages. Prints one JSON line `{"url":"http://127.0.0.1:PORT"}` on stdout once listening; the demo user
 * and how to approve a code on stderr; stops on SIGINT/SIGTERM.
 */
import { startKaneoServer } from '../kaneo/server.js';
import { standaloneCommand } from './command.js';

const command = standaloneCommand(
  'kaneo-server',
  'Usage: latchkey-kaneo-server [--port N] [--expires-in S] [--interval S]',
);

const values = command.parseFlags({
  port: { type: 'string' },
  'expires-in': { type: 'string' },
  interval: { type: 'string' },
});

const server = await startKaneoServer({
  port: command.numberFlag('port', values.port, 0),
  deviceExpiresIn: command.numberFlag('expires-in', values['expires-in'], 1),
  interval: command.numberFlag('interval', values.interval, 0),
  onLog: (level, message) => command.log(`better-auth ${level}: ${message}`),
});
const demo = await server.signUp({ email: 'demo@kaneo.test', name: 'Demo User' });

// Handlers first: a parent may send SIGINT as soon as it reads the ready line.
command.stopOnSignals(() => server.close());
command.printReady({ url: server.url });
command.log(`better-auth listening on ${server.url} (auth under ${server.url}/api/auth)`);
command.log(`demo user: ${demo.email} / ${demo.password}`);
command.log(
  'no web UI is served (better-auth has none). To approve a code as a browser would: ' +
    `POST /api/auth/sign-in/email {"email","password"} with the header Origin: ${server.url}, then with ` +
    'that session (its "token" as Authorization: Bearer) ' +
    'GET /api/auth/device?user_code=CODE and POST /api/auth/device/approve {"userCode":"CODE"} ' +
    '(or /device/deny) — approve()/deny() of @latchkey/testkit/kaneo do exactly this.',
);
