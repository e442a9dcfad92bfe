// Writes oclif.manifest.json for a plugin directory, so oclif finds commands without importing each one.
// (The `oclif manifest` dev command does the same; this avoids installing the whole oclif dev tool.)
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Plugin } from '@oclif/core';

const root = resolve(process.argv[2] ?? '.');
const plugin = new Plugin({
  root,
  type: 'core',
  ignoreManifest: true,
  errorOnManifestCreate: true,
  isRoot: true,
});
await plugin.load();
// Written only when it changed: a rebuild that changes no command keeps the file's modification time.
const file = resolve(root, 'oclif.manifest.json');
const text = JSON.stringify(plugin.manifest, null, 2) + '\n';
if ((await readFile(file, 'utf8').catch(() => '')) !== text) await writeFile(file, text);
