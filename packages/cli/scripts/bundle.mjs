// Builds the fast paths (src/fast/fast-token.ts, fast-exec.ts, fast-complete.ts and everything they import, the @latchkey
// packages included) and src/fast/compile-cache.ts into one self-contained CommonJS file each,
// dist/bundle/<name>.cjs, which bin/run.cjs requires. Bundling only: the code in a bundle is the code the
// unit tests run (a built-in is required where the source imports it; node:crypto, which only some paths
// need, is imported lazily by @latchkey/storage's own source). Resolving and loading some thirty files cost most of the fast path's start-up;
// one file costs one read. Nothing is resolved at run time except node: built-ins and, only on the branch
// that needs it, a package of @latchkey/cli's own dependencies: the native @napi-rs/keyring for a
// credential in the keychain, undici for an OAuth refresh.
//
// A dynamic `import()` (an OAuth refresh, the HTTP client it uses) must stay lazy: its code goes to
// dist/bundle/chunks/, loaded only when that branch runs. esbuild's code splitting does that, but it also
// moves every module the entry shares with a lazy chunk (errors, storage, ...) into a shared chunk that
// the entry imports, so the plain path would load two or three files. So each entry is built twice:
//   1. with splitting, into dist/.bundle-<name>/ (metafile: which chunks the entry imports statically);
//   2. the entry and those static chunks bundled again into ONE CommonJS file, re-exporting the chunks'
//      exports;
//      the lazy chunks are copied to dist/bundle/chunks/ with their imports of the static chunks pointed
//      at that file, so they share its module instances (one secret registry, one LatchkeyError class).
// Source maps sit next to each file (not inline): `node --enable-source-maps` shows src/ positions, and
// the e2e test reads the entry map's `sources` to check what went into the bundle.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// The bundled providers' static facts, compiled into each bundle (src/providers/bundled-providers.ts): read from
// the plugins' package.json files now (tsc ran first) and checked by the manifest validator, which throws
// for a manifest the full CLI would refuse.
const { readBundledProviders } = await import(
  pathToFileURL(join(root, 'dist', 'providers', 'bundled-providers.js')).href
);
const bundledProviders = JSON.stringify(readBundledProviders(root));
/** src/providers/bundled-providers.ts in a bundle: the facts themselves, nothing read at run time. */
const providersCompiledIn = {
  name: 'providers-compiled-in',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]providers[\\/]bundled-providers\.ts$/ }, () => ({
      contents: `export function bundledProviders() { return ${bundledProviders}; }`,
      loader: 'js',
    }));
  },
};
// The commands and flags shell completion knows (src/completion/command-table.ts), from the oclif manifests
// of @latchkey/cli (written just before this script runs) and of the plugins in its `oclif.plugins`.
const { bundledCommands } = await import(
  pathToFileURL(join(root, 'dist', 'completion', 'command-table.js')).href
);
const commandTable = JSON.stringify(bundledCommands());
/** src/completion/command-table.ts in a bundle: the table itself, nothing read at run time. */
const commandsCompiledIn = {
  name: 'commands-compiled-in',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]completion[\\/]command-table\.ts$/ }, () => ({
      contents: `export function bundledCommands() { return ${commandTable}; }`,
      loader: 'js',
    }));
  },
};
const outdir = join(root, 'dist', 'bundle');
await rm(outdir, { recursive: true, force: true });

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // Imported lazily from the installed packages (both are dependencies of @latchkey/cli): the native
  // keychain binding cannot be bundled, and undici (the HTTP client of an OAuth refresh, CommonJS) would
  // need a require() shim in the entry that the plain path would pay for.
  external: ['@napi-rs/keyring', 'undici'],
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
  // `import * as fs` then fs.missing(): a build error, not a function that is undefined at run time.
  logOverride: { 'import-is-undefined': 'error' },
  plugins: [providersCompiledIn, commandsCompiledIn],
};

