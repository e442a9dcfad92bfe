import { access, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '@oclif/core';
import { LatchkeyError, isLatchkeyError } from '@latchkey/errors';
import { manifestProblems } from '@latchkey/plugin-kit';
import {
  backendName,
  backendPlace,
  CredentialStore,
  checkConfigDir,
  createKeychainBackend,
  inspectLock,
  PASSPHRASE_FILE,
  resolveConfigDir,
  resolveStoragePreference,
  STORAGE_PREFERENCES,
  STRONGER_STORAGE,
  type BackendName,
  type LockState,
  type OrphanedSecret,
  type PassStoreState,
  type ScryptParams,
} from '@latchkey/storage';
import { isDebug } from '../runtime/environment.js';
import { loadProviders } from '../providers/providers.js';

/**
 * `latchkey doctor`: checks the set-up (Node, the config directory, where `auto` would keep secrets, proxy
 * and CA settings, each installed plugin, stale locks and orphaned secrets) and says how to fix what is
 * wrong. Everything it looks at comes through `DoctorInputs`, so tests give it fakes.
 */

/** `ok`: fine; `note`: worth knowing, nothing to fix; `problem`: needs fixing (exit 1). */
export type FindingStatus = 'ok' | 'note' | 'problem';

export interface Finding {
  check: 'node' | 'config-dir' | 'storage' | 'network' | 'plugins' | 'credentials';
  status: FindingStatus;
  message: string;
  /** What to do, for notes and problems. */
  fix?: string;
}

export interface DoctorReport {
  /** How many findings need fixing; the exit code is 1 when there are any. */
  problems: number;
  findings: Finding[];
}

/** A plugin oclif loaded, as the doctor reports it. */
export interface PluginInfo {
  name: string;
  version?: string;
  /** oclif's type: 'core' (bundled), 'user' (`plugins install`), 'link' (`plugins link`). */
  type: string;
  /** The `latchkey.provider` block of its package.json, when it declares one. */
  declared?: unknown;
}

export interface PluginInventory {
  plugins: PluginInfo[];
  /** Provider id -> the plugin that provides it. */
  providers: Map<string, string>;
  broken: Array<{ plugin: string; reason: string }>;
  conflicts: Array<{ id: string; winner: string; ignored: string[] }>;
}

export interface DoctorInputs {
  nodeVersion: string;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  configDir: string;
  /** storage's own check: 'missing', 'ok', or a STORAGE_INSECURE error naming the fix. */
  checkConfigDir(dir: string): Promise<'missing' | 'ok'>;
  /** The directory's permission bits, for the report. */
  modeOf(path: string): Promise<number | undefined>;
  /** Resolves when the system keychain answers; throws (a LatchkeyError with the reason) when it can't. */
  probeKeychain(): Promise<void>;
  /** The pass store in use (LATCHKEY_STORAGE=pass, or one stored into): its recipients, git, entries. */
  passStore(): Promise<PassStoreState | undefined>;
  /** Whether the `pass` command runs here. */
  passInstalled(): Promise<boolean>;
  /** The passphrase file: undefined when there is none; its scrypt cost and whether LATCHKEY_FILE_PASSPHRASE opens it. */
  passphraseFile(): Promise<{ params: ScryptParams; opens: boolean | undefined } | undefined>;
  exists(path: string): Promise<boolean>;
  /** The user's npmrc text, if any (only its `cafile` line is read). */
  userNpmrc(): Promise<string | undefined>;
  plugins(): Promise<PluginInventory>;
  /** Stored accounts (provider and name only; no secret is read). */
  accounts(): Promise<Array<{ provider: string; account: string; backend: BackendName }>>;
  orphans(): Promise<OrphanedSecret[]>;
  lock(dir: string): Promise<LockState>;
}

export async function runDoctor(given: DoctorInputs): Promise<DoctorReport> {
  // The keychain is asked once, however many findings need its answer.
  let probe: Promise<void> | undefined;
  const inputs = { ...given, probeKeychain: () => (probe ??= given.probeKeychain()) };
  const findings: Finding[] = [checkNode(inputs.nodeVersion)];
  const dirState = await checkDirectory(inputs, findings);
  findings.push(await checkStorage(inputs));
  if (dirState === 'ok') findings.push(...(await checkBackendsInUse(inputs)));
  findings.push(...(await checkNetwork(inputs)));
  const inventory = await inputs.plugins();
  findings.push(...checkPlugins(inventory));
  if (dirState === 'ok') findings.push(...(await checkCredentials(inputs, inventory)));
  return { problems: findings.filter((f) => f.status === 'problem').length, findings };
}

function checkNode(version: string): Finding {
  const major = Number(version.split('.')[0]);
  if (major >= 22) return { check: 'node', status: 'ok', message: `Node ${version}` };
  return {
    check: 'node',
    status: 'problem',
    message: `Node ${version} is too old: latchkey needs Node 22 or newer.`,
    fix: 'Install Node 22 or newer (https://nodejs.org, or your version manager), then reinstall latchkey.',
  };
}

async function checkDirectory(inputs: DoctorInputs, findings: Finding[]): Promise<'missing' | 'ok' | 'bad'> {
  const dir = inputs.configDir;
  try {
    if ((await inputs.checkConfigDir(dir)) === 'missing') {
      findings.push({
        check: 'config-dir',
        status: 'ok',
        message: `Config directory ${dir} does not exist yet (created, mode 700, at the first sign-in).`,
      });
      return 'missing';
    }
    const mode = await inputs.modeOf(dir);
    const shown = mode === undefined ? '' : ` (mode ${(mode & 0o777).toString(8).padStart(3, '0')})`;
    findings.push({ check: 'config-dir', status: 'ok', message: `Config directory ${dir}${shown}` });
    return 'ok';
  } catch (error) {
    findings.push(problemFrom('config-dir', error, `Check that you own '${dir}' and it has mode 700.`));
    return 'bad';
  }
}

async function checkStorage(inputs: DoctorInputs): Promise<Finding> {
  let preference;
  try {
    preference = resolveStoragePreference(undefined, inputs.env);
  } catch (error) {
    return problemFrom(
      'storage',
      error,
      `Set LATCHKEY_STORAGE to one of ${STORAGE_PREFERENCES.join(', ')}, or unset it.`,
    );
  }
  if (preference === 'file') {
    return {
      check: 'storage',
      status: 'note',
      message:
        'Storage: the file backend (LATCHKEY_STORAGE=file), protected by its permissions only: the key sits beside it, so whoever can read the config directory can read the secrets. The keychain is not tried.',
      fix: `Nothing to fix if the file modes are protection enough; ${STRONGER_STORAGE}.`,
    };
  }
  if (preference === 'passphrase') return checkPassphraseFile(inputs);
  if (preference === 'pass') return checkPassStore(inputs);
  try {
    await inputs.probeKeychain();
    return {
      check: 'storage',
      status: 'ok',
      message:
        preference === 'auto'
          ? 'Storage: auto picks the system keychain (it answered).'
          : 'Storage: the system keychain (LATCHKEY_STORAGE=keychain); it answered.',
    };
  } catch (error) {
    const reason = keychainReason(error, inputs.platform, isDebug(inputs.env));
    const action = isLatchkeyError(error) ? error.action : undefined;
    if (preference === 'keychain') {
      return {
        check: 'storage',
        status: 'problem',
        message: `Storage: LATCHKEY_STORAGE=keychain, but the system keychain cannot be used: ${reason}`,
        fix: `${action ? `${action}, or s` : 'S'}et LATCHKEY_STORAGE=auto to fall back to ${backendPlace('file')}.`,
      };
    }
    return {
      check: 'storage',
      status: 'note',
      message: `Storage: auto picks ${backendPlace('file')} here, because the system keychain cannot be used: ${reason}`,
      fix: `Nothing to fix if the file modes are protection enough (set LATCHKEY_STORAGE=file to make it the default and skip the keychain); ${STRONGER_STORAGE}, or start or unlock the keychain.`,
    };
  }
}

/**
 * Where the stored accounts are, one line per backend that holds any, with its health: the file backend
 * is a warning with the way out (`auth migrate`); the keychain, the passphrase file and the pass store are
 * checked as the preference's finding checks them (a backend that finding already checked is only counted).
 */
async function checkBackendsInUse(inputs: DoctorInputs): Promise<Finding[]> {
  let accounts;
  try {
    accounts = await inputs.accounts();
  } catch {
    return []; // The credential checks report why the index can't be read.
  }
  let preference: string;
  try {
    preference = resolveStoragePreference(undefined, inputs.env);
  } catch {
    preference = 'invalid';
  }
  const findings: Finding[] = [];
  for (const backend of ['keychain', 'file', 'passphrase', 'pass'] as const) {
    const count = accounts.filter((a) => a.backend === backend).length;
    if (count === 0) continue;
    const n = `${count} account${count === 1 ? '' : 's'}`;
    const checked = preference === backend || (preference === 'auto' && backend === 'keychain');
    const ok = (message: string): Finding => ({ check: 'storage', status: 'ok', message });
    if (backend === 'file') {
      findings.push({
        check: 'storage',
        status: 'note',
        message: `Stored: ${n} in the file backend, protected by its permissions only (the key sits beside it).`,
        fix: 'Move them somewhere stronger: latchkey auth migrate --to passphrase (or --to keychain, --to pass).',
      });
    } else if (checked) {
      findings.push(ok(`Stored: ${n} in ${backendName(backend)}.`));
    } else if (backend === 'keychain') {
      try {
        await inputs.probeKeychain();
        findings.push(ok(`Stored: ${n} in the system keychain (it answered).`));
      } catch (error) {
        const action = isLatchkeyError(error) ? error.action : undefined;
        findings.push({
          check: 'storage',
          status: 'problem',
          message: `Stored: ${n} in the system keychain, which cannot be used: ${keychainReason(error, inputs.platform, isDebug(inputs.env))}`,
          fix: `${action ? `${action}; or m` : 'Start or unlock it; or m'}ove them once it answers: latchkey auth migrate --to passphrase`,
        });
      }
    } else if (backend === 'passphrase') {
      const file = join(inputs.configDir, PASSPHRASE_FILE);
      let state: Awaited<ReturnType<DoctorInputs['passphraseFile']>> | Error;
      try {
        state = await inputs.passphraseFile();
      } catch (error) {
        state = error instanceof Error ? error : new Error(String(error));
      }
      if (state === undefined || state instanceof Error) {
        findings.push({
          check: 'storage',
          status: 'problem',
          message: `Stored: ${n} in the passphrase file, but ${state instanceof Error ? state.message : `${file} is missing.`}`,
          fix:
            isLatchkeyError(state) && state.action
              ? state.action
              : 'Put the file back, or sign in to those accounts again.',
        });
      } else {
        const cost = `scrypt N=${state.params.N}, r=${state.params.r}, p=${state.params.p}`;
        findings.push(
          state.opens === false
            ? {
                check: 'storage',
                status: 'problem',
                message: `Stored: ${n} in the passphrase file ${file} (${cost}), but LATCHKEY_FILE_PASSPHRASE does not open it.`,
                fix: 'Set LATCHKEY_FILE_PASSPHRASE to the passphrase the file was created with (or last changed to with latchkey auth passphrase).',
              }
            : ok(`Stored: ${n} in the passphrase file ${file} (${cost}).`),
        );
      }
    } else {
      const state = await inputs.passStore();
      const installed = await inputs.passInstalled();
      const where = state === undefined ? 'the pass store' : `the pass store ${state.dir}`;
      const problem = !installed
        ? 'the pass command is not installed'
        : state?.recipients === undefined || state.recipients.length === 0
          ? 'it has no .gpg-id'
          : undefined;
      findings.push(
        problem === undefined
          ? ok(`Stored: ${n} in ${where}.`)
          : {
              check: 'storage',
              status: 'problem',
              message: `Stored: ${n} in ${where}, but ${problem}.`,
              fix: installed
                ? "Point PASSWORD_STORE_DIR at the store that holds them (git clone your team's store)."
                : 'Install pass and GnuPG (Debian/Ubuntu: apt-get install pass gnupg git; macOS: brew install pass).',
            },
      );
    }
  }
  return findings;
}

/** LATCHKEY_STORAGE=pass: pass installed, the store set up (.gpg-id), shared through git or not. */
async function checkPassStore(inputs: DoctorInputs): Promise<Finding> {
  const state = await inputs.passStore();
  if (!(await inputs.passInstalled())) {
    return {
      check: 'storage',
      status: 'problem',
      message: 'Storage: LATCHKEY_STORAGE=pass, but the pass command is not installed.',
      fix: 'Install pass and GnuPG (Debian/Ubuntu: apt-get install pass gnupg git; macOS: brew install pass), or choose another storage.',
    };
  }
  if (state === undefined || state.recipients === undefined || state.recipients.length === 0) {
    const dir = state?.dir ?? 'the pass store';
    return {
      check: 'storage',
      status: 'problem',
      message: `Storage: the pass store ${dir} (LATCHKEY_STORAGE=pass) is not set up: it has no .gpg-id naming whom to encrypt for.`,
      fix: `Set it up with: pass init <your GPG key id>, or point PASSWORD_STORE_DIR at your team's store (git clone it).`,
    };
  }
  const who = `${state.recipients.length} recipient${state.recipients.length === 1 ? '' : 's'} in .gpg-id`;
  const entries = `${state.entries} latchkey entr${state.entries === 1 ? 'y' : 'ies'}`;
  return {
    check: 'storage',
    status: 'ok',
    message: `Storage: the pass store ${state.dir} (LATCHKEY_STORAGE=pass): ${who}, ${entries}, ${state.git ? "a git repository (share with pass git push; pass git pull for the team's changes)" : 'not a git repository (pass git init to share it)'}.`,
  };
}

/** LATCHKEY_STORAGE=passphrase: the file's cost, and whether the passphrase at hand opens it. */
async function checkPassphraseFile(inputs: DoctorInputs): Promise<Finding> {
  const file = join(inputs.configDir, PASSPHRASE_FILE);
  const source =
    (inputs.env.LATCHKEY_FILE_PASSPHRASE ?? '') !== ''
      ? 'LATCHKEY_FILE_PASSPHRASE'
      : 'a prompt in a terminal (without one, set LATCHKEY_FILE_PASSPHRASE)';
  let state;
  try {
    state = await inputs.passphraseFile();
  } catch (error) {
    return problemFrom('storage', error, `Move '${file}' aside and sign in again.`);
  }
  if (state === undefined) {
    return {
      check: 'storage',
      status: 'ok',
      message: `Storage: the passphrase file (LATCHKEY_STORAGE=passphrase), not created yet: the first sign-in creates ${file}, its key from ${source}.`,
    };
  }
  const cost = `scrypt N=${state.params.N}, r=${state.params.r}, p=${state.params.p}`;
  if (state.opens === false) {
    return {
      check: 'storage',
      status: 'problem',
      message: `Storage: LATCHKEY_FILE_PASSPHRASE does not open the passphrase file ${file} (${cost}).`,
      fix: 'Set LATCHKEY_FILE_PASSPHRASE to the passphrase the file was created with (or last changed to with latchkey auth passphrase).',
    };
  }
  return {
    check: 'storage',
    status: 'ok',
    message: `Storage: the passphrase file ${file} (LATCHKEY_STORAGE=passphrase, ${cost}), its key from ${source}${state.opens ? ', which opens it' : ''}.`,
  };
}

/** Why the keychain cannot be used, in words (the raw keychain error only with LATCHKEY_DEBUG). */
function keychainReason(error: unknown, platform: NodeJS.Platform, debug: boolean): string {
  const code = isLatchkeyError(error) ? error.code : undefined;
  const raw = error instanceof Error ? error.message : String(error);
  const words =
    code === 'KEYCHAIN_LOCKED'
      ? 'it is locked.'
      : code === 'KEYCHAIN_TIMEOUT'
        ? 'it did not answer in time.'
        : code === 'KEYCHAIN_UNAVAILABLE'
          ? platform === 'darwin' || platform === 'win32'
            ? 'it is not available here.'
            : 'no system keychain is running here (no Secret Service on D-Bus).'
          : raw;
  return debug && words !== raw ? `${words} (${raw})` : words;
}

const proxyVariables = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'] as const;

/** A proxy URL without its password (a proxy URL may carry user:password). */
function shownProxy(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.username || url.password) {
      url.username = '***';
      url.password = '';
    }
    return url.href;
  } catch {
    return undefined;
  }
}

