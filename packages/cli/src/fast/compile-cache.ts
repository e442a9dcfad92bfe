/**
 * Node's compile cache (module.enableCompileCache): V8's compiled code for the bundles and, on the full
 * CLI's path, oclif, kept between runs. bin/run.cjs calls this first, from its own small bundle
 * (dist/bundle/compile-cache.cjs), so that what it loads next is compiled from the cache. It holds code, so
 * it goes in latchkey's cache directory (@latchkey/storage's latchkeyDirs()),
 * and only when that directory passes the config dir's checks (a directory of the user's, no group or other
 * permission bits): never a shared directory where another user could leave code for latchkey to run.
 * `compile/` is made 0700 (mkdir, then chmod, whatever the umask), and Node makes its subdirectory under
 * umask 077. Anything unexpected (an unreadable or looping path, a file in the way, another user's
 * directory) means no compile cache, never an error. NODE_DISABLE_COMPILE_CACHE=1 turns it off (Node).
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, statSync, type Stats } from 'node:fs';
import * as module from 'node:module';
import { join } from 'node:path';
import { latchkeyDirs } from '@latchkey/storage';

export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  if (typeof process.getuid !== 'function') return;
  const uid = process.getuid();
  const mine = (stat: Stats | undefined) =>
    stat !== undefined && stat.isDirectory() && stat.uid === uid && (stat.mode & 0o077) === 0;
  /** The directory, made 0700 when missing or loose; true when it is a directory of ours with no group/other bits. */
  const own = (dir: string) => {
    let stat = lstatSync(dir, { throwIfNoEntry: false });
    if (stat === undefined) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      stat = lstatSync(dir);
    } else if (stat.isDirectory() && stat.uid === uid && (stat.mode & 0o077) !== 0) {
      // Inside a base only we can write to: made loose by an older latchkey under umask 000.
      chmodSync(dir, 0o700);
      stat = lstatSync(dir);
    }
    return mine(stat);
  };
  try {
    const base = latchkeyDirs(env).cache;
    // The base may be a symlink (a cache dir moved elsewhere): its target is what is checked.
    if (!existsSync(base)) mkdirSync(base, { recursive: true, mode: 0o700 });
    if (!mine(statSync(base))) return;
    const compile = join(base, 'compile');
    if (!own(compile)) return;
    for (const entry of readdirSync(compile)) if (!own(join(compile, entry))) return;
    const umask = process.umask(0o077);
    try {
      module.enableCompileCache?.(compile);
    } finally {
      process.umask(umask);
    }
  } catch {
    // No compile cache: only slower.
  }
}