for (const name of ['compile-cache', 'fast-token', 'fast-exec', 'fast-complete']) {
  // Same depth as dist/bundle, so the source maps' relative `sources` stay right when files move over.
  const pass1 = join(root, 'dist', `.bundle-${name}`);
  await rm(pass1, { recursive: true, force: true });
  const first = await build({
    ...common,
    entryPoints: { [name]: join(root, 'src', 'fast', `${name}.ts`) },
    outdir: pass1,
    entryNames: '[name]',
    chunkNames: `chunks/${name}-[name]-[hash]`,
    splitting: true,
    metafile: true,
  });
  const outputs = first.metafile.outputs;
  const abs = (file) => resolve(root, file);
  const entry = abs(relative(root, join(pass1, `${name}.js`)));
  // The files the entry loads before it runs: itself and the chunks it imports statically.
  const loaded = new Set([entry]);
  for (const pending = [entry]; pending.length > 0;) {
    const file = pending.pop();
    const key = Object.keys(outputs).find((k) => abs(k) === file);
    for (const imp of outputs[key].imports) {
      if (imp.external || imp.kind !== 'import-statement') continue;
      const target = abs(imp.path);
      if (!loaded.has(target)) {
        loaded.add(target);
        pending.push(target);
      }
    }
  }
  const lazy = Object.keys(outputs)
    .filter((k) => k.endsWith('.js'))
    .map(abs)
    .filter((file) => !loaded.has(file));
  const staticChunks = [...loaded].filter((file) => file !== entry);

  // Pass 2: one file. A chunk's export names come from esbuild and never clash with one another; a clash
  // with the entry's own export names would hide one of them, so it fails the build.
  const exportsOf = (file) => outputs[Object.keys(outputs).find((k) => abs(k) === file)].exports;
  const own = new Set(exportsOf(entry));
  for (const chunk of staticChunks) {
    const clash = exportsOf(chunk).filter((e) => own.has(e));
    if (clash.length > 0) throw new Error(`bundle ${name}: ${clash.join(', ')} exported twice`);
  }
  // CommonJS: bin/run.cjs require()s it. Loading an ES module costs Node its ESM loader (resolution,
  // module jobs, linking), some 3 ms; a CommonJS file is read and compiled, and that is all.
  const lines = [entry, ...staticChunks].map((file) => `export * from ${JSON.stringify(file)};`);
  await build({
    ...common,
    format: 'cjs',
    stdin: { contents: lines.join('\n'), resolveDir: pass1, sourcefile: `${name}-entry.js` },
    outfile: join(outdir, `${name}.cjs`),
    plugins: [
      {
        name: 'lazy-chunks-stay-apart',
        setup(b) {
          // A relative import of a lazy chunk: from the entry (`./chunks/...`) or from a static chunk
          // beside it (`./...`), e.g. the store's lazy import of the passphrase backend.
          b.onResolve({ filter: /^\.\.?\// }, (args) => {
            const file = resolve(args.resolveDir, args.path);
            if (!lazy.includes(file)) return undefined;
            return { path: `./chunks/${basename(file)}`, external: true };
          });
        },
      },
    ],
  });

  // The lazy chunks (ES modules), importing the bundle wherever they imported a static chunk: Node's ESM
  // loader gives them the very module object bin/run.cjs required (its exports found by cjs-module-lexer
  // in the `0 && (module.exports = {...})` esbuild writes for Node).
  await mkdir(join(outdir, 'chunks'), { recursive: true });
  for (const file of lazy) {
    let text = await readFile(file, 'utf8');
    for (const chunk of staticChunks) {
      text = text.replaceAll(`"./${basename(chunk)}"`, `"../${name}.cjs"`);
    }
    await writeFile(join(outdir, 'chunks', basename(file)), text);
    await writeFile(join(outdir, 'chunks', `${basename(file)}.map`), await readFile(`${file}.map`));
  }
  await rm(pass1, { recursive: true, force: true });
}
