import { registerSecret, usageError } from '@latchkey/errors';
import { sanitizeIdentity, type Identity } from '@latchkey/plugin-kit';
import {
  backendPlace,
  definitionEndpoints,
  resolveConfigDir,
  STRONGER_STORAGE,
  type AccountIdentity,
  type BackendName,
  type CredentialStore,
} from '@latchkey/storage';
import { isConfiguredProvider } from '../providers/configured-providers.js';
import { providerContext, resolveBaseUrl } from '../runtime/context.js';
import { chooseProvider, conflictWarning, envCredential, loadProviders } from '../providers/providers.js';
import { hintForServer, rejectedFromVariable } from '../providers/provider-facts.js';
import { localTime } from '../terminal/dates.js';
import { keychainFallbackNotice } from './keychain-notice.js';
import type { Runtime } from '../runtime/ports.js';
import { credentialStore } from '../runtime/runtime.js';
import { acquireCredential } from './credential-input.js';
import { resolveLoginOptions, type GivenLoginOptions } from './login-options.js';
import { TerminalUi } from '../terminal/terminal-ui.js';
import { methodWords } from './sign-in-method.js';

export interface LoginRequest {
  provider?: string;
  baseUrl?: string;
  withToken: boolean;
  token?: string;
  browser: boolean;
  /**
   * `--web` / `--device`: the sign-in flow; absent: the browser where one can be opened here, else device.
   * 'both': both flags were given (a usage error).
   */
  flow?: 'web' | 'device' | 'both';
  /** `--paste` (with `--web`): the person pastes the address the browser ended on. */
  paste?: boolean;
  /** Reads that address from standard input when there is no terminal (a line). */
  readRedirect?: (signal: AbortSignal) => Promise<string>;
  /** `--no-qr`: no QR code under the URL (shown only in a terminal). Default: shown. */
  qr?: boolean;
  /** `--clipboard`: copy the user code (in a terminal only). */
  clipboard?: boolean;
  /** `--json`: no terminal extras (QR, Enter to open, clipboard). */
  json?: boolean;
  /** Login options: `--client-name`/`--client-id` by flag name, and each `--option flag=value`. */
  loginOptions?: GivenLoginOptions;
  storage?: string;
  /** `--name`: the stored account name, instead of the identity the provider reports. */
  name?: string;
  /** Reads all of stdin (for --with-token). */
  readStdin: () => Promise<string>;
  /** Called when the login is the provider's silent environment check (its errors are one line). */
  onSilent?: () => void;
}

export interface LoginOutcome {
  provider: string;
  title: string;
  account: string;
  baseUrl: string;
  method: 'browser' | 'device' | 'token' | 'prompt' | 'env';
  stored: boolean;
  /** Nothing to say on success: the provider's environment token was checked (`envLogin: 'verify'`). */
  silent?: boolean;
  /** The variable that held the token a silent login checked. */
  envVariable?: string;
  backend?: BackendName;
  /** A pass account: the store it went to. */
  store?: string;
  fallbackReason?: string;
  /** The fallback in words, when it is to be shown this time (once per config dir for "no keychain"). */
  keychainNotice?: string;
  /** The account was stored before: its credential was replaced. */
  replaced?: boolean;
  /** The stored account is the provider's default now. */
  isDefault?: boolean;
  /** The provider's default when this login did not change it. */
  defaultAccount?: string;
  identity: Identity;
}

