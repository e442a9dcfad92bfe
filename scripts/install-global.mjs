// `npm run install-global` / `npm run uninstall-global`: latchkey from this clone, installed for this user
// and self-contained, so it keeps working after the clone is deleted and whatever Node (or none) is on PATH.
//
//   install:   <prefix>/share/latchkey/install/    node/bin/node      Node 22 of its own (.tools' or npm's node@22)
//                                                  lib/node_modules/  the CLI and its packages, installed by npm
//                                                  packs/             this clone's packages, packed by pnpm
//              <prefix>/bin/latchkey               a launcher: that Node running that CLI
//
// <prefix> is $PREFIX, or ~/.local. The workspace packages are packed the way a release packs them (`pnpm
// pack` turns `workspace:` ranges into versions) and installed with npm from those tarballs; everything
// else comes from the registry your npm is configured with (its cafile and proxy too). `uninstall` removes
// the launcher and the install directory, and nothing else: accounts, credentials and plugins stay.
//
// Plain Node (no dependencies, any Node npm runs on); the toolchain (scripts/setup.sh) builds first.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const prefix = process.env.PREFIX ? resolve(process.env.PREFIX) : join(homedir(), '.local');
const binDir = join(prefix, 'bin');
const launcher = join(binDir, 'latchkey');
const shareDir = join(prefix, 'share', 'latchkey');
const installDir = join(shareDir, 'install');
const MARKER = '# latchkey launcher, written by `npm run install-global`';
const NODE_MAJOR = 22;

function fail(message) {
  console.error(`latchkey install: ${message}`);
  process.exit(1);
}

/** Runs a command with its output shown; fails the install when it fails. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0)
    fail(`${[command, ...args].join(' ')} failed (exit ${result.status ?? result.signal})`);
}

function output(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

const shellQuote = (text) => `'${text.replaceAll("'", `'\\''`)}'`;

/** The workspace packages the CLI needs at run time: its `workspace:` dependencies, recursively. */
function workspaceClosure() {
  const dirs = new Map();
  for (const group of ['packages', 'plugins']) {
    for (const entry of readdirSync(join(root, group))) {
      const manifest = join(root, group, entry, 'package.json');
      if (existsSync(manifest))
        dirs.set(JSON.parse(readFileSync(manifest, 'utf8')).name, join(root, group, entry));
    }
  }
  const seen = new Set();
  const queue = [join(root, 'packages', 'cli')];
  while (queue.length > 0) {
    const dir = queue.shift();
    if (seen.has(dir)) continue;
    seen.add(dir);
    const { dependencies = {} } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const [name, range] of Object.entries(dependencies)) {
      if (!range.startsWith('workspace:')) continue;
      if (!dirs.has(name)) fail(`workspace package ${name} not found`);
      queue.push(dirs.get(name));
    }
  }
  return [...seen];
}

/** npm: the one running this script (`npm run`), run by `node`; else `npm` from PATH. */
function npmCommand(node) {
  const execPath = process.env.npm_execpath;
  if (execPath && /npm-cli\.js$/.test(execPath)) return [node, [execPath]];
  return ['npm', []];
}

/** The directory being built; removed if the install stops (a failure, Ctrl-C, SIGTERM) before it is used. */
let staging;
process.on('exit', () => {
  if (staging && existsSync(staging)) rmSync(staging, { recursive: true, force: true });
});
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
]) {
  process.on(signal, () => process.exit(code));
}

/** Node 22 of its own in `<dir>/node/bin/node`: the one the toolchain put in .tools/ (one binary), or npm's. */
function bundleNode(dir, npmEnv) {
  const node = join(dir, 'node', 'bin', 'node');
  mkdirSync(dirname(node), { recursive: true });
  const toolsNode = join(root, '.tools', 'node', 'bin', 'node');
  if (existsSync(toolsNode)) {
    copyFileSync(realpathSync(toolsNode), node);
  } else {
    const [npm, npmArgs] = npmCommand(process.execPath);
    const nodePackage = join(dir, 'node-package');
    const args = [
      'install',
      '--global',
      '--prefix',
      nodePackage,
      '--no-audit',
      '--no-fund',
      `node@${NODE_MAJOR}`,
    ];
    run(npm, [...npmArgs, ...args], { env: npmEnv });
    copyFileSync(realpathSync(join(nodePackage, 'bin', 'node')), node);
    rmSync(nodePackage, { recursive: true, force: true });
  }
  chmodSync(node, 0o755);
  const version = output(node, ['-p', 'process.versions.node']);
  if (!version || Number(version.split('.')[0]) < NODE_MAJOR) {
    fail(`the Node to install is ${version ?? 'not runnable'}, not ${NODE_MAJOR} or newer`);
  }
  return { node, version };
}