async function checkNetwork(inputs: DoctorInputs): Promise<Finding[]> {
  const { env } = inputs;
  const findings: Finding[] = [];
  const proxies = proxyVariables.filter((name) => env[name]?.trim());
  for (const name of proxies) {
    const shown = shownProxy(env[name]!.trim());
    findings.push(
      shown === undefined
        ? {
            check: 'network',
            status: 'problem',
            message: `${name} is not a URL, so requests cannot go through it.`,
            fix: `Set ${name} to a URL such as http://proxy.example.com:3128, or unset it.`,
          }
        : { check: 'network', status: 'ok', message: `Proxy: ${name}=${shown}` },
    );
  }
  const noProxy = env.NO_PROXY ?? env.no_proxy;
  if (proxies.length === 0) {
    findings.push({
      check: 'network',
      status: 'ok',
      message: 'Proxy: none set (HTTPS_PROXY, HTTP_PROXY); requests go direct.',
    });
  } else if (noProxy?.trim()) {
    findings.push({
      check: 'network',
      status: 'ok',
      message: `Proxy: not used for NO_PROXY=${noProxy.trim()}`,
    });
  }
  const extra = env.NODE_EXTRA_CA_CERTS?.trim();
  if (extra) {
    findings.push(
      (await inputs.exists(extra))
        ? {
            check: 'network',
            status: 'ok',
            message: `CA: NODE_EXTRA_CA_CERTS=${extra} (trusted besides Node's own CAs)`,
          }
        : {
            check: 'network',
            status: 'problem',
            message: `CA: NODE_EXTRA_CA_CERTS names ${extra}, which cannot be read.`,
            fix: 'Point NODE_EXTRA_CA_CERTS at your CA bundle (a PEM file), or unset it.',
          },
    );
  }
  const cafile =
    env.npm_config_cafile?.trim() || env.NPM_CONFIG_CAFILE?.trim() || npmrcCafile(await inputs.userNpmrc());
  if (cafile) {
    findings.push(
      (await inputs.exists(cafile))
        ? {
            check: 'network',
            status: 'ok',
            message: `CA: npm's cafile ${cafile} (used by \`latchkey plugins install\`)`,
          }
        : {
            check: 'network',
            status: 'problem',
            message: `CA: npm's cafile names ${cafile}, which cannot be read; plugin installs will fail.`,
            fix: 'Fix the path with `npm config set cafile <file>`, or remove it with `npm config delete cafile`.',
          },
    );
  }
  return findings;
}

