// The `pass` store (`LATCHKEY_STORAGE=pass`): loaded only when an entry is read or written (store.ts imports
// this module lazily), so the keychain and file paths load nothing new.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExitCode, LatchkeyError, registerSecret, sanitizeLine } from '@latchkey/errors';
import { isAccountRecord } from '../account-index.js';
import { decodeBoundSecret, encodeBoundSecret, type BoundSecret } from '../bound-secret.js';
import { DOCS } from '../storage-errors.js';
import type { AccountRecord } from '../types.js';
import { PASS_FOLDER, passEntryName } from './pass-entries.js';

/** The first line of an entry is the secret (pass's own convention); this line carries the rest. */
const MARKER = 'latchkey: ';
/** Longest answer read from pass (an entry is a few hundred bytes). */
const MAX_OUTPUT = 64 * 1024;
/** pass may wait for pinentry, where a person types the GPG passphrase. */
const TIMEOUT_MS = 120_000;

/** What an entry holds besides the secret: the bound secret's fields and the account's record. */
export type PassEntry = { record: AccountRecord } & Omit<BoundSecret, 'dir'>;

export interface PassRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * One entry per account, `latchkey/<provider>/<account>` in the store, written with `pass insert
 * --multiline` and read with `pass show`; pass itself encrypts to the store's recipients (`.gpg-id`) and
 * commits when the store is a git repository. The entry is the account's record: its first line the
 * secret, its second `latchkey: ` and the v2 bound secret (base URL, refresh token, OAuth endpoints) with
 * the record's fields. An entry latchkey did not write, or one whose name and content disagree, is refused
 * (STORAGE_TAMPERED). A locked key or an absent agent is a clear error, never "not signed in".
 */