/** This clone's packages packed into `<dir>/packs`, installed with npm (and `node`) into `<dir>/lib`. */
function installPackages(dir, node, npmEnv) {
  const packs = join(dir, 'packs');
  mkdirSync(packs);
  const dependencies = {};
  for (const pkg of workspaceClosure()) {
    const before = new Set(readdirSync(packs));
    run('bash', [join(root, 'scripts', 'toolchain.sh'), 'pnpm', 'pack', '--pack-destination', packs], {
      cwd: pkg,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tarball = readdirSync(packs).find((name) => !before.has(name));
    if (!tarball) fail(`pnpm pack wrote no tarball for ${pkg}`);
    dependencies[JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).name] =
      `file:../packs/${tarball}`;
  }
  const lib = join(dir, 'lib');
  mkdirSync(lib);
  const manifest = { name: 'latchkey-installation', private: true, dependencies };
  writeFileSync(join(lib, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // Run by its own Node, so that anything built for a Node version is built for that one.
  const [npm, npmArgs] = npmCommand(node);
  run(npm, [...npmArgs, 'install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: lib,
    env: { ...npmEnv, PATH: `${dirname(node)}${delimiter}${process.env.PATH ?? ''}` },
  });
  return JSON.parse(readFileSync(join(lib, 'node_modules', '@latchkey', 'cli', 'package.json'), 'utf8'))
    .version;
}

function install() {
  run('bash', [join(root, 'scripts', 'setup.sh')], { cwd: root });
  if (existsSync(launcher) && !readFileSync(launcher, 'utf8').includes(MARKER)) {
    fail(`${launcher} exists and was not written by this command: move it away first.`);
  }
  // npm's global npmrc (cafile, proxy) is found from the Node that runs npm: the one running it here may be
  // another, so name the machine's own (as `npm run` does) before putting Node 22 first on PATH.
  const npmEnv = { ...process.env };
  if (!npmEnv.npm_config_globalconfig) {
    const globalconfig = output('npm', ['config', 'get', 'globalconfig']);
    if (globalconfig) npmEnv.npm_config_globalconfig = globalconfig;
  }

  // Built beside the install directory, then swapped in whole: a failed install leaves the old one.
  mkdirSync(shareDir, { recursive: true });
  staging = mkdtempSync(join(shareDir, '.install-'));
  chmodSync(staging, 0o755);
  const node = bundleNode(staging, npmEnv);
  const version = installPackages(staging, node.node, npmEnv);
  const commit = output('git', ['rev-parse', '--short', 'HEAD'], { cwd: root });
  const record = { version, node: node.version, commit, installedAt: new Date().toISOString() };
  writeFileSync(join(staging, 'INSTALL.json'), `${JSON.stringify(record, null, 2)}\n`);
  writeFileSync(
    join(staging, 'uninstall.sh'),
    [
      '#!/bin/sh',
      '# Removes what `npm run install-global` installed: the launcher (if it is still that one) and this directory.',
      `grep -qF ${shellQuote(MARKER)} ${shellQuote(launcher)} 2>/dev/null && rm -f ${shellQuote(launcher)}`,
      `rm -rf ${shellQuote(installDir)}`,
      'echo "latchkey uninstalled (accounts, credentials and plugins are kept)."',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  if (existsSync(installDir)) {
    const old = `${installDir}.old-${process.pid}`;
    renameSync(installDir, old);
    renameSync(staging, installDir);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(staging, installDir);
  }
  staging = undefined;

  mkdirSync(binDir, { recursive: true });
  const cli = join(installDir, 'lib', 'node_modules', '@latchkey', 'cli', 'bin', 'run.cjs');
  const script = [
    '#!/bin/sh',
    `${MARKER} from a clone of latchkey.`,
    `# Its own Node and the CLI are in ${installDir};`,
    `# \`npm run uninstall-global\` in a clone, or ${join(installDir, 'uninstall.sh')}, removes both.`,
    `exec ${shellQuote(join(installDir, 'node', 'bin', 'node'))} ${shellQuote(cli)} "$@"`,
    '',
  ].join('\n');
  const partial = `${launcher}.${process.pid}.tmp`;
  writeFileSync(partial, script, { mode: 0o755 });
  renameSync(partial, launcher);

  const shown = output(launcher, ['--version']);
  if (!shown) fail(`${launcher} --version did not run`);
  console.log(`Installed ${shown} in ${installDir}`);
  console.log(`The command: ${launcher}`);
  const onPath = (process.env.PATH ?? '').split(delimiter).some((dir) => dir && resolve(dir) === binDir);
  if (!onPath) console.log(`${binDir} is not on your PATH: add it, e.g. export PATH="${binDir}:$PATH"`);
}

function uninstall() {
  let removed = 0;
  if (existsSync(launcher)) {
    if (readFileSync(launcher, 'utf8').includes(MARKER)) {
      rmSync(launcher);
      console.log(`Removed ${launcher}`);
      removed += 1;
    } else {
      console.log(`Left ${launcher}: it was not written by \`npm run install-global\`.`);
    }
  }
  if (existsSync(join(installDir, 'INSTALL.json'))) {
    rmSync(installDir, { recursive: true, force: true });
    console.log(`Removed ${installDir}`);
    removed += 1;
  }
  if (removed === 0)
    console.log(`Nothing to remove: no latchkey installed by \`npm run install-global\` under ${prefix}.`);
  console.log(
    'Your accounts and credentials (~/.config/latchkey, the keychain) and plugins (~/.local/share/latchkey) are kept;' +
      ' `latchkey auth logout --all` before uninstalling signs out and removes the credentials.',
  );
}

const mode = process.argv[2] ?? 'install';
if (mode === 'install') install();
else if (mode === 'uninstall') uninstall();
else fail(`unknown mode ${mode} (install or uninstall)`);