/** The `cafile=` line of an npmrc, if any (`${VAR}` references are left as they are). */
export function npmrcCafile(text: string | undefined): string | undefined {
  const match = text?.match(/^\s*cafile\s*=\s*(.+?)\s*$/m);
  return match?.[1]?.replace(/^"(.*)"$/, '$1') || undefined;
}

function checkPlugins(inventory: PluginInventory): Finding[] {
  const findings: Finding[] = [];
  const provided = (plugin: string) =>
    [...inventory.providers]
      .filter(([, p]) => p === plugin)
      .map(([id]) => id)
      .sort();
  const brokenBy = new Map<string, string[]>();
  for (const b of inventory.broken) brokenBy.set(b.plugin, [...(brokenBy.get(b.plugin) ?? []), b.reason]);
  for (const plugin of inventory.plugins) {
    const reasons = [...(brokenBy.get(plugin.name) ?? [])];
    if (plugin.declared !== undefined) {
      const list = Array.isArray(plugin.declared) ? plugin.declared : [plugin.declared];
      for (const manifest of list) {
        const problems = manifestProblems(manifest);
        if (problems.length > 0)
          reasons.push(`its package.json "latchkey.provider" is not valid: ${problems.join('; ')}`);
      }
    }
    const label = `${plugin.name}${plugin.version ? `@${plugin.version}` : ''}`;
    const kind = plugin.type === 'core' ? 'bundled' : plugin.type === 'link' ? 'linked' : 'installed';
    if (reasons.length > 0) {
      findings.push({
        check: 'plugins',
        status: 'problem',
        message: `Plugin ${label} (${kind}) is broken: ${reasons.join('; ')}`,
        fix:
          plugin.type === 'core'
            ? 'Reinstall latchkey (npm install -g @latchkey/cli).'
            : plugin.type === 'link'
              ? `Fix and rebuild the plugin, or unlink it: latchkey plugins unlink ${plugin.name}`
              : `Update or reinstall it (latchkey plugins install ${plugin.name}), or remove it: latchkey plugins uninstall ${plugin.name}`,
      });
      continue;
    }
    const ids = provided(plugin.name);
    if (ids.length > 0) {
      findings.push({
        check: 'plugins',
        status: 'ok',
        message: `Plugin ${label} (${kind}): ${ids.join(', ')}`,
      });
    } else if (plugin.type !== 'core') {
      findings.push({
        check: 'plugins',
        status: 'note',
        message: `Plugin ${label} (${kind}) provides no provider.`,
        fix: `Nothing to fix if it adds commands only; otherwise remove it: latchkey plugins uninstall ${plugin.name}`,
      });
    }
  }
  for (const c of inventory.conflicts) {
    findings.push({
      check: 'plugins',
      status: 'note',
      message: `Provider id "${c.id}" is claimed by ${[c.winner, ...c.ignored].join(' and ')}; ${c.winner} is used.`,
      fix: `Uninstall the other plugin to silence this: latchkey plugins uninstall ${c.ignored[0]}`,
    });
  }
  return findings;
}