export class PassBackend {
  constructor(
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** The entry, or undefined when the store has none for the account. */
  async read(provider: string, account: string): Promise<PassEntry | undefined> {
    const name = passEntryName(provider, account);
    const file = this.file(name);
    if (!existsSync(file)) return undefined;
    const run = await this.pass(['show', name]);
    if (run.code !== 0) {
      if (/is not in the password store/.test(run.stderr)) return undefined;
      throw passFailure(this.dir, run, `read ${name}`, name);
    }
    return parseEntry(run.stdout, provider, account, file);
  }

  /** Writes (or replaces) the account's entry; pass commits it when the store is a git repository. */
  async write(record: AccountRecord, bound: Omit<BoundSecret, 'dir'>): Promise<void> {
    this.checkInitialised(record.provider);
    const name = passEntryName(record.provider, record.account);
    const meta: Record<string, unknown> = { ...record };
    delete meta.backend;
    delete meta.store;
    delete meta.baseUrl;
    const body = `${bound.secret}\n${MARKER}${JSON.stringify({ ...JSON.parse(encodeBoundSecret(bound)), account: meta })}\n`;
    const run = await this.pass(['insert', '--multiline', '--force', name], body);
    if (run.code !== 0) throw passFailure(this.dir, run, `write ${name}`, name);
  }

  /** Deletes the account's entry (pass commits it); false when there was none. */
  async remove(provider: string, account: string): Promise<boolean> {
    const name = passEntryName(provider, account);
    if (!existsSync(this.file(name))) return false;
    const run = await this.pass(['rm', '--force', name]);
    if (run.code === 0) return true;
    if (/is not in the password store/.test(run.stderr)) return false;
    throw passFailure(this.dir, run, `delete ${name}`, name);
  }

  private file(name: string): string {
    return join(this.dir, `${name}.gpg`);
  }

  /** pass needs a `.gpg-id` in the entry's folder or above it; without one it would create folders and fail. */
  private checkInitialised(provider: string): void {
    for (let dir = join(this.dir, PASS_FOLDER, provider); ; dir = dirname(dir)) {
      if (existsSync(join(dir, '.gpg-id'))) return;
      if (dir === this.dir || dirname(dir) === dir) break;
    }
    throw new LatchkeyError({
      code: 'PASS_UNAVAILABLE',
      message: `The pass store ${this.dir} is not set up: it has no .gpg-id naming whom to encrypt for.`,
      action: `Set it up with: pass init <your GPG key id> (PASSWORD_STORE_DIR=${this.dir}), or point PASSWORD_STORE_DIR at your team's store.`,
      exitCode: ExitCode.Failure,
      docs: DOCS,
    });
  }

  /** Runs pass on this store (PASSWORD_STORE_DIR set, gpg's status lines on stderr), bounded in size and time. */
  private pass(args: string[], input?: string): Promise<PassRun> {
    const gpgOpts = [this.env.PASSWORD_STORE_GPG_OPTS, '--status-fd 2'].filter(Boolean).join(' ');
    const env = { ...this.env, PASSWORD_STORE_DIR: this.dir, PASSWORD_STORE_GPG_OPTS: gpgOpts, LC_ALL: 'C' };
    return new Promise((resolve, reject) => {
      let child;
      try {
        child = spawn('pass', args, { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: TIMEOUT_MS });
      } catch (error) {
        reject(notInstalled(error));
        return;
      }
      let stdout = '';
      let stderr = '';
      let size = 0;
      const take = (chunk: Buffer, into: 'stdout' | 'stderr') => {
        size += chunk.length;
        if (size > 2 * MAX_OUTPUT) {
          child.kill('SIGKILL');
          return;
        }
        if (into === 'stdout') stdout += chunk.toString('utf8');
        else stderr += chunk.toString('utf8');
      };
      child.stdout.on('data', (chunk: Buffer) => take(chunk, 'stdout'));
      child.stderr.on('data', (chunk: Buffer) => take(chunk, 'stderr'));
      child.once('error', (error) => reject(notInstalled(error)));
      child.once('close', (code, signal) => {
        if (signal !== null && size > 2 * MAX_OUTPUT) {
          reject(passError('PASS_ERROR', `pass answered more than ${MAX_OUTPUT} bytes`, 'Check the store.'));
        } else if (signal !== null) {
          reject(
            passError(
              'PASS_TIMEOUT',
              `pass did not finish within ${TIMEOUT_MS / 1000} s (it may be waiting for a GPG passphrase)`,
              'Unlock your GPG key (run `pass show` on the entry once in a terminal), then try again.',
            ),
          );
        } else {
          resolve({ code, stdout, stderr });
        }
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(input ?? '');
    });
  }
}

/**
 * A failed pass run on the store `dir`, in words: locked key, absent agent, not a recipient, store not set
 * up, or pass's own line. gpg says "No secret key" for a key it has but cannot unlock too; its status lines
 * (`--status-fd`) tell them apart: a key it considered, or a pinentry it launched, is a locked key.
 */
export function passFailure(dir: string, run: PassRun, what: string, name: string): LatchkeyError {
  if (run.code === 127) return notInstalled(undefined);
  const status = run.stderr;
  const lines = status
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('[GNUPG:]'))
    .map((l) => sanitizeLine(l).slice(0, 300));
  const said = lines.find((l) => /^(gpg|Error|fatal|error):/i.test(l)) ?? lines[0] ?? `exit ${run.code}`;
  if (/You must run:|pass init/.test(status)) {
    return passError(
      'PASS_UNAVAILABLE',
      `The pass store ${dir} is not set up (no .gpg-id)`,
      `Set it up with: pass init <your GPG key id>, or point PASSWORD_STORE_DIR at your team's store.`,
    );
  }
  if (/DECRYPTION_FAILED|decryption failed|encryption failed|public key decryption failed/.test(status)) {
    if (/gpg-agent|connect to the agent|no agent/i.test(status)) {
      return passError(
        'PASS_AGENT',
        `GPG could not reach its agent to ${what.startsWith('read') ? 'decrypt' : 'encrypt'} ${name} (${said})`,
        'Start it (gpgconf --launch gpg-agent) or check GNUPGHOME, then try again; latchkey does not fall back to another backend.',
      );
    }
    if (/\[GNUPG:\] (KEY_CONSIDERED|PINENTRY_LAUNCHED)/.test(status)) {
      return passError(
        'PASS_LOCKED',
        `Your GPG key is locked and could not be unlocked here to read ${name} (no passphrase entry, e.g. no terminal for pinentry)`,
        `Unlock it first (run \`pass show ${name}\` in a terminal; gpg-agent then keeps it unlocked for a while), or set GPG_TTY=$(tty) so pinentry can ask; latchkey does not fall back to another backend.`,
      );
    }
    if (what.startsWith('read')) {
      return new LatchkeyError({
        code: 'PASS_NOT_RECIPIENT',
        message: `${name} in the pass store ${dir} is not encrypted for any GPG key you have (you may have been removed from the store's .gpg-id).`,
        action:
          "Ask whoever manages the store to add your key (pass init with every member's key id, then pass git push), pull it (pass git pull), or sign in yourself.",
        exitCode: ExitCode.Auth,
        docs: DOCS,
      });
    }
  }
  if (/\[GNUPG:\] INV_RECP|encryption failed|unusable public key|No public key/i.test(status)) {
    return passError(
      'PASS_ERROR',
      `pass could not ${what}: GPG cannot encrypt for a recipient in the store's .gpg-id (${said})`,
      "Import every recipient's public key and trust it (gpg --import; gpg --edit-key ID trust), then try again.",
    );
  }
  return passError(
    'PASS_ERROR',
    `pass could not ${what} (${said})`,
    'Run the same pass command by hand to see why.',
  );
}

/** Whether `pass version` runs (at most 10 s). */
export function passInstalled(env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      const child = spawn('pass', ['version'], { env, stdio: 'ignore', timeout: 10_000 });
      child.once('error', () => resolve(false));
      child.once('close', (code) => resolve(code === 0));
    } catch {
      resolve(false);
    }
  });
}

