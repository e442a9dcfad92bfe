#!/usr/bin/env node
/**
 * A throwaway npm registry for end-to-end tests: verdaccio with NO uplinks (it serves only what is
 * published to it, and never talks to another registry), listening on 127.0.0.1 on a free port.
 *
 *   node packages/registry-fixture/start.mjs <dir>
 *
 * Writes `<dir>/config.yaml` and keeps its storage and users under `<dir>`. When the server listens, prints
 * one line `LATCHKEY_REGISTRY_READY {"url":"http://127.0.0.1:<port>"}` on stdout. Ends on SIGTERM/SIGINT
 * or when its standard input closes (so it never outlives the test that started it).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runServer } from 'verdaccio';

const dir = resolve(process.argv[2] ?? '');
if (!process.argv[2]) {
  process.stderr.write('usage: start.mjs <dir>\n');
  process.exit(2);
}
await mkdir(join(dir, 'storage'), { recursive: true });

const configPath = join(dir, 'config.yaml');
await writeFile(
  configPath,
  [
    `storage: ${JSON.stringify(join(dir, 'storage'))}`,
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(join(dir, 'htpasswd'))}`,
    '    max_users: 100',
    'uplinks: {}',
    'packages:',
    "  '**':",
    '    access: $all',
    '    publish: $authenticated',
    '    unpublish: $authenticated',
    'web:',
    '  enable: false',
    'server:',
    '  keepAliveTimeout: 5',
    'log: { type: stdout, format: json, level: error }',
    '',
  ].join('\n'),
);

const server = await runServer(configPath);
await new Promise((resolveListen, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => resolveListen(undefined));
});
const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
process.stdout.write(`LATCHKEY_REGISTRY_READY ${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections?.();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
