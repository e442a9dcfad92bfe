#!/usr/bin/env node
// `auth token` is on every script's hot path, and `exec` starts other programs: try their fast paths (no
// oclif start-up) first; each hands over to the full CLI for anything but the plain forms. Each fast path is
// one self-contained file built by scripts/bundle.mjs (dist/bundle/), so starting it resolves no package.
// On an older Node, say so plainly before anything else (oclif would only warn, then fail somewhere else).
if (Number(process.versions.node.split('.')[0]) < 22) {
  process.stderr.write(
    `latchkey: Node.js ${process.versions.node} is too old; latchkey needs Node.js 22 or newer.\n` +
      '  Install Node.js 22 or newer (https://nodejs.org/), then run latchkey again.\n',
  );
  process.exit(1);
}
const args = process.argv.slice(2);
if (args[0] === 'auth' && args[1] === 'token') {
  const { fastToken } = await import('../dist/bundle/fast-token.js');
  await settle(await fastToken(args.slice(2)));
} else if (args[0] === 'exec') {
  const { fastExec } = await import('../dist/bundle/fast-exec.js');
  await settle(await fastExec(args.slice(1)));
} else if (
  args.length === 0 ||
  (args.length === 1 && ['--version', '-v', '--help', '-h'].includes(args[0])) ||
  (args.length === 2 && args[0] === 'auth' && (args[1] === 'providers' || args[1] === 'status'))
) {
  // The plain forms src/fast-info.ts answers from the info cache (its infoForm() is the same list):
  // --version, --help, `auth providers`, `auth status` with nothing stored.
  const { fastInfo } = await import('../dist/bundle/fast-info.js');
  await settle(await fastInfo(args));
} else {
  await runOclif();
}

async function settle(code) {
  if (code !== undefined) {
    process.exitCode = code;
  } else {
    await runOclif();
  }
}

async function runOclif() {
  const { execute, settings } = await import('@oclif/core');
  // Plugins are loaded from their built output (dist/); linked plugins are never transpiled on the fly.
  settings.enableAutoTranspile = false;
  await execute({ dir: import.meta.url });
}
