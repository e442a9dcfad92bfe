// Builds the fast paths (src/fast-token.ts, src/fast-exec.ts, src/fast-info.ts and everything they import,
// the @latchkey packages included) into one self-contained CommonJS file each, dist/bundle/<name>.cjs,
// which bin/run.cjs requires. Resolving and loading some thirty files cost most of the fast path's start-up;
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
// The bundled providers' static facts, compiled into each bundle (src/host/bundled-providers.ts): read from
// the plugins' package.json files now (tsc ran first) and checked by the manifest validator, which throws
// for a manifest the full CLI would refuse.
const { readBundledProviders } = await import(
  pathToFileURL(join(root, 'dist', 'host', 'bundled-providers.js')).href
);
const bundledProviders = JSON.stringify(readBundledProviders(root));
/** src/host/bundled-providers.ts in a bundle: the facts themselves, nothing read at run time. */
const providersCompiledIn = {
  name: 'providers-compiled-in',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]host[\\/]bundled-providers\.ts$/ }, () => ({
      contents: `export function bundledProviders() { return ${bundledProviders}; }`,
      loader: 'js',
    }));
  },
};
const outdir = join(root, 'dist', 'bundle');
await rm(outdir, { recursive: true, force: true });

/**
 * A built-in imported at the top (`import ... from 'node:crypto'`, or esbuild's require() of it at the top
 * of a CommonJS bundle) is loaded (node:crypto alone compiles some fifteen internal modules) before the
 * first line runs, whether or not that run needs it. The bundle takes each built-in on first use instead, through
 * `loadBuiltin(id)`: a lower-case function export is a wrapper that loads its module when first called, so
 * an env credential never loads node:crypto, which only decrypting the file needs. Other exports (classes,
 * constants) are read when the bundle loads. Only the exports the bundle uses survive tree shaking (each is
 * marked pure).
 *
 * `loadBuiltin` is a free name in pass 1's output. In the CommonJS bundle it is `require` (`define`, and
 * the require() calls stay external); the lazy chunks, ES modules, get a `require` of their own from
 * node:module's createRequire (see below).
 */
const loadBuiltin = '__latchkeyBuiltin';
/**
 * `node:fs/promises` in the bundle: the same functions, done synchronously. Each promise-based call is a
 * round trip through libuv's thread pool and back to the event loop; reading a stored credential makes
 * a dozen in a row (checks of the directory, the index, the key file, the encrypted file), a few ms of
 * waiting in a process that has nothing else to do. The storage code keeps its API (it still awaits
 * promises); only these bundles block, and only for the files they touch. A function not listed here
 * fails the build (no matching export); a FileHandle offers the methods @latchkey/storage uses.
 */
const syncFsPromises = `
const fs = ${loadBuiltin}('node:fs');
class FileHandle {
  constructor(fd) { this.fd = fd; }
  async stat(options) { return fs.fstatSync(this.fd, options); }
  async readFile(options) { return fs.readFileSync(this.fd, options); }
  async writeFile(data, options) { fs.writeFileSync(this.fd, data, options); }
  async sync() { fs.fsyncSync(this.fd); }
  async close() { fs.closeSync(this.fd); }
}
export async function open(path, flags, mode) { return new FileHandle(fs.openSync(path, flags, mode)); }
export async function realpath(path, options) { return fs.realpathSync.native(path, options); }
${[
  'access',
  'appendFile',
  'chmod',
  'copyFile',
  'link',
  'lstat',
  'mkdir',
  'mkdtemp',
  'readdir',
  'readFile',
  'readlink',
  'rename',
  'rm',
  'rmdir',
  'stat',
  'symlink',
  'truncate',
  'unlink',
  'utimes',
  'writeFile',
]
  .map((name) => `export async function ${name}(...a) { return fs.${name}Sync(...a); }`)
  .join('\n')}
export const constants = fs.constants;
`;

const builtinsOnFirstUse = {
  name: 'builtins-on-first-use',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      // The loader's own require() in the CommonJS bundle: Node's.
      args.kind === 'require-call'
        ? { path: args.path, external: true }
        : { path: args.path, namespace: 'builtin', sideEffects: false },
    );
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
      if (args.path === 'node:fs/promises') return { contents: syncFsPromises, loader: 'js' };
      const mod = process.getBuiltinModule(args.path);
      const id = JSON.stringify(args.path);
      const lines = [
        `const id = ${id};`,
        'let m;',
        `const load = () => (m ??= ${loadBuiltin}(id));`,
        'export default /* @__PURE__ */ load();',
      ];
      for (const name of Object.keys(mod)) {
        if (!/^[A-Za-z_$][\w$]*$/.test(name) || name === 'default') continue;
        const descriptor = Object.getOwnPropertyDescriptor(mod, name);
        const lazy =
          /^[a-z]/.test(name) &&
          descriptor &&
          'value' in descriptor &&
          typeof descriptor.value === 'function';
        lines.push(
          lazy
            ? `export const ${name} = /* @__PURE__ */ (() => function ${name}(...a) { return load().${name}(...a); })();`
            : `export const ${name} = /* @__PURE__ */ (() => load().${name})();`,
        );
      }
      return { contents: lines.join('\n'), loader: 'js' };
    });
  },
};

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
  plugins: [builtinsOnFirstUse, providersCompiledIn],
};

for (const name of ['fast-token', 'fast-exec', 'fast-info']) {
  // Same depth as dist/bundle, so the source maps' relative `sources` stay right when files move over.
  const pass1 = join(root, 'dist', `.bundle-${name}`);
  await rm(pass1, { recursive: true, force: true });
  const first = await build({
    ...common,
    entryPoints: { [name]: join(root, 'src', `${name}.ts`) },
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
    define: { [loadBuiltin]: 'require' },
    stdin: { contents: lines.join('\n'), resolveDir: pass1, sourcefile: `${name}-entry.js` },
    outfile: join(outdir, `${name}.cjs`),
    plugins: [
      builtinsOnFirstUse,
      {
        name: 'lazy-chunks-stay-apart',
        setup(b) {
          b.onResolve({ filter: /\/chunks\// }, (args) => {
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
  // in the `0 && (module.exports = {...})` esbuild writes for Node). A first line defines their
  // loadBuiltin; their source maps get one empty line in front to match.
  await mkdir(join(outdir, 'chunks'), { recursive: true });
  for (const file of lazy) {
    let text = await readFile(file, 'utf8');
    for (const chunk of staticChunks) {
      text = text.replaceAll(`"./${basename(chunk)}"`, `"../${name}.cjs"`);
    }
    const header = `import{createRequire as __latchkeyCreateRequire}from"node:module";const ${loadBuiltin}=__latchkeyCreateRequire(import.meta.url);`;
    await writeFile(join(outdir, 'chunks', basename(file)), `${header}\n${text}`);
    const map = JSON.parse(await readFile(`${file}.map`, 'utf8'));
    map.mappings = `;${map.mappings}`;
    await writeFile(join(outdir, 'chunks', `${basename(file)}.map`), JSON.stringify(map));
  }
  await rm(pass1, { recursive: true, force: true });
}