/** `auth login`: chooses the method, runs it, verifies, and stores the credential (except for --token). */
export async function login(runtime: Runtime, request: LoginRequest): Promise<LoginOutcome> {
  if (request.withToken && request.token !== undefined) {
    throw usageError('--with-token and --token cannot be used together.', 'Pass the token one way only.');
  }
  if (request.flow === 'both') {
    throw usageError('--web and --device cannot be used together.', 'Pass one of them, or neither.');
  }
  if (request.paste && request.flow !== 'web') {
    throw usageError(
      '--paste goes with --web (the browser sign-in).',
      'Run `latchkey auth login --web --paste` to paste the address the browser ended on.',
    );
  }
  if (request.flow !== undefined && (request.withToken || request.token !== undefined)) {
    throw usageError(
      `--${request.flow} and ${request.withToken ? '--with-token' : '--token'} cannot be used together.`,
      'Pass a token, or sign in with a flow.',
    );
  }
  const name = request.name === undefined ? undefined : accountName(request.name);
  const browserTimeoutMs = browserTimeout(runtime.env);
  const discovery = await loadProviders(runtime.config, runtime.env);
  const chosen = await chooseProvider(
    runtime,
    request.provider,
    new Map([...discovery.providers].map(([id, entry]) => [id, { manifest: entry.provider, entry }])),
    [...discovery.providers.keys()],
    'to sign in to',
  );
  const provider = chosen.entry.provider;
  const conflict = conflictWarning(discovery, provider.id);
  if (conflict) runtime.warn(conflict);
  const options = resolveLoginOptions(provider, request.loginOptions ?? {}, runtime.env);
  const baseUrl = resolveBaseUrl(runtime, provider, request.baseUrl);
  // Validate the storage choice before any network call.
  const store = request.token === undefined ? credentialStore(runtime, request.storage) : undefined;

  const ui = new TerminalUi(runtime, {
    browser: request.browser,
    qr: request.qr ?? true,
    clipboard: request.clipboard ?? false,
    json: request.json ?? false,
    providerTitle: provider.title,
    credentialEnvVars: [...discovery.providers.values()].flatMap((entry) => entry.provider.envVars),
    ...(request.paste && request.readRedirect !== undefined && { readRedirect: request.readRedirect }),
  });
  const ctx = providerContext(runtime, provider, baseUrl, ui, options);
  if (browserTimeoutMs !== undefined) ctx.browserTimeoutMs = browserTimeoutMs;
  const describe = (identity: Identity, method: LoginOutcome['method']): LoginOutcome => ({
    provider: provider.id,
    title: provider.title,
    account: identity.account,
    baseUrl: baseUrl.toString().replace(/\/$/, ''),
    method,
    stored: false,
    identity,
  });

  // The provider declares envLogin: 'verify': with its env token set, login only checks it, silently.
  const fromEnv = envCredential(provider, runtime.env);
  if (provider.envLogin === 'verify' && fromEnv && request.token === undefined && !request.withToken) {
    request.onSilent?.();
    registerSecret(fromEnv.token);
    const identity = await provider.verify(fromEnv.token, ctx).catch((error: unknown) => {
      throw rejectedFromVariable(error, fromEnv.variable);
    });
    return {
      ...describe(sanitizeIdentity(identity), 'env'),
      silent: true,
      envVariable: fromEnv.variable,
    };
  }

  const { token, identity, method, refreshToken } = await acquireCredential(runtime, provider, ctx, ui, {
    ...request,
    // Narrowed: 'both' was refused above.
    flow: request.flow,
  }).catch((error: unknown) => {
    throw hintForServer(error, provider, baseUrl);
  });
  const outcome = describe(identity, method);
  if (name !== undefined) outcome.account = name;
  if (!store) return outcome;
  const makeDefault = await askMakeDefault(runtime, store, provider.id, provider.title, outcome.account);
  const saved = await store.save({
    provider: provider.id,
    account: outcome.account,
    secret: token,
    baseUrl: outcome.baseUrl,
    identity: toStoredIdentity(identity),
    method,
    ...(identity.expiresAt !== undefined ? { expiresAt: identity.expiresAt } : {}),
    ...(refreshToken !== undefined && { refreshToken }),
    // A configured OAuth provider's token is bound to the endpoints that issued it (docs/storage.md).
    ...(isConfiguredProvider(provider) && { endpoints: definitionEndpoints(provider.definition) }),
    makeDefault,
  });
  outcome.stored = true;
  outcome.replaced = saved.replaced;
  outcome.isDefault = saved.isDefault;
  if (!saved.isDefault) {
    const current = (await store.list(provider.id)).find((r) => r.active)?.account;
    if (current !== undefined) outcome.defaultAccount = current;
  }
  outcome.backend = saved.record.backend;
  if (saved.record.store !== undefined) outcome.store = saved.record.store;
  if (saved.fallbackReason !== undefined) {
    outcome.fallbackReason = saved.fallbackReason;
    runtime.debug?.(`The system keychain could not be used: ${saved.fallbackReason}`);
    const notice = await keychainFallbackNotice(
      resolveConfigDir(runtime.env),
      saved.fallbackCode,
      runtime.platform,
    );
    if (notice !== undefined) outcome.keychainNotice = notice;
  }
  return outcome;
}

/**
 * `LATCHKEY_BROWSER_TIMEOUT`: how many seconds a browser sign-in waits for the browser (1 to 3600; default
 * 300). Anything else is a usage error naming the variable.
 */
export function browserTimeout(env: NodeJS.ProcessEnv): number | undefined {
  const value = env.LATCHKEY_BROWSER_TIMEOUT?.trim();
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || seconds < 1 || seconds > 3600) {
    throw usageError(
      `LATCHKEY_BROWSER_TIMEOUT must be a whole number of seconds from 1 to 3600 (got ${JSON.stringify(value.slice(0, 20))}).`,
      'Unset it for the default (300 seconds), or set e.g. LATCHKEY_BROWSER_TIMEOUT=600.',
    );
  }
  return seconds * 1000;
}

