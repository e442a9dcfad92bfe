// `latchkey://<provider>[/<account>][#<field>]` references, resolved for `latchkey exec` and `latchkey inject`
// from the manifests, the environment and the store only (no plugin code, no network), like `auth token`.
import type { CredentialStore } from '@latchkey/storage';
import { LatchkeyError, usageError } from '@latchkey/errors';
import {
  execEnvFields,
  latchkeyEnvName,
  type ExecEnvField,
  type ProviderManifest,
} from '@latchkey/plugin-kit/manifest';
import {
  envCredential,
  serverFor,
  unknownProvider,
  type StaticProvider,
} from '../providers/provider-facts.js';
import { resolveTokenFrom, type Refresher } from '../token/token-lookup.js';

/** What a reference names: a provider, maybe one of its stored accounts, and a field (default `token`). */
export interface Reference {
  provider: string;
  account?: string;
  field: ExecEnvField;
}

/** A value to set or write: `secret` is false only for a `base-url`. */
export interface ResolvedValue {
  name: string;
  value: string;
  secret: boolean;
}

/** Where references are resolved: the providers' manifests, the environment, the store, the directory. */
export interface ReferenceContext {
  providers: Map<string, StaticProvider>;
  env: NodeJS.ProcessEnv;
  store: CredentialStore;
  cwd: string;
  /** The full CLI's refresh of a due token (see `resolveTokenFrom`); absent on the fast paths. */
  refresher?: Refresher;
}

const scheme = 'latchkey://';
const providerPattern = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const referenceForm = 'latchkey://<provider>[/<account>][#token|#base-url]';

/** True when `value` is meant as a reference (starts with `latchkey://`). */
export function isReference(value: string): boolean {
  return value.startsWith(scheme);
}

function show(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 117)}...` : text);
}

function malformed(text: string, why: string): LatchkeyError {
  return usageError(
    `Malformed reference ${show(text)}: ${why}.`,
    `Write it as ${referenceForm}, e.g. latchkey://<id> or latchkey://<id>/ada%40example.com#base-url (\`latchkey auth providers\` lists the ids).`,
  );
}

/** Parses a reference; anything else is a usage error (exit 2) that quotes it and shows the form. */
export function parseReference(text: string): Reference {
  if (!isReference(text)) throw malformed(text, `it does not start with ${scheme}`);
  const rest = text.slice(scheme.length);
  const hash = rest.indexOf('#');
  const path = hash === -1 ? rest : rest.slice(0, hash);
  const fieldText = hash === -1 ? 'token' : rest.slice(hash + 1);
  if (!(execEnvFields as readonly string[]).includes(fieldText)) {
    throw malformed(text, `the field ${show(fieldText)} is not one of ${execEnvFields.join(', ')}`);
  }
  const field = fieldText as ExecEnvField;
  const slash = path.indexOf('/');
  const provider = slash === -1 ? path : path.slice(0, slash);
  if (provider === '') throw malformed(text, 'the provider is missing');
  if (!providerPattern.test(provider)) {
    throw malformed(
      text,
      `the provider ${show(provider)} is not a provider id (lower-case letters, digits, dashes)`,
    );
  }
  if (slash === -1) return { provider, field };
  const encoded = path.slice(slash + 1);
  if (encoded === '') throw malformed(text, 'the account after "/" is empty');
  if (/[/?\s]/.test(encoded)) {
    throw malformed(text, 'the account must be one URL-encoded name (write "/" as %2F, "?" as %3F)');
  }
  let account: string;
  try {
    account = decodeURIComponent(encoded);
  } catch {
    throw malformed(text, 'the account is not valid URL encoding');
  }
  if (account.trim() === '') throw malformed(text, 'the account is empty');
  return { provider, account, field };
}

/** Puts `what` (a variable or the reference) in front of an error's message; the value is never in it. */
function about(what: string, error: unknown): unknown {
  if (!(error instanceof LatchkeyError)) return error;
  const wrapped = new LatchkeyError({
    code: error.code,
    message: `${what}: ${error.message}`,
    ...(error.action !== undefined && { action: error.action }),
    exitCode: error.exitCode,
    retryable: error.retryable,
    ...(error.docs !== undefined && { docs: error.docs }),
    cause: error,
  });
  return wrapped;
}

function providerFor(ctx: ReferenceContext, id: string): StaticProvider {
  const found = ctx.providers.get(id);
  if (!found) throw unknownProvider(id, [...ctx.providers.keys()]);
  return found;
}

/** The base URL as text, without the trailing "/" of a bare origin (so `{{ ...#base-url }}/api` reads well). */
function urlText(url: URL): string {
  return url.pathname === '/' && url.search === '' && url.hash === '' ? url.href.slice(0, -1) : url.href;
}

