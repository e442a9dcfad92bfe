// The second half of a library package's build (`tsc -p tsconfig.build.json`, which writes only the
// declarations, then this, in the package's directory): each entry of its package.json `exports` bundled
// from src/ into dist/ by esbuild. Code two entries share goes into a chunk (one instance of every module);
// every dependency, the other @latchkey/ packages too, stays an import for Node to resolve. Bundling only:
// the code is the code the package's tests run. Node then reads a file or two per package instead of one
// per source file, some 60 fewer for every oclif command (docs/performance.md).
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const { exports } = JSON.parse(readFileSync('package.json', 'utf8'));
const entryPoints = Object.values(exports).map(({ import: file }) => {
  const source = /^\.\/dist\/(.+)\.js$/.exec(file)?.[1];
  if (!source) throw new Error(`package.json exports ${file}: expected ./dist/NAME.js`);
  return `src/${source}.ts`;
});
// JavaScript an earlier build left (tsc wrote the declarations just now).
for (const entry of readdirSync('dist', { recursive: true, withFileTypes: true })) {
  if (entry.isFile() && /\.js(\.map)?$/.test(entry.name)) rmSync(join(entry.parentPath, entry.name));
}
await build({
  entryPoints,
  outbase: 'src',
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  // Stack traces (LATCHKEY_DEBUG, node --enable-source-maps) and the CLI's own bundles map back to src/.
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
  logOverride: { 'import-is-undefined': 'error' },
});