/** `--name`: one line a person can type, at most 256 characters. */
function accountName(given: string): string {
  const name = given.trim();
  // eslint-disable-next-line no-control-regex
  if (name === '' || name.length > 256 || /[\u0000-\u001f\u007f-\u009f]/.test(name)) {
    throw usageError(
      '--name must be 1 to 256 characters on one line.',
      'Pass a short name you can type later, e.g. --name work.',
    );
  }
  return name;
}

/**
 * A new account beside others: in a terminal the user says whether it becomes the default; without one it
 * does not (the summary says how to switch). An account already stored keeps its place.
 */
async function askMakeDefault(
  runtime: Runtime,
  store: CredentialStore,
  provider: string,
  title: string,
  account: string,
): Promise<boolean> {
  const stored = await store.list(provider);
  if (stored.length === 0 || stored.some((r) => r.account === account)) return false;
  if (!runtime.interactive) return false;
  const current = stored.find((r) => r.active)?.account;
  const answer = await runtime.prompter.select(`Make ${account} the default ${title} account?`, [
    { name: `Yes, use ${account} by default`, value: 'yes' },
    { name: current !== undefined ? `No, keep ${current}` : 'No', value: 'no' },
  ]);
  return answer === 'yes';
}

function toStoredIdentity(identity: Identity): AccountIdentity {
  const stored: AccountIdentity = { ...identity.details };
  if (identity.name !== undefined) stored.name = identity.name;
  if (identity.email !== undefined) stored.email = identity.email;
  if (identity.permission !== undefined) stored.permission = identity.permission;
  return stored;
}

/**
 * The human summary of a login, for stderr. A silent environment check says one line, and only to a
 * person (`terminal`: stderr is a terminal); scripts get nothing.
 */
export function describeLogin(
  outcome: LoginOutcome,
  configDir: string,
  options: { terminal?: boolean } = {},
): string[] {
  const until = outcome.identity.expiresAt ? localTime(outcome.identity.expiresAt) : undefined;
  if (outcome.silent) {
    if (!options.terminal) return [];
    const variable = outcome.envVariable ?? 'The token';
    return [
      `${variable} is valid for ${outcome.account}${until ? ` (expires ${until})` : ''}; nothing stored`,
    ];
  }
  const who = [outcome.identity.name, outcome.identity.email].filter(Boolean).join(' ');
  const expires = until ? ` (token expires ${until})` : '';
  const lines = [
    `✓ ${outcome.stored ? 'Logged in to' : 'The token is valid for'} ${outcome.title} as ${who || outcome.account}${expires}`,
  ];
  const how = methodWords(outcome.method);
  if (how !== undefined && (outcome.method === 'browser' || outcome.method === 'device'))
    lines.push(`  Signed in with ${how}.`);
  if (outcome.replaced) lines.push(`  Replaced the stored credential for ${outcome.account}.`);
  if (outcome.identity.details) {
    // Labels in one case, as in `auth status`: "Key: ...", "Credential: ...".
    for (const [key, value] of Object.entries(outcome.identity.details))
      lines.push(`  ${key.charAt(0).toUpperCase()}${key.slice(1)}: ${value}`);
  }
  if (outcome.identity.permission) lines.push(`  Permission: ${outcome.identity.permission}`);
  if (!outcome.stored) {
    lines.push('  Not stored (--token). Use --with-token to store it.');
  } else if (outcome.backend === 'keychain') {
    lines.push('  Stored in the system keychain.');
  } else {
    if (outcome.keychainNotice) lines.push(`! ${outcome.keychainNotice}`);
    const backend = outcome.backend ?? 'file';
    lines.push(`  Stored in ${backendPlace(backend, backend === 'pass' ? outcome.store : configDir)}.`);
    if (backend === 'file')
      lines.push(`  Whoever can read that directory can read the secret: ${STRONGER_STORAGE}.`);
    if (backend === 'pass')
      lines.push('  pass commits it when the store is a git repository; share it with: pass git push');
  }
  if (outcome.stored && outcome.isDefault === false) {
    const account = shellWord(outcome.account);
    lines.push(
      `  Stored as ${outcome.account}; the default stays ${outcome.defaultAccount ?? 'unchanged'}. Use it with --account ${account}, or make it the default: latchkey auth switch --provider ${outcome.provider} --account ${account}`,
    );
  }
  return lines;
}

/** An account name as it can be pasted into a shell. */
export function shellWord(value: string): string {
  return /^[\w@%+=:,./…-]+$/u.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
