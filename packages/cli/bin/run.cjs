#!/usr/bin/env node
'use strict';
// One front door. `--version` is one package.json field; `auth token`, `exec` and the shell completion's
// `__complete` first try their fast paths (src/fast/fast-token.ts, fast-exec.ts, fast-complete.ts: the
// commands' own flag definitions and code, or the command table, bundled into one CommonJS file each by scripts/bundle.mjs, without oclif's start-up), which hand anything but the plain
// forms to oclif; everything else is oclif. This file is CommonJS: an ES module entry would start Node's ESM
// loader, some 3 ms that `auth token` does not need (docs/performance.md).
// On an older Node, say so plainly before anything else (oclif would only warn, then fail somewhere else).
if (Number(process.versions.node.split('.')[0]) < 22) {
  process.stderr.write(
    `latchkey: Node.js ${process.versions.node} is too old; latchkey needs Node.js 22 or newer.\n` +
      '  Install Node.js 22 or newer (https://nodejs.org/), then run latchkey again.\n',
  );
  process.exit(1);
}

async function main(args) {
  if (args[0] === '--version' || args[0] === '-v') {
    // What oclif prints for --version (its Config.userAgent), which never runs: this is the only version line.
    const { name, version } = require('../package.json');
    process.stdout.write(`${name}/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
    return;
  }
  // Node's compile cache in latchkey's cache dir, before anything bigger loads (src/fast/compile-cache.ts).
  require('../dist/bundle/compile-cache.cjs').enableCompileCache(process.env);
  const fast =
    args[0] === 'auth' && args[1] === 'token'
      ? require('../dist/bundle/fast-token.cjs').fastToken(args.slice(2))
      : args[0] === 'exec'
        ? require('../dist/bundle/fast-exec.cjs').fastExec(args.slice(1))
        : args[0] === '__complete' && args[1] === '--'
          ? require('../dist/bundle/fast-complete.cjs').fastComplete(args.slice(2))
          : undefined;
  const code = await fast;
  // An answer printed (printLine resolves once it is written): leave at once. A natural exit first runs
  // V8's pending idle tasks, such as a young-generation GC (~3 ms) the stored path reaches with a few
  // plugins read. exec (COMMAND's output may still be in a stream) and errors end naturally.
  if (code === 0 && args[0] !== 'exec') process.exit(0);
  if (code !== undefined) {
    process.exitCode = code;
    return;
  }
  // oclif checks the Node version against its own `engines` when it loads, with semver (some 47 files,
  // ~40 ms); the check at the top of this file already did that. The variable is set only while oclif
  // loads, so no child process (exec's COMMAND) inherits it.
  const given = process.env.OCLIF_DISABLE_ENGINE_WARNING;
  process.env.OCLIF_DISABLE_ENGINE_WARNING = '1';
  const { execute, settings } = await import('@oclif/core');
  if (given === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING;
  else process.env.OCLIF_DISABLE_ENGINE_WARNING = given;
  // Plugins are loaded from their built output (dist/); linked plugins are never transpiled on the fly.
  settings.enableAutoTranspile = false;
  await execute({ dir: __filename });
}

main(process.argv.slice(2)).catch((error) => {
  // What an uncaught error in an ES module entry did: the stack on stderr, exit 1.
  process.exitCode = 1;
  process.stderr.write(`${error?.stack ?? error}\n`);
});
