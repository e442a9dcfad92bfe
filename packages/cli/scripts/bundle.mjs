// Builds the fast paths (src/fast/fast-token.ts, fast-exec.ts, fast-complete.ts) and src/fast/compile-cache.ts
// into one self-contained CommonJS file each, dist/bundle/<name>.cjs, which bin/run.cjs requires: resolving
// and loading some thirty files cost most of a fast path's start-up; one file costs one read. Bundling
// only: the code in a bundle is the code the unit tests run. A dynamic `import()` of the project's own code
// (an OAuth refresh, the passphrase and pass backends) stays lazy: esbuild keeps that module in the file
// but runs it only when the branch that imports it runs. Nothing is resolved at run time except node:
// built-ins and, on the branch that needs it, the native @napi-rs/keyring or undici (an OAuth refresh).
// CommonJS: an ES module would cost Node its ESM loader, some 3 ms. Source maps sit next to each file:
// `node --enable-source-maps` shows src/ positions, and the e2e tests read their `sources`.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (file) => import(pathToFileURL(join(root, 'dist', file)).href);

/** Replaces the module at `path` (under src/) with `name()` returning `value`, computed now. */
const compiledIn = (path, name, value) => ({
  name: `${name}-compiled-in`,
  setup(b) {
    const filter = new RegExp(`[\\\\/]src[\\\\/]${path.replace('/', '[\\\\/]')}\\.ts$`);
    const contents = `export function ${name}() { return ${JSON.stringify(value)}; }`;
    b.onLoad({ filter }, () => ({ contents, loader: 'js' }));
  },
});
// The bundled providers' static facts (read from the plugins' package.json files, checked by the manifest
// validator, which throws for a manifest the full CLI would refuse) and the commands and flags shell
// completion knows (from the oclif manifests, written just before this script runs): nothing read at run time.
const { readBundledProviders } = await dist('providers/bundled-providers.js');
const { bundledCommands } = await dist('completion/command-table.js');

await build({
  absWorkingDir: root,
  entryPoints: ['compile-cache', 'fast-token', 'fast-exec', 'fast-complete'].map((name) => ({
    in: join(root, 'src', 'fast', `${name}.ts`),
    out: name,
  })),
  outdir: join(root, 'dist', 'bundle'),
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  // The native keychain binding cannot be bundled; undici (an OAuth refresh's HTTP client) is loaded from
  // @latchkey/cli's dependencies when a refresh runs.
  external: ['@napi-rs/keyring', 'undici'],
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
  // `import * as fs` then fs.missing(): a build error, not a function that is undefined at run time.
  logOverride: { 'import-is-undefined': 'error' },
  plugins: [
    compiledIn('providers/bundled-providers', 'bundledProviders', readBundledProviders(root)),
    compiledIn('completion/command-table', 'bundledCommands', bundledCommands()),
  ],
});
