// Builds the `auth token` and `exec` fast paths (src/fast-token.ts, src/fast-exec.ts and everything they
// import, the @latchkey packages included) into one self-contained ES module each, dist/bundle/<name>.js,
// which bin/run.js imports. Resolving and loading some thirty files cost most of the fast path's start-up;
// one file costs one read. Nothing is resolved at run time except node: built-ins and, only when a
// credential is in the keychain, the native @napi-rs/keyring. Each entry is built on its own with code
// splitting, so a dynamic `import()` inside it (the keychain backend, an OAuth refresh) becomes a chunk of
// its own, loaded only when that branch runs, and the two entries share no chunk the plain path loads.
// A source map sits next to each file (dist/bundle/<name>.js.map, not inline): `node --enable-source-maps`
// shows src/ positions, and the e2e test reads its `sources` to check what went into the bundle.
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
await rm(outdir, { recursive: true, force: true });

for (const name of ['fast-token', 'fast-exec', 'fast-info']) {
  await build({
    absWorkingDir: root,
    entryPoints: { [name]: join(root, 'src', `${name}.ts`) },
    outdir,
    entryNames: '[name]',
    // Chunks only ever come from a dynamic import() inside this entry's graph.
    chunkNames: `chunks/${name}-[name]-[hash]`,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    // The native keychain binding cannot be bundled; it is imported (lazily) from the installed package.
    external: ['@napi-rs/keyring'],
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: false,
    keepNames: false,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
}