async function checkCredentials(inputs: DoctorInputs, inventory: PluginInventory): Promise<Finding[]> {
  const findings: Finding[] = [];
  try {
    const lock = await inputs.lock(inputs.configDir);
    if (lock.state === 'stale') {
      const who =
        lock.holder.pid === undefined
          ? 'an older latchkey'
          : `process ${lock.holder.pid}${lock.holder.hostname ? ` on ${lock.holder.hostname}` : ''}`;
      findings.push({
        check: 'credentials',
        status: 'problem',
        message: `A stale lock ${lock.path} was left by ${who}, which is no longer running.`,
        fix: `Remove it: rm '${lock.path}' (the next sign-in would also break it).`,
      });
    } else if (lock.state === 'held') {
      findings.push({
        check: 'credentials',
        status: 'note',
        message: `Another latchkey process${lock.holder.pid === undefined ? '' : ` (pid ${lock.holder.pid})`} holds the lock ${lock.path} right now.`,
        fix: 'Nothing to do unless it stays: run doctor again when that command has finished.',
      });
    }
    const accounts = await inputs.accounts();
    const missing = new Map<string, string[]>();
    for (const { provider, account } of accounts) {
      if (!inventory.providers.has(provider))
        missing.set(provider, [...(missing.get(provider) ?? []), account]);
    }
    for (const [provider, names] of missing) {
      findings.push({
        check: 'credentials',
        status: 'problem',
        message: `Credentials for "${provider}" are stored (${names.join(', ')}), but no installed plugin provides it.`,
        fix: `Reinstall its plugin (latchkey plugins install <package>), or remove them: latchkey auth logout --provider ${provider} --all`,
      });
    }
    for (const orphan of await inputs.orphans()) {
      findings.push({
        check: 'credentials',
        status: 'problem',
        message: `A secret for ${orphan.provider} account '${orphan.account}' in ${backendPlace(orphan.backend)} has no record (left by an interrupted write).`,
        fix: `Remove it: latchkey auth logout --provider ${orphan.provider} --all`,
      });
    }
    if (findings.every((f) => f.status !== 'problem')) {
      findings.push({
        check: 'credentials',
        status: 'ok',
        message: `Stored credentials: ${accounts.length} account${accounts.length === 1 ? '' : 's'}, no stale lock, no orphaned secret.`,
      });
    }
  } catch (error) {
    findings.push(
      problemFrom(
        'credentials',
        error,
        `Check that '${inputs.configDir}' and its files are yours and readable.`,
      ),
    );
  }
  return findings;
}

