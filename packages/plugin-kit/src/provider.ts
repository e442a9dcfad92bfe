import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LatchkeyError } from '@latchkey/errors';
import type { HttpClient } from '@latchkey/http';
import type { Clock, Verification } from '@latchkey/polling';

/** How `auth login` can sign in to a provider. */
export type LoginMethod = 'device' | 'token';

/** Provider-specific login flags the host forwards (`--client-name`, `--client-id`). */
export type LoginOption = 'clientName' | 'clientId';

/**
 * The static facts about a provider: everything a command needs before any network call. A plugin also
 * declares them in its package.json under `"latchkey": {"provider": {...}}`, so the host can answer
 * `auth token` without loading the plugin's code.
 */
export interface ProviderManifest {
  /** Lower-case id used with `--provider`: letters, digits and dashes, starting with a letter. */
  id: string;
  /** Human name, e.g. "NanoGPT". */
  title: string;
  /** The provider's public API origin; `--base-url` or `LATCHKEY_<ID>_BASE_URL` replace it. */
  defaultBaseUrl: string;
  /** Environment variables that hold a credential, read before stored ones and never written. */
  envVars: string[];
  /** Login methods, the first is the default. */
  methods: LoginMethod[];
  /** Provider-specific login flags this provider understands. */
  loginOptions?: LoginOption[];
  /** The provider's own variables for its server, read after `LATCHKEY_<ID>_BASE_URL` (e.g. `KANEO_API_URL`). */
  baseUrlEnvVars?: string[];
  /** Where users create or revoke credentials (shown in prompts and after logout). */
  tokenUrl?: string;
  /** One sentence on where to get a token, when a URL alone does not say it (shown at the prompt). */
  tokenHelp?: string;
  /**
   * 'verify': when one of `envVars` is set, `auth login` only validates that token, silently, and stores
   * nothing (exit 0 valid, 4 rejected), as nanoctl does. Default: `auth login` ignores the environment.
   */
  envLogin?: 'verify';
  /** Link for the provider's page in latchkey's docs. */
  docs?: string;
}

/** Ways a provider talks to the user. Providers never write to the terminal themselves. */
export interface ProviderUi {
  /** Show the user code and URL of a device flow (the host decides how, and may open a browser). */
  showVerification(verification: Verification): void | Promise<void>;
  /** A progress or result line for humans (stderr). */
  info(message: string): void;
  /** A warning for humans (stderr). */
  warn(message: string): void;
}

/** Everything a provider method receives from the host. */
export interface ProviderContext {
  /** The server to talk to: `--base-url`, `LATCHKEY_<ID>_BASE_URL`, the stored one, or the default. */
  baseUrl: URL;
  /** fetch with timeouts, cancellation, client headers and safe body parsing. */
  http: HttpClient;
  clock: Clock;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  ui: ProviderUi;
  /** Values of the login flags listed in `loginOptions`. */
  options: Partial<Record<LoginOption, string>>;
  /** The provider's human name ("NanoGPT"), for messages shared code writes on its behalf. */
  providerTitle?: string;
}

/** Who a credential belongs to, as far as the provider can tell. */
export interface Identity {
  /** Label unique within the provider (an email, a user name, a masked key). Stored in the index. */
  account: string;
  name?: string;
  email?: string;
  /** Access level, e.g. "full", "read", "limited". */
  permission?: string;
  /** ISO time after which the credential stops working. */
  expiresAt?: string;
  /** Anything else worth showing in `auth status` (never secret). */
  details?: Record<string, string>;
}

/** A credential obtained by an interactive login. */
export interface LoginResult {
  token: string;
  identity: Identity;
}

/** A provider: its static facts and the protocol code behind them. */
export interface Provider extends ProviderManifest {
  /** Rejects a value that cannot be a credential of this provider, before any network call. */
  checkTokenFormat?(token: string): void;
  /** The interactive login (device flow, browser). Needed when `methods` includes 'device'. */
  login?(ctx: ProviderContext): Promise<LoginResult>;
  /** Checks a credential with the server. Throws a `LatchkeyError` with exit 4 when it is rejected. */
  verify(token: string, ctx: ProviderContext): Promise<Identity>;
  /**
   * Revokes a credential server-side at logout, where the provider can. Resolves true when it was revoked,
   * false when this kind of credential cannot be revoked from here (it stays valid); throws when it failed.
   */
  revoke?(token: string, ctx: ProviderContext): Promise<boolean>;
}

const idPattern = /^[a-z][a-z0-9-]{1,31}$/;

/** Validates a provider definition and returns it; plugins export its result from their hook. */
export function defineProvider<P extends Provider>(provider: P): P {
  const problems = manifestProblems(provider);
  if (provider.methods.includes('device') && typeof provider.login !== 'function') {
    problems.push(`methods includes 'device' but there is no login()`);
  }
  if (typeof provider.verify !== 'function') problems.push('verify() is missing');
  if (problems.length > 0) {
    throw new LatchkeyError({
      code: 'INVALID_PROVIDER',
      message: `Provider ${JSON.stringify(provider.id)} is not valid: ${problems.join('; ')}.`,
      action: 'Fix the provider definition (see docs/plugins.md).',
    });
  }
  return provider;
}

/** What is wrong with a manifest, if anything. */
export function manifestProblems(manifest: Partial<ProviderManifest>): string[] {
  const problems: string[] = [];
  if (typeof manifest.id !== 'string' || !idPattern.test(manifest.id)) {
    problems.push(
      'id must be lower-case letters, digits and dashes, starting with a letter (2-32 characters)',
    );
  }
  if (typeof manifest.title !== 'string' || manifest.title.trim() === '') problems.push('title is missing');
  if (typeof manifest.defaultBaseUrl !== 'string' || !/^https?:\/\//.test(manifest.defaultBaseUrl)) {
    problems.push('defaultBaseUrl must be an http(s) URL');
  }
  if (!Array.isArray(manifest.envVars) || !manifest.envVars.every((v) => /^[A-Z][A-Z0-9_]*$/.test(v))) {
    problems.push('envVars must be upper-case variable names');
  }
  if (
    !Array.isArray(manifest.methods) ||
    manifest.methods.length === 0 ||
    !manifest.methods.every((m) => m === 'device' || m === 'token')
  ) {
    problems.push("methods must list 'device' and/or 'token'");
  }
  return problems;
}

/**
 * The `latchkey.provider` block of a plugin's package.json, for spreading into `defineProvider()`, so the
 * static facts the host reads without loading code and the provider's own fields can never disagree.
 * Pass `new URL('../package.json', import.meta.url)` from the provider module.
 */
export function loadManifest(packageJson: URL): ProviderManifest {
  const path = fileURLToPath(packageJson);
  const pkg = JSON.parse(readFileSync(path, 'utf8')) as { latchkey?: { provider?: ProviderManifest } };
  const manifest = pkg.latchkey?.provider;
  if (!manifest) {
    throw new LatchkeyError({
      code: 'INVALID_PROVIDER',
      message: `${path} has no "latchkey.provider" block.`,
      action: "Declare the provider's static facts there (see docs/plugins.md).",
    });
  }
  return manifest;
}

/** The env var names latchkey itself reads for a provider: `LATCHKEY_<ID>_TOKEN` and `..._BASE_URL`. */
export function latchkeyEnvName(providerId: string, suffix: 'TOKEN' | 'BASE_URL'): string {
  return `LATCHKEY_${providerId.toUpperCase().replace(/-/g, '_')}_${suffix}`;
}
