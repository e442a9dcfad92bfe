// What `auth token`'s fast path needs to pick a provider and its credential, kept apart from discovery
// so that path loads no plugin code, no HTTP client and no prompt library.
import { ExitCode, isLatchkeyError, LatchkeyError, usageError } from '@latchkey/errors';
import { latchkeyEnvName, type ProviderManifest } from '@latchkey/plugin-kit/manifest';
import { checkTokenInput } from '@latchkey/plugin-kit/token-input';
import { parseBaseUrl } from '@latchkey/http/url';
import { readProviderDefinitions, resolveConfigDir, type ProviderDefinition } from '@latchkey/storage';
import type { Runtime } from '../runtime/ports.js';
import { suggestName } from '../terminal/suggest.js';

/** A provider's static facts as declared in its plugin's package.json, read without loading its code. */
export interface StaticProvider {
  manifest: ProviderManifest;
  plugin: string;
}

/**
 * The provider manifests a plugin's package.json declares (`latchkey.provider`: one or a list), unchecked:
 * every reader runs them through the manifest validator.
 */
export function declaredManifests(pjson: unknown): ProviderManifest[] {
  const declared = (pjson as { latchkey?: { provider?: unknown } } | undefined)?.latchkey?.provider;
  return (
    Array.isArray(declared) ? declared : declared === undefined ? [] : [declared]
  ) as ProviderManifest[];
}

/** What `auth providers` shows as the plugin of a provider added by configuration (providers.json). */
export const configuredPlugin = 'configured';

/**
 * The static facts of a configured provider: a browser sign-in where the server has an authorization
 * endpoint, a device login where it has a device authorization endpoint, or a token given by hand.
 */
export function configuredManifest(name: string, definition: ProviderDefinition): ProviderManifest {
  return {
    id: name,
    title: name,
    defaultBaseUrl: definition.baseUrl,
    envVars: [],
    methods: [
      ...(definition.authorizationUrl !== undefined ? (['browser'] as const) : []),
      ...(definition.deviceAuthorizationUrl !== undefined ? (['device'] as const) : []),
      'token',
    ],
    // `exec --provider NAME` gives the program LATCHKEY_<NAME>_TOKEN, the variable latchkey itself reads.
    execEnv: { [latchkeyEnvName(name, 'TOKEN')]: 'token' },
  };
}

/**
 * The configured providers' static facts, read from providers.json with its owner and mode checks (no
 * network, no OAuth code): the full CLI and the fast paths read the file itself, never a copy.
 */
export async function configuredStaticProviders(
  env: NodeJS.ProcessEnv,
): Promise<Map<string, StaticProvider>> {
  const definitions = await readProviderDefinitions(resolveConfigDir(env));
  return new Map(
    [...definitions].map(([name, definition]) => [
      name,
      { manifest: configuredManifest(name, definition), plugin: configuredPlugin },
    ]),
  );
}

/**
 * The credential in the environment for a provider, if any: its own variables, then `LATCHKEY_<ID>_TOKEN`.
 * Reading `token` checks the value like every token input (a usage error naming the variable, before any
 * provider code or request); callers that only name the variable (logout's "unset it") are not stopped.
 * A value that is a `latchkey://` reference is refused there too (docs/environment.md).
 */
export function envCredential(
  manifest: ProviderManifest,
  env: NodeJS.ProcessEnv,
): { readonly token: string; readonly variable: string } | undefined {
  for (const variable of credentialVariables(manifest)) {
    const value = env[variable]?.trim();
    if (!value) continue;
    return {
      variable,
      get token() {
        if (value.startsWith('latchkey://')) throw referenceInCredentialVariable(variable, manifest.id);
        checkTokenInput(value, variable);
        return value;
      },
    };
  }
  return undefined;
}

/**
 * A credential from `variable` that the server rejected: the same error, with the one fix that helps while
 * the variable wins over every stored account (signing in again changes nothing). Other errors unchanged.
 */
export function rejectedFromVariable(error: unknown, variable: string): unknown {
  if (!isLatchkeyError(error) || error.exitCode !== ExitCode.Auth || !('withAction' in error)) return error;
  return error.withAction(
    `The credential comes from ${variable}, which wins over any stored account: fix its value, or unset it (\`unset ${variable}\`) to use a stored one.`,
  );
}

/** True when `baseUrl` is the provider's own default server (same origin). */
export function isDefaultServer(provider: { defaultBaseUrl: string }, baseUrl: URL | string): boolean {
  try {
    return new URL(baseUrl).origin === new URL(provider.defaultBaseUrl).origin;
  } catch {
    return false;
  }
}

/**
 * `error` with every `latchkey auth login --provider ID` in its action naming the server it is about
 * (`--base-url URL` added when that is not the provider's default), so following the hint signs in to the
 * same server, not the public one. Other errors unchanged.
 */
export function hintForServer(
  error: unknown,
  provider: { id: string; defaultBaseUrl: string },
  baseUrl: URL | string,
): unknown {
  if (!isLatchkeyError(error) || error.action === undefined || isDefaultServer(provider, baseUrl))
    return error;
  const plain = `latchkey auth login --provider ${provider.id}`;
  const url = String(baseUrl).replace(/\/$/, '');
  const action = error.action.replace(
    new RegExp(`${plain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-]| --base-url)`, 'g'),
    `${plain} --base-url ${url}`,
  );
  return action === error.action || !('withAction' in error) ? error : error.withAction(action);
}

