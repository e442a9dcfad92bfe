import { usageError } from '@latchkey/errors';
import {
  isReference,
  providerExecEnv,
  resolveReferences,
  type ReferenceContext,
  type ResolvedValue,
} from '../secrets/references.js';
import {
  credentialVariables,
  referenceInCredentialVariable,
  unknownProvider,
} from '../providers/provider-facts.js';
import { providersOfAccount } from '../token/token-lookup.js';

/** What `latchkey exec` was asked to set, before COMMAND. */
export interface ExecRequest {
  /** `--provider ID`, each setting that provider's declared `execEnv` variables. */
  providers: string[];
  /**
   * `--account NAME`, for the `--provider` variables; without `--provider`, the one provider that has a
   * stored account of that name is taken as `--provider`.
   */
  account?: string | undefined;
  /** `--env NAME=REF`. */
  env: string[];
}

/** The child's environment and the values to mask in its output. */
export interface ExecEnvironment {
  env: NodeJS.ProcessEnv;
  secrets: string[];
}

const variableName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `NAME=REF` from `--env`; neither a bad name nor a value that is no reference is ever quoted back. */
export function parseEnvAssignment(text: string): { name: string; ref: string } {
  const eq = text.indexOf('=');
  const name = eq === -1 ? text : text.slice(0, eq);
  if (eq === -1 || !variableName.test(name)) {
    throw usageError(
      '--env needs NAME=REF with NAME a variable name.',
      'Write it as --env NAME=latchkey://<provider>[/<account>][#base-url], e.g. --env API_KEY=latchkey://<provider>.',
    );
  }
  const ref = text.slice(eq + 1);
  if (!isReference(ref)) {
    // Maybe a raw secret typed by mistake: never echo it.
    throw usageError(
      `--env ${name}: the value is not a latchkey:// reference.`,
      `Write it as --env ${name}=latchkey://<provider>[/<account>][#base-url]; a secret itself does not belong on a command line.`,
    );
  }
  return { name, ref };
}

/**
 * The `--provider`s whose variables are set. `--account` alone is never ignored: the provider that has
 * that stored account (exit 4 when none has; a usage error when several have, naming them).
 */
async function providersToSet(
  request: ExecRequest,
  ctx: Pick<ReferenceContext, 'providers' | 'store'>,
): Promise<string[]> {
  if (request.providers.length > 0 || request.account === undefined) return request.providers;
  const ids = await providersOfAccount(ctx.store, request.account, ctx.providers);
  if (ids.length > 1) {
    throw usageError(
      `An account named '${request.account}' is stored for more than one provider (${ids.join(', ')}).`,
      `Pass --provider with one of: ${ids.join(', ')}.`,
    );
  }
  return ids;
}

/**
 * The child's environment: the inherited one, where every `latchkey://` value is resolved (like `op run`),
 * then each `--provider`'s declared variables, then each `--env NAME=REF` (later ones win). Everything is
 * resolved before anything is returned; a reference that cannot be resolved throws a LatchkeyError naming
 * the variable (exit 2 malformed or unknown provider, exit 4 not signed in), never a value.
 */
export async function execEnvironment(
  request: ExecRequest,
  ctx: Omit<ReferenceContext, 'env'> & { env: NodeJS.ProcessEnv },
): Promise<ExecEnvironment> {
  const assignments = request.env.map(parseEnvAssignment);
  const inherited = Object.entries(ctx.env)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && isReference(entry[1]))
    .map(([name, ref]) => ({ name, ref }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  // A provider's credential variable holding a reference is refused, as `auth token` and `inject` refuse it.
  for (const { manifest } of ctx.providers.values()) {
    const variable = credentialVariables(manifest).find((name) => inherited.some((i) => i.name === name));
    if (variable !== undefined) throw referenceInCredentialVariable(variable, manifest.id);
  }
  const plain: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(ctx.env))
    if (value !== undefined && !isReference(value)) plain[name] = value;
  const lookup: ReferenceContext = { ...ctx, env: plain };

  const resolved: ResolvedValue[] = [...(await resolveReferences(inherited, lookup))];
  for (const id of await providersToSet(request, ctx)) {
    const provider = ctx.providers.get(id);
    if (!provider) throw unknownProvider(id, [...ctx.providers.keys()]);
    resolved.push(...(await providerExecEnv(provider.manifest, { ...lookup, account: request.account })));
  }
  resolved.push(...(await resolveReferences(assignments, lookup)));

  const env: NodeJS.ProcessEnv = { ...plain };
  for (const { name, value } of resolved) env[name] = value;
  const secrets = [...new Set(resolved.filter((r) => r.secret).map((r) => r.value))];
  return { env, secrets };
}
