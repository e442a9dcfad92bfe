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
import { startNanoctlEmulator, type NanoctlRequest } from '../nanoctl/emulator.js';
import { maskQueryParams, requestLogLine, standaloneCommand } from './command.js';

const command = standaloneCommand(
  'nanoctl-emulator',
  `Usage: latchkey-nanoctl-emulator [--port N] [--token T]... [--expired-token T]...`,
);
const DAY_MS = 24 * 60 * 60 * 1000;

/** Tokens are secrets even here: show only enough to tell them apart, and nothing of a short one. */
function maskToken(token: string): string {
  if (token.startsWith('nsv_') && token.length >= 16) return `${token.slice(0, 8)}...`;
  return token.length >= 16 ? `${token.slice(0, 4)}...` : `***(${token.length} chars)`;
}

function describe(request: NanoctlRequest): string {
  // A token sent in the query string by mistake must not reach the log in clear either.
  const path = maskQueryParams(request.path, ['token', 'access_token'], maskToken, { ignoreCase: true });
  const authorization = request.headers.authorization;
  const bearer = /^\s*Bearer +(\S+)/i.exec(authorization ?? '')?.[1];
  const who =
    authorization === undefined
      ? 'no token'
      : bearer === undefined
        ? 'malformed auth'
        : `token ${maskToken(bearer)}`;
  return requestLogLine(request, path, who);
}

const values = command.parseFlags({
  port: { type: 'string' },
  token: { type: 'string', multiple: true },
  'expired-token': { type: 'string', multiple: true },
});

const port = command.portFlag(values.port, { rejectBlank: true });

const emulator = await startNanoctlEmulator({
  port,
  onRequest: (request) => command.log(describe(request)),
});

const provision = (token: string, expired: boolean): void => {
  try {
    const added = emulator.addToken({
      token,
      expiresAt: expired ? new Date(Date.now() - DAY_MS).toISOString() : undefined,
    });
    command.log(
      `${expired ? 'expired ' : ''}token ${maskToken(added.token)} provisioned ` +
        `(user ${added.username}, expires ${added.expiresAt})`,
    );
  } catch (error) {
    void emulator.close();
    command.fail(
      `cannot provision token ${maskToken(token)}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
};
for (const token of values.token ?? []) provision(token, false);
for (const token of values['expired-token'] ?? []) provision(token, true);

// Handlers first: a parent may send SIGINT as soon as it reads the ready line.
command.stopOnSignals(() => emulator.close());
command.printReady({ url: emulator.url });
command.log(`listening on ${emulator.url}`);