/** The variables that hold a provider's credential: its own, then `LATCHKEY_<ID>_TOKEN`. */
export function credentialVariables(manifest: ProviderManifest): string[] {
  return [...manifest.envVars, latchkeyEnvName(manifest.id, 'TOKEN')];
}

/**
 * A credential variable must hold the credential itself: one holding a `latchkey://` reference is a usage
 * error (exit 2) wherever latchkey reads it (`auth token`, `inject`, `exec`, `auth status`, login), never
 * printed as if it were a token nor resolved on one path and not another.
 */
export function referenceInCredentialVariable(variable: string, id: string): LatchkeyError {
  return usageError(
    `${variable} holds a latchkey:// reference; a credential variable must hold the credential itself.`,
    `Unset ${variable} to use the stored account (pick one with --account or ${latchkeyEnvName(id, 'ACCOUNT')}), let \`latchkey exec --provider ${id}\` set it, or put the reference in a variable of another name.`,
  );
}

/**
 * Chooses the provider a command applies to: the one named by `--provider`, else the only candidate, else
 * a question in a terminal, else a usage error that lists the choices.
 */
export async function chooseProvider<T extends { manifest: { id: string; title: string } }>(
  runtime: Pick<Runtime, 'interactive'> & Partial<Pick<Runtime, 'prompter'>>,
  requested: string | undefined,
  all: Map<string, T>,
  candidates: string[],
  what: string,
): Promise<T> {
  if (requested !== undefined) {
    const chosen = all.get(requested);
    if (chosen) return chosen;
    throw unknownProvider(requested, [...all.keys()]);
  }
  if (candidates.length === 1) return all.get(candidates[0]!)!;
  // Plugins' hooks answer in whatever order they finish: list the choices by id, the same every run.
  const ordered = [...candidates].sort();
  if (ordered.length > 1 && runtime.interactive && runtime.prompter) {
    const id = await runtime.prompter.select(
      `Which provider ${what}?`,
      ordered.map((c) => ({ name: `${all.get(c)!.manifest.title} (${c})`, value: c })),
    );
    return all.get(id)!;
  }
  const listed = ordered.length > 0 ? ordered : [...all.keys()].sort();
  throw usageError(
    candidates.length === 0
      ? `--provider is required: no provider applies ${what}.`
      : `--provider is required: more than one provider applies ${what}.`,
    `Pass --provider with one of: ${listed.join(', ') || '(none installed)'}.`,
  );
}

/**
 * NOT_SIGNED_IN (exit 4), the one place it is built: a stored credential is missing or was rejected. With a
 * provider, the message and action are made from its title, id and variables; `detail` gives them instead.
 */
export function notSignedIn(title: string, id: string, envVars: string[]): LatchkeyError;
export function notSignedIn(detail: { message: string; action: string }): LatchkeyError;
export function notSignedIn(
  about: string | { message: string; action: string },
  id?: string,
  envVars: string[] = [],
): LatchkeyError {
  const { message, action } =
    typeof about === 'string'
      ? {
          message: `Not signed in to ${about}.`,
          action: `Run \`latchkey auth login --provider ${id}\`${envVars.length ? ` or set ${envVars.join(' or ')}` : ''}.`,
        }
      : about;
  return new LatchkeyError({ code: 'NOT_SIGNED_IN', message, action, exitCode: ExitCode.Auth });
}

/** `--provider` names nothing installed (exit 2); a near id (a typo) is suggested first. */
export function unknownProvider(requested: string, known: string[]): LatchkeyError {
  const suggestion = suggestName(requested, known);
  return usageError(
    `Unknown provider ${JSON.stringify(requested)}.`,
    `${suggestion !== undefined ? `Did you mean ${suggestion}? ` : ''}Choose one of: ${[...known].sort().join(', ') || '(none installed)'}; \`latchkey auth providers\` lists them.`,
  );
}

/**
 * The server for a provider: `flag` (`--base-url`); else, for a stored account, the URL stored with it (the
 * server that issued the credential); else `LATCHKEY_<ID>_BASE_URL` and the provider's own variables; else
 * the provider's default. The HTTPS rule is applied here, before any request.
 */
export function serverFor(
  provider: { id: string; defaultBaseUrl: string; baseUrlEnvVars?: string[] },
  env: NodeJS.ProcessEnv,
  given: { flag?: string; stored?: string } = {},
): URL {
  if (given.flag !== undefined) return parseBaseUrl(given.flag, '--base-url');
  if (given.stored !== undefined) return parseBaseUrl(given.stored, 'the stored base URL');
  for (const variable of [latchkeyEnvName(provider.id, 'BASE_URL'), ...(provider.baseUrlEnvVars ?? [])]) {
    const fromEnv = env[variable]?.trim();
    if (fromEnv) return parseBaseUrl(fromEnv, variable);
  }
  return parseBaseUrl(provider.defaultBaseUrl, `${provider.id}'s default base URL`);
}