/**
 * The server for a provider's account, in the order of the rest of latchkey: the account that `auth token`
 * would use (the same order), its stored URL; else `LATCHKEY_<ID>_BASE_URL` and the provider's own
 * variables; else the default. Reads the index only, never a secret. Not being signed in is no error here
 * (the default is still the server), but a named account that is not stored is (ACCOUNT_NOT_FOUND, exit 4).
 */
async function baseUrlFor(
  manifest: ProviderManifest,
  account: string | undefined,
  ctx: ReferenceContext,
): Promise<string> {
  const fromEnvCredential = account === undefined && envCredential(manifest, ctx.env) !== undefined;
  if (!fromEnvCredential) {
    const variable = latchkeyEnvName(manifest.id, 'ACCOUNT');
    const value = ctx.env[variable]?.trim();
    const chosen = await ctx.store.choose(manifest.id, {
      ...(account !== undefined && { flag: account }),
      ...(value && { envAccount: { variable, value } }),
      cwd: ctx.cwd,
    });
    if (chosen?.record.baseUrl !== undefined) {
      return urlText(serverFor(manifest, ctx.env, { stored: chosen.record.baseUrl }));
    }
  }
  return urlText(serverFor(manifest, ctx.env));
}

async function resolveOne(
  provider: StaticProvider,
  account: string | undefined,
  field: ExecEnvField,
  ctx: ReferenceContext,
  cache: Map<string, Promise<string>>,
): Promise<string> {
  // One lookup (one secret or index read) per provider, account and field, however many names use it.
  const key = `${provider.manifest.id}\u0000${account ?? ''}\u0000${field}`;
  let value = cache.get(key);
  if (value === undefined) {
    value =
      field === 'base-url'
        ? baseUrlFor(provider.manifest, account, ctx)
        : resolveTokenFrom(
            ctx.providers,
            ctx.env,
            ctx.store,
            provider.manifest.id,
            async () => provider,
            { account, cwd: ctx.cwd },
            ctx.refresher,
          ).then((result) => result.token);
    cache.set(key, value);
  }
  return value;
}

/**
 * Resolves every request's reference (`name` is the variable, or the reference itself for `inject`), all
 * before anything is returned: one that cannot be resolved throws, naming `name` and the reference, never a
 * value (malformed or an unknown provider: exit 2; not signed in or an unknown account: exit 4). Tokens
 * come through `resolveTokenFrom` (the account from the reference, else the usual order); `#base-url`
 * from the account's stored URL, the environment, or the provider's default (`secret: false`).
 */
export async function resolveReferences(
  requests: ReadonlyArray<{ name: string; ref: string }>,
  ctx: ReferenceContext,
): Promise<ResolvedValue[]> {
  const tokens = new Map<string, Promise<string>>();
  const out: ResolvedValue[] = [];
  // In order, so the first failing reference is the one reported, the same every run.
  for (const { name, ref } of requests) {
    const label = name === ref ? show(ref) : `${name} (${show(ref)})`;
    try {
      const { provider, account, field } = parseReference(ref);
      const value = await resolveOne(providerFor(ctx, provider), account, field, ctx, tokens);
      out.push({ name, value, secret: field === 'token' });
    } catch (error) {
      throw about(label, error);
    }
  }
  return out;
}

/**
 * The variables a provider declares for `latchkey exec --provider ID` (its manifest's `execEnv`), resolved
 * like references to that provider (with `account`, else the usual order). A provider that declares none
 * is a usage error (exit 2) that points to `--env NAME=latchkey://ID`.
 */
export async function providerExecEnv(
  manifest: ProviderManifest,
  ctx: ReferenceContext & { account?: string | undefined },
): Promise<ResolvedValue[]> {
  const declared = Object.entries(manifest.execEnv ?? {});
  if (declared.length === 0) {
    throw usageError(
      `${manifest.title} (${manifest.id}) declares no variables for \`latchkey exec --provider\`.`,
      `Name them yourself: --env NAME=latchkey://${manifest.id}.`,
    );
  }
  const provider = ctx.providers.get(manifest.id) ?? { manifest, plugin: '' };
  const tokens = new Map<string, Promise<string>>();
  const out: ResolvedValue[] = [];
  for (const [name, field] of declared) {
    try {
      const value = await resolveOne(provider, ctx.account, field, ctx, tokens);
      out.push({ name, value, secret: field === 'token' });
    } catch (error) {
      throw about(`${name} (--provider ${manifest.id})`, error);
    }
  }
  return out;
}
