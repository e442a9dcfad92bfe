/**
 * A runtime made of fakes for the host's unit tests: recorded stdout/stderr, scripted prompt answers, a
 * recording browser launcher, a fixed clock, a fake oclif Config whose plugins answer the
 * `latchkey:provider` hook with the given providers, and a real CredentialStore on a temp dir (file
 * storage unless a keychain is given). Nothing here touches the user's terminal, keychain or config.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '@oclif/core';
import { afterEach } from 'vitest';
import { LatchkeyError, forgetSecrets, isLatchkeyError } from '@latchkey/errors';
import type { Identity, LoginResult, Provider, ProviderContext } from '@latchkey/plugin-kit';
import { CredentialStore, type SecretBackend } from '@latchkey/storage';
import type { BrowserLauncher, OutputStream, Prompter, Runtime } from '../runtime/ports.js';
import { createRuntime } from '../runtime/runtime.js';

export interface FakePlugin {
  name: string;
  /** Bundled plugins win id conflicts. */
  type?: 'core' | 'user';
  providers: Provider[];
}

export interface FakeHostOptions {
  /** Providers of one bundled plugin, or whole plugins (for conflicts and user plugins). */
  providers?: Provider[];
  plugins?: FakePlugin[];
  env?: Record<string, string>;
  /** stdin and stderr are terminals (and CI is not set). Default false: a pipe. */
  interactive?: boolean;
  /** stdout is a terminal too (default: false, a pipe). */
  stdoutTty?: boolean;
  /** Clipboard tools that exist and succeed here, by command name. Default: none. */
  clipboardTools?: string[];
  /** The answers a person gives, in order, to select() and password() prompts. */
  answers?: string[];
  keychain?: SecretBackend;
  now?: number;
}

export interface FakeHost {
  runtime: Runtime;
  /** What reached stdout and stderr, byte for byte. */
  stdout(): string;
  stderr(): string;
  prompts: Array<{ kind: 'select' | 'password'; message: string; choices?: string[] }>;
  launched: Array<{ command: string; args: readonly string[]; env: NodeJS.ProcessEnv }>;
  /** Every clipboard tool the host ran, with what it gave on standard input. */
  clipboard: Array<{ command: string; args: readonly string[]; text: string; env: NodeJS.ProcessEnv }>;
  /** The person presses Enter (resolves a pending wait for it). */
  pressEnter(): void;
  /** A wait for Enter is pending. */
  waitingForEnter(): boolean;
  configDir: string;
  /** The same store the flows use, for seeding and for checking what was stored. */
  store: CredentialStore;
  dispose(): Promise<void>;
}

