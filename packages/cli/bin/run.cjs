#!/usr/bin/env node
'use strict';
// `auth token` is on every script's hot path, and `exec` starts other programs: try their fast paths (no
// oclif start-up) first; each hands over to the full CLI for anything but the plain forms. Each fast path is
// one self-contained CommonJS file built by scripts/bundle.mjs (dist/bundle/), so starting it resolves no
// package. This file is CommonJS too: an ES module entry would start Node's ESM loader, some 3 ms that
// `auth token` does not need (docs/performance.md). oclif, an ES module, is import()ed when it is needed.
// On an older Node, say so plainly before anything else (oclif would only warn, then fail somewhere else).
if (Number(process.versions.node.split('.')[0]) < 22) {
  process.stderr.write(
    `latchkey: Node.js ${process.versions.node} is too old; latchkey needs Node.js 22 or newer.\n` +
      '  Install Node.js 22 or newer (https://nodejs.org/), then run latchkey again.\n',
  );
  process.exit(1);
}

/**
 * Node's compile cache (module.enableCompileCache): V8's compiled code for the bundles and, on the full
 * CLI's path, oclif, kept between runs, which saves `auth token` about 1 ms of compiling. It holds code, so
 * it goes in latchkey's own cache directory (the same one as src/host/cache-file.ts's caches), and only when
 * that directory passes the config dir's checks (a directory of the user's, no group or other permission
 * bits): never a shared directory where another user could leave code for latchkey to run. `compile/` is
 * made here 0700 (mkdir, then chmod, whatever the umask), and Node makes its subdirectory under umask 077.
 * Anything unexpected (an unreadable or looping path, a file in the way, another user's directory) means no
 * compile cache, never an error. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
function enableCompileCache(env) {
  if (typeof process.getuid !== 'function') return;
  const { join } = require('node:path');
  // The cache dir of src/host/cache-file.ts's cacheDir(), which cannot be imported before the bundle.
  const base =
    env.LATCHKEY_CACHE_DIR ||
    ((env.XDG_CACHE_HOME || env.HOME) && join(env.XDG_CACHE_HOME || join(env.HOME, '.cache'), 'latchkey'));
  if (!base) return;
  const fs = require('node:fs');
  const uid = process.getuid();
  const mine = (stat) => stat?.isDirectory() && stat.uid === uid && (stat.mode & 0o077) === 0;
  /** The directory, made 0700 when missing; true when it is a directory of ours with no group/other bits. */
  const own = (dir, repair) => {
    let stat = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (stat === undefined) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.chmodSync(dir, 0o700);
      stat = fs.lstatSync(dir);
    } else if (repair && stat.isDirectory() && stat.uid === uid && (stat.mode & 0o077) !== 0) {
      // Inside a base only we can write to: made loose by an older latchkey under umask 000.
      fs.chmodSync(dir, 0o700);
      stat = fs.lstatSync(dir);
    }
    return mine(stat);
  };
  try {
    // The base may be a symlink (a cache dir moved elsewhere): its target is what is checked.
    if (!fs.existsSync(base)) fs.mkdirSync(base, { recursive: true, mode: 0o700 });
    if (!mine(fs.statSync(base))) return;
    const compile = join(base, 'compile');
    if (!own(compile, true)) return;
    for (const entry of fs.readdirSync(compile)) if (!own(join(compile, entry), true)) return;
    const umask = process.umask(0o077);
    try {
      require('node:module').enableCompileCache?.(compile);
    } finally {
      process.umask(umask);
    }
  } catch {
    // No compile cache: only slower.
  }
}

async function main(args) {
  if (args[0] === 'auth' && args[1] === 'token') {
    const { fastToken } = require('../dist/bundle/fast-token.cjs');
    await settle(await fastToken(args.slice(2)));
  } else if (args[0] === 'exec') {
    const { fastExec } = require('../dist/bundle/fast-exec.cjs');
    await settle(await fastExec(args.slice(1)));
  } else if (
    args.length === 0 ||
    (args.length === 1 && ['--version', '-v', '--help', '-h'].includes(args[0])) ||
    (args.length === 2 && args[0] === 'auth' && (args[1] === 'providers' || args[1] === 'status'))
  ) {
    // The plain forms src/fast-info.ts answers from the info cache (its infoForm() is the same list):
    // --version, --help, `auth providers`, `auth status` with nothing stored.
    const { fastInfo } = require('../dist/bundle/fast-info.cjs');
    await settle(await fastInfo(args));
  } else {
    await runOclif();
  }
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
  await execute({ dir: __filename });
}

enableCompileCache(process.env);
main(process.argv.slice(2)).catch((error) => {
  // What an uncaught error in an ES module entry did: the stack on stderr, exit 1.
  process.exitCode = 1;
  process.stderr.write(`${error?.stack ?? error}\n`);
});