function problemFrom(check: Finding['check'], error: unknown, fallbackFix: string): Finding {
  if (isLatchkeyError(error)) {
    return { check, status: 'problem', message: error.message, fix: error.action ?? fallbackFix };
  }
  return {
    check,
    status: 'problem',
    message: error instanceof Error ? error.message : String(error),
    fix: fallbackFix,
  };
}

/** The report for people (stdout): one line per finding with its mark, the fix indented below. */
export function describeDoctor(report: DoctorReport): string {
  const mark = { ok: '✓', note: '!', problem: '✗' } as const;
  const lines: string[] = [];
  for (const f of report.findings) {
    lines.push(`${mark[f.status]} ${f.message}`);
    if (f.fix && f.status !== 'ok') lines.push(`    Fix: ${f.fix}`);
  }
  lines.push(
    '',
    report.problems === 0
      ? 'No problems found.'
      : `${report.problems} problem${report.problems === 1 ? '' : 's'} to fix (see "Fix:" above).`,
  );
  return `${lines.join('\n')}\n`;
}

/** The real inputs: the running config's plugins, storage's own checks, this process's environment. */
export function doctorInputs(config: Config, env: NodeJS.ProcessEnv): DoctorInputs {
  const configDir = resolveConfigDir(env);
  const preference = (() => {
    try {
      return resolveStoragePreference(undefined, env);
    } catch {
      return 'auto' as const;
    }
  })();
  const store = () => new CredentialStore({ configDir, preference, env });
  return {
    nodeVersion: process.versions.node,
    env,
    platform: process.platform,
    configDir,
    checkConfigDir,
    modeOf: async (path) => (await stat(path).catch(() => undefined))?.mode,
    probeKeychain: async () => {
      // A read of a key nobody writes: it answers (undefined) or throws with the reason. A keychain that
      // waits for someone to unlock it gets 5 s, not the 30 s a login allows.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new LatchkeyError({ code: 'KEYCHAIN_TIMEOUT', message: 'The keychain did not answer in 5 s.' }),
            ),
          5000,
        );
      });
      try {
        await Promise.race([createKeychainBackend().get('latchkey-doctor:probe'), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    passphraseFile: () => store().passphraseFileState(),
    passStore: () => store().passStore(),
    passInstalled: () => store().passInstalled(),
    exists: async (path) =>
      access(path).then(
        () => true,
        () => false,
      ),
    userNpmrc: async () =>
      readFile(
        env.npm_config_userconfig || env.NPM_CONFIG_USERCONFIG || join(env.HOME || homedir(), '.npmrc'),
        'utf8',
      ).catch(() => undefined),
    plugins: async () => {
      const discovery = await loadProviders(config, process.env, { listInsecure: true });
      return {
        plugins: [...config.plugins.values()].map((p) => {
          const declared = (p.pjson as { latchkey?: { provider?: unknown } }).latchkey?.provider;
          return {
            name: p.name,
            type: p.type,
            ...(p.version ? { version: p.version } : {}),
            ...(declared !== undefined ? { declared } : {}),
          };
        }),
        providers: new Map([...discovery.providers].map(([id, entry]) => [id, entry.plugin])),
        broken: discovery.broken,
        conflicts: discovery.conflicts,
      };
    },
    accounts: async () =>
      (await store().list()).map((r) => ({ provider: r.provider, account: r.account, backend: r.backend })),
    orphans: () => store().orphans({ keychain: 'if-used' }),
    lock: (dir) => inspectLock(dir),
  };
}
