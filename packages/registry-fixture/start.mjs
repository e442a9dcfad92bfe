#!/usr/bin/env node
/**
 * A throwaway npm registry for end-to-end tests: verdaccio listening on 127.0.0.1 on a free port. By default
 * it has NO uplinks (it serves only what is published to it, and never talks to another registry).
 *
 *   node packages/registry-fixture/start.mjs <dir> [--https-key key.pem --https-cert cert.pem]
 *                                                 [--uplink <registry-url> [--uplink-ca ca.pem]]
 *
 * Writes `<dir>/config.yaml` and keeps its storage and users under `<dir>`. When the server listens, prints
 * one line `LATCHKEY_REGISTRY_READY {"url":"http://127.0.0.1:<port>"}` on stdout (`https://` when given a key
 * and certificate). With `--uplink`, packages it does not hold are fetched from that registry (trusting the
 * CA in `--uplink-ca`, e.g. the machine's npm `cafile`), except `@latchkey/*` and `latchkey-plugin-*`, which
 * are only ever served from what was published to it. Ends on SIGTERM/SIGINT or when its standard input
 * closes (so it never outlives the test that started it).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runServer } from 'verdaccio';

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'https-key': { type: 'string' },
    'https-cert': { type: 'string' },
    uplink: { type: 'string' },
    'uplink-ca': { type: 'string' },
  },
});
if (positionals.length !== 1) {
  process.stderr.write(
    'usage: start.mjs <dir> [--https-key k --https-cert c] [--uplink url [--uplink-ca f]]\n',
  );
  process.exit(2);
}
const dir = resolve(positionals[0]);
const https = Boolean(options['https-key'] && options['https-cert']);
const uplinkCa = options['uplink-ca'] ? await readFile(options['uplink-ca'], 'utf8') : undefined;
const local = ['    access: $all', '    publish: $authenticated', '    unpublish: $authenticated'];
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
    ...(options.uplink
      ? [
          'uplinks:',
          '  upstream:',
          `    url: ${JSON.stringify(options.uplink)}`,
          '    timeout: 60s',
          '    max_fails: 20',
          ...(uplinkCa ? [`    ca: ${JSON.stringify(uplinkCa)}`] : []),
        ]
      : ['uplinks: {}']),
    ...(https
      ? [
          'listen: https://127.0.0.1:0',
          'https:',
          `  key: ${JSON.stringify(resolve(options['https-key']))}`,
          `  cert: ${JSON.stringify(resolve(options['https-cert']))}`,
        ]
      : []),
    'packages:',
    "  '@latchkey/*':",
    ...local,
    "  'latchkey-plugin-*':",
    ...local,
    "  '**':",
    ...local,
    ...(options.uplink ? ['    proxy: upstream'] : []),
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
process.stdout.write(
  `LATCHKEY_REGISTRY_READY ${JSON.stringify({ url: `${https ? 'https' : 'http'}://127.0.0.1:${port}` })}\n`,
);

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