function passError(code: string, message: string, action: string): LatchkeyError {
  return new LatchkeyError({ code, message: `${message}.`, action, exitCode: ExitCode.Failure, docs: DOCS });
}

function notInstalled(cause: unknown): LatchkeyError {
  return new LatchkeyError({
    code: 'PASS_UNAVAILABLE',
    message: 'The pass command is not installed (LATCHKEY_STORAGE=pass keeps credentials in a pass store).',
    action:
      'Install pass and GnuPG (Debian/Ubuntu: apt-get install pass gnupg git; macOS: brew install pass), or choose another storage.',
    exitCode: ExitCode.Failure,
    docs: DOCS,
    cause,
  });
}

/** An entry refused: latchkey did not write it, or its name and its content disagree. */
function refused(file: string, why: string): LatchkeyError {
  return new LatchkeyError({
    code: 'STORAGE_TAMPERED',
    message: `${file} is not an entry latchkey wrote for this account (${why}); latchkey refuses to use it.`,
    action: `See who changed it (pass git log -- ${basename(dirname(file))}/${basename(file)}), then sign in again to replace it.`,
    exitCode: ExitCode.Failure,
    docs: DOCS,
  });
}

/** The entry as latchkey wrote it; anything else (or a name that disagrees with the content) is refused. */
export function parseEntry(text: string, provider: string, account: string, file: string): PassEntry {
  const [first, second] = text.split('\n');
  if (first === undefined || second === undefined || !second.startsWith(MARKER)) {
    throw refused(file, 'it has no latchkey line');
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(second.slice(MARKER.length)) as Record<string, unknown>;
  } catch {
    throw refused(file, 'its latchkey line is not JSON');
  }
  const { account: meta, ...rest } = parsed;
  const bound = decodeBoundSecret(JSON.stringify(rest));
  if ('legacy' in bound || bound.secret !== first || bound.dir !== undefined) {
    throw refused(file, 'its secret and its latchkey line disagree');
  }
  registerSecret(bound.secret);
  if (bound.refreshToken !== undefined) registerSecret(bound.refreshToken);
  const record = {
    ...(meta as Record<string, unknown>),
    backend: 'pass',
    ...(bound.baseUrl !== null && { baseUrl: bound.baseUrl }),
  };
  if (!isAccountRecord(record, ['pass']))
    throw refused(file, 'its account record is not what latchkey writes');
  if (record.provider !== provider || record.account !== account) {
    throw refused(file, `it names ${String(record.provider)} account '${String(record.account)}'`);
  }
  return { ...bound, record };
}
