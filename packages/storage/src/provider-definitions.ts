import { join } from 'node:path';
import { checkConfigDir, ensureConfigDir, readOwnFile, writeFileAtomic } from './fs-util.js';
import { withLock } from './lock.js';
import { corruptError } from './storage-errors.js';

export const DEFINITIONS_FILE = 'providers.json';
const VERSION = 1;

/**
 * A provider added by configuration (`latchkey auth providers add`): a standard OAuth 2.0 server with a
 * device authorization endpoint, an authorization endpoint (browser sign-in), or both. Non-secret: a
 * confidential client's secret is never stored, only the variable that holds it.
 */
export interface ProviderDefinition {
  issuer?: string;
  /** `--discovery-url`: where the metadata was read, when not at the issuer's well-known addresses. */
  discoveryUrl?: string;
  clientId: string;
  /** The environment variable that holds the client secret (confidential clients). */
  clientSecretEnv?: string;
  /** Sent as given; absent: no scope parameter. */
  scopes?: string[];
  encoding: 'form' | 'json';
  /** RFC 8628; absent for a server that signs in only in the browser. */
  deviceAuthorizationUrl?: string;
  /** RFC 6749 section 3.1: the browser sign-in (authorization code + PKCE); absent: device flow only. */
  authorizationUrl?: string;
  /** The server's `authorization_response_iss_parameter_supported` (RFC 9207). */
  issParameterSupported?: boolean;
  /** The server's `code_challenge_methods_supported`, when it listed them. */
  codeChallengeMethods?: string[];
  /** The client id was registered by latchkey (RFC 7591) rather than given with --client-id. */
  registeredClient?: boolean;
  /** The API it guards (`--resource`, RFC 9728), sent as the RFC 8707 resource indicator. */
  resource?: string;
  tokenUrl: string;
  revocationUrl?: string;
  userinfoUrl?: string;
  /** The provider's base URL: the issuer, or `--base-url`. */
  baseUrl: string;
  /** ISO timestamp. */
  addedAt: string;
}

interface DefinitionsDocument {
  version: number;
  providers: Record<string, ProviderDefinition>;
}

export function definitionsPath(configDir: string): string {
  return join(configDir, DEFINITIONS_FILE);
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const optString = (value: unknown) => value === undefined || typeof value === 'string';

function isDefinition(value: unknown): value is ProviderDefinition {
  if (!isPlainObject(value)) return false;
  for (const key of ['clientId', 'tokenUrl', 'baseUrl', 'addedAt'])
    if (typeof value[key] !== 'string') return false;
  for (const key of [
    'issuer',
    'discoveryUrl',
    'clientSecretEnv',
    'revocationUrl',
    'userinfoUrl',
    'deviceAuthorizationUrl',
    'authorizationUrl',
    'resource',
  ])
    if (!optString(value[key])) return false;
  if (value.deviceAuthorizationUrl === undefined && value.authorizationUrl === undefined) return false;
  for (const key of ['issParameterSupported', 'registeredClient'])
    if (value[key] !== undefined && typeof value[key] !== 'boolean') return false;
  if (
    value.codeChallengeMethods !== undefined &&
    !(
      Array.isArray(value.codeChallengeMethods) &&
      value.codeChallengeMethods.every((s) => typeof s === 'string')
    )
  )
    return false;
  if (value.encoding !== 'form' && value.encoding !== 'json') return false;
  if (
    value.scopes !== undefined &&
    !(Array.isArray(value.scopes) && value.scopes.every((s) => typeof s === 'string'))
  )
    return false;
  return true;
}

/**
 * The configured providers, by name; empty when none were added. The same checks as `accounts.json`: the
 * directory and the file must be ours and closed to others (STORAGE_INSECURE), since a definition says
 * where tokens are sent; anything else unexpected is STORAGE_CORRUPT.
 */
export async function readProviderDefinitions(configDir: string): Promise<Map<string, ProviderDefinition>> {
  if ((await checkConfigDir(configDir)) === 'missing') return new Map();
  const file = definitionsPath(configDir);
  const raw = await readOwnFile(file, true);
  if (raw === undefined) return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw corruptError(file, 'it is not valid JSON', error);
  }
  if (!isPlainObject(parsed) || parsed.version !== VERSION || !isPlainObject(parsed.providers)) {
    throw corruptError(file, 'it is not what latchkey writes (version 1 with a "providers" map)');
  }
  const out = new Map<string, ProviderDefinition>();
  for (const [name, definition] of Object.entries(parsed.providers)) {
    if (!isDefinition(definition))
      throw corruptError(file, `the definition of "${name}" is not what latchkey writes`);
    out.set(name, definition);
  }
  return out;
}

/**
 * Changes the definitions under the config-dir lock: `change` gets the current ones and returns the new
 * ones (or throws, and nothing is written). The file is written atomically, mode 0600.
 */
export async function updateProviderDefinitions<T>(
  configDir: string,
  change: (current: Map<string, ProviderDefinition>) => { result: T; next: Map<string, ProviderDefinition> },
): Promise<T> {
  await ensureConfigDir(configDir);
  return withLock(configDir, async () => {
    const { result, next } = change(await readProviderDefinitions(configDir));
    const doc: DefinitionsDocument = { version: VERSION, providers: Object.fromEntries(next) };
    await writeFileAtomic(definitionsPath(configDir), `${JSON.stringify(doc, null, 2)}\n`);
    return result;
  });
}