export async function fakeHost(options: FakeHostOptions = {}): Promise<FakeHost> {
  const dir = await mkdtemp(join(tmpdir(), 'latchkey-host-'));
  const configDir = join(dir, 'config');
  const env: NodeJS.ProcessEnv = {
    HOME: dir,
    LATCHKEY_CONFIG_DIR: configDir,
    LATCHKEY_CACHE_DIR: join(dir, 'cache'),
    ...(options.keychain ? {} : { LATCHKEY_STORAGE: 'file' }),
    // Plain bytes unless a test asks for colour.
    ...(options.env?.FORCE_COLOR === undefined ? { NO_COLOR: '1' } : {}),
    ...options.env,
  };
  let out = '';
  let err = '';
  const tty = options.interactive ?? false;
  const stdout: OutputStream = { write: (text) => void (out += text), isTTY: options.stdoutTty ?? false };
  const stderr: OutputStream = { write: (text) => void (err += text), isTTY: tty };
  const prompts: FakeHost['prompts'] = [];
  const answers = [...(options.answers ?? [])];
  const answer = (): string => {
    const next = answers.shift();
    if (next === undefined) throw new Error('the test gave no answer for this prompt');
    return next;
  };
  const prompter: Prompter = {
    select: async (message, choices) => {
      prompts.push({ kind: 'select', message, choices: choices.map((c) => c.name) });
      return answer();
    },
    password: async (message) => {
      prompts.push({ kind: 'password', message });
      return answer();
    },
  };
  const launched: FakeHost['launched'] = [];
  const browser: BrowserLauncher = async (command, args, launchEnv) => {
    launched.push({ command, args, env: launchEnv });
    return true;
  };
  const clipboard: FakeHost['clipboard'] = [];
  let enter: ((pressed: boolean) => void) | undefined;
  const enterKey = (signal: AbortSignal): Promise<boolean> =>
    new Promise((resolve) => {
      const finish = (pressed: boolean) => {
        enter = undefined;
        resolve(pressed);
      };
      enter = finish;
      signal.addEventListener('abort', () => finish(false), { once: true });
    });
  const plugins = options.plugins ?? [
    { name: '@latchkey/plugin-fake', type: 'core' as const, providers: options.providers ?? [] },
  ];
  const now = options.now ?? Date.parse('2026-01-01T00:00:00Z');
  const runtime = createRuntime(fakeConfig(plugins, dir), new AbortController().signal, {
    env,
    platform: 'linux',
    stdinIsTty: tty,
    stdout,
    stderr,
    prompter,
    browser,
    enterKey,
    clipboard: async (command, args, text, toolEnv) => {
      clipboard.push({ command, args, text, env: toolEnv });
      return (options.clipboardTools ?? []).includes(command);
    },
    clock: { now: () => now, sleep: async () => undefined },
    ...(options.keychain && { keychain: options.keychain }),
  });
  const store = new CredentialStore({
    configDir,
    preference: options.keychain ? 'auto' : 'file',
    ...(options.keychain && { keychain: options.keychain }),
  });
  return {
    runtime,
    stdout: () => out,
    stderr: () => err,
    prompts,
    launched,
    clipboard,
    pressEnter: () => enter?.(true),
    waitingForEnter: () => enter !== undefined,
    configDir,
    store,
    dispose: async () => {
      forgetSecrets();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The parts of oclif's Config the host reads: plugins (their package.json) and `runHook`. */
function fakeConfig(plugins: FakePlugin[], dir: string): Config {
  const pluginMap = new Map(
    plugins.map((plugin) => [
      plugin.name,
      {
        name: plugin.name,
        version: '1.0.0',
        type: plugin.type ?? 'core',
        root: join(dir, 'plugins', plugin.name),
        pjson: { name: plugin.name, latchkey: { provider: plugin.providers.map(manifestOf) } },
      },
    ]),
  );
  return {
    version: '0.0.0-test',
    dataDir: join(dir, 'data'),
    plugins: pluginMap,
    runHook: async () => ({
      successes: plugins.map((plugin) => ({
        result: plugin.providers.length === 1 ? plugin.providers[0] : plugin.providers,
        plugin: { name: plugin.name, version: '1.0.0' },
      })),
      failures: [],
    }),
  } as unknown as Config;
}

/** The static part of a provider, as its package.json declares it. */
function manifestOf(provider: Provider): Record<string, unknown> {
  const manifest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(provider)) if (typeof value !== 'function') manifest[key] = value;
  return manifest;
}

export interface FakeProviderBehaviour {
  /** Accounts the server accepts, by token. Anything else is rejected (exit 4). */
  accounts?: Record<string, Identity>;
  /** What verify() does instead: throw this error for every token. */
  verifyError?: LatchkeyError;
  /** The device login's result (methods: ['device', 'token']). */
  device?: LoginResult;
  /** revoke(): true, false, or an error to throw. Absent: the provider cannot revoke. */
  revoke?: boolean | LatchkeyError;
}

/** Every call the host made into a fake provider, in order, with the token it passed. */
export type ProviderCall = {
  call: 'verify' | 'login' | 'revoke' | 'checkTokenFormat';
  token?: string;
  baseUrl?: string;
};

/** A provider whose server is a table: what the host sends it is recorded in `calls`. */
export function fakeProvider(
  manifest: Partial<Provider> & { id: string },
  behaviour: FakeProviderBehaviour = {},
): Provider & { calls: ProviderCall[] } {
  const calls: ProviderCall[] = [];
  const provider: Provider & { calls: ProviderCall[] } = {
    title: manifest.id[0]!.toUpperCase() + manifest.id.slice(1),
    defaultBaseUrl: `https://${manifest.id}.example`,
    envVars: [`${manifest.id.toUpperCase().replace(/-/g, '_')}_API_KEY`],
    methods: behaviour.device ? ['device', 'token'] : ['token'],
    ...manifest,
    calls,
    async verify(token: string, ctx: ProviderContext) {
      calls.push({ call: 'verify', token, baseUrl: ctx.baseUrl.toString() });
      if (behaviour.verifyError) throw behaviour.verifyError;
      const identity = behaviour.accounts?.[token];
      if (!identity) throw rejected();
      return identity;
    },
  };
  if (behaviour.device) {
    const result = behaviour.device;
    provider.login = async (ctx: ProviderContext) => {
      calls.push({ call: 'login', baseUrl: ctx.baseUrl.toString() });
      return result;
    };
  }
  if (behaviour.revoke !== undefined) {
    const revoke = behaviour.revoke;
    provider.revoke = async (token: string) => {
      calls.push({ call: 'revoke', token });
      if (revoke instanceof LatchkeyError) throw revoke;
      return revoke;
    };
  }
  // The host reads these from the object itself; keep `calls` out of the manifest.
  Object.defineProperty(provider, 'calls', { enumerable: false });
  return provider;
}

export function rejected(): LatchkeyError {
  return new LatchkeyError({
    code: 'AUTH_REJECTED',
    message: 'The server rejected the token.',
    action: 'Sign in again.',
    exitCode: 4,
  });
}

/** The LatchkeyError a promise rejects with (anything else fails the test). */
export async function rejection(promise: Promise<unknown>): Promise<LatchkeyError> {
  try {
    await promise;
  } catch (error) {
    if (isLatchkeyError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail with a LatchkeyError');
}

/** A keychain that is not there (as on a server without a Secret Service): writes fail with this code. */
export function unavailableKeychain(code = 'KEYCHAIN_UNAVAILABLE'): SecretBackend {
  const fail = async (): Promise<never> => {
    throw new LatchkeyError({ code, message: 'No Secret Service is running.', exitCode: 1 });
  };
  return { name: 'keychain', get: fail, set: fail, delete: fail };
}

/**
 * Leaves the account's secret behind without its index record, as a crash between the two writes
 * does: an orphaned secret.
 */
export async function orphanAccount(configDir: string, provider: string, account: string): Promise<void> {
  const path = join(configDir, 'accounts.json');
  const index = JSON.parse(await readFile(path, 'utf8')) as {
    accounts: Array<{ provider: string; account: string }>;
    active: Record<string, string>;
  };
  index.accounts = index.accounts.filter((r) => !(r.provider === provider && r.account === account));
  if (index.active[provider] === account) delete index.active[provider];
  await writeFile(path, JSON.stringify(index));
}

/** For one test file: starts fake hosts and disposes of each once its test is over. */
export function fakeHosts(): (options: FakeHostOptions) => Promise<FakeHost> {
  const started: FakeHost[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((host) => host.dispose()));
  });
  return async (options) => {
    const host = await fakeHost(options);
    started.push(host);
    return host;
  };
}
