import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LatchkeyError, registerSecretPrefixes } from '@latchkey/errors';
import type { HttpClient } from '@latchkey/http';
import type { Clock, Verification } from '@latchkey/polling';
import type { AuthorizationPrompt } from '@latchkey/oauth';
import { manifestProblems, type ProviderManifest } from './manifest.js';

/** Ways a provider talks to the user. Providers never write to the terminal themselves. */
export interface ProviderUi {
  /** Show the user code and URL of a device flow (the host decides how, and may open a browser). */
  showVerification(verification: Verification): void | Promise<void>;
  /** A progress or result line for humans (stderr). */
  info(message: string): void;
  /** A warning for humans (stderr). */
  warn(message: string): void;
  /**
   * Show the authorization URL of a browser sign-in and open the browser where one can be opened (the host
   * always provides it; `browserLogin()` calls it).
   */
  showAuthorization?(prompt: AuthorizationPrompt): void | Promise<void>;
  /** `--web --paste`: asks for the address the browser ended on. Absent: the loopback listener waits. */
  readRedirectUrl?(signal: AbortSignal): Promise<string>;
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
  /** Values of the login options the provider declares in `loginOptions`, by `name`, when given. */
  options: Readonly<Record<string, string>>;
  /** The provider's human name ("Acme"), for messages shared code writes on its behalf. */
  providerTitle?: string;
  /** How long a browser sign-in waits for the browser; default 5 minutes (`LATCHKEY_BROWSER_TIMEOUT`). */
  browserTimeoutMs?: number;
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
  /**
   * Set by `verify()` when it could not ask the server (it has no endpoint to ask): why, in a few words.
   * `auth status` then shows the credential as "not checked" (`validity: "unchecked"`), never as valid.
   */
  notChecked?: string;
}

/** A credential obtained by an interactive login. */
export interface LoginResult {
  token: string;
  identity: Identity;
  /**
   * An OAuth refresh token, kept in the secret store beside the token when the provider has `refresh()`;
   * with `identity.expiresAt` the host renews the token before it runs out.
   */
  refreshToken?: string;
}

/** What `refresh()` returns: the new access token, and a new refresh token when the server rotated it. */
export interface RefreshResult {
  token: string;
  /** Absent: the old refresh token stays. */
  refreshToken?: string;
  /** ISO time the new token stops working; absent: unknown (it is used until rejected). */
  expiresAt?: string;
}

/** A provider: its static facts and the protocol code behind them. */
export interface Provider extends ProviderManifest {
  /** Rejects a value that cannot be a credential of this provider, before any network call. */
  checkTokenFormat?(token: string): void;
  /** The device login. Needed when `methods` includes 'device'. */
  login?(ctx: ProviderContext): Promise<LoginResult>;
  /**
   * The browser sign-in (authorization code + PKCE on a loopback redirect; `browserLogin()` does it in a few
   * lines). Needed when `methods` includes 'browser'.
   */
  browserLogin?(ctx: ProviderContext): Promise<LoginResult>;
  /**
   * Renews a stored token with its refresh token (RFC 6749 section 6: `refreshAccessToken()` does it). The
   * host calls it under the storage lock when the token has under a minute left, once per due token across
   * every process, never retried, and records a failure so others do not send the same refresh token again
   * (docs/storage.md). `invalid_grant` must be SESSION_EXPIRED (exit 4): the person signs in again.
   */
  refresh?(credential: { token: string; refreshToken: string }, ctx: ProviderContext): Promise<RefreshResult>;
  /** Checks a credential with the server. Throws a `LatchkeyError` with exit 4 when it is rejected. */
  verify(token: string, ctx: ProviderContext): Promise<Identity>;
  /**
   * Revokes a credential server-side at logout, where the provider can. Resolves true when it was revoked,
   * false when this kind of credential cannot be revoked from here (it stays valid); throws when it failed.
   */
  revoke?(token: string, ctx: ProviderContext): Promise<boolean>;
}

/**
 * Everything wrong with a provider, one sentence each; empty when it keeps the contract. The one check of
 * the contract: `defineProvider`, the host's discovery and the conformance kit all use it.
 */
export function validateProvider(candidate: unknown): string[] {
  if (typeof candidate !== 'object' || candidate === null)
    return ['the hook did not return a provider object'];
  const problems = manifestProblems(candidate);
  const p = candidate as Partial<Provider> & Record<string, unknown>;
  if (Array.isArray(p.methods) && p.methods.includes('device') && typeof p.login !== 'function') {
    problems.push("methods includes 'device' but login() is missing");
  }
  if (Array.isArray(p.methods) && p.methods.includes('browser') && typeof p.browserLogin !== 'function') {
    problems.push("methods includes 'browser' but browserLogin() is missing");
  }
  if (typeof p.verify !== 'function') problems.push('verify() is missing');
  for (const optional of ['checkTokenFormat', 'login', 'browserLogin', 'refresh', 'revoke'] as const) {
    if (p[optional] !== undefined && typeof p[optional] !== 'function')
      problems.push(`${optional} must be a function`);
  }
  return problems;
}

/**
 * Checks a provider definition with `validateProvider()` and returns it; plugins export its result from their
 * hook. Its `secretPrefixes` are registered with redaction here too, for the plugin's own copy of the packages.
 */
export function defineProvider<P extends Provider>(provider: P): P {
  const problems = validateProvider(provider);
  if (problems.length > 0) {
    throw new LatchkeyError({
      code: 'INVALID_PROVIDER',
      message: `Provider ${JSON.stringify(provider.id)} is not valid: ${problems.join('; ')}.`,
      action: 'Fix the provider definition (see `latchkey help plugins`).',
    });
  }
  registerSecretPrefixes(provider.secretPrefixes);
  return provider;
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
      action: "Declare the provider's static facts there (see `latchkey help plugins`).",
    });
  }
  return manifest;
}
