// Writes oclif.manifest.json for a plugin directory, so oclif finds commands without importing each one.
// (The `oclif manifest` dev command does the same; this avoids installing the whole oclif dev tool.)
import { writeFile } from 'node:fs/promises';
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
await writeFile(resolve(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n');
