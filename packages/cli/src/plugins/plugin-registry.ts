/**
 * Before `latchkey plugins install <name>` hands over to npm: one request for the package's document, made
 * the way the user's npm would make it (its registry, `cafile`, `strict-ssl`, proxy settings, and Node's
 * CAs with NODE_EXTRA_CA_CERTS when there is no `cafile`), bounded in time. npm itself retries for about a
 * minute and then reports every failure as "does not exist in the registry"; this check names the real
 * cause (an untrusted TLS certificate, an unreachable registry, a name that is not there, a package that is
 * not a latchkey plugin) within seconds.
 */
import { LatchkeyError } from '@latchkey/errors';
import type { NpmSettings } from './npm-config.js';

/** The one request the check makes; `ca` replaces Node's CAs as npm's `cafile` does. */
export interface RegistryRequest {
  url: string;
  ca?: string;
  rejectUnauthorized: boolean;
  proxy?: string;
  noProxy?: string;
  signal: AbortSignal;
}

export interface RegistryResponse {
  status: number;
  /** The body as text, at most `limit` bytes (undefined when larger). */
  text(limit: number): Promise<string | undefined>;
}

export type RegistryFetch = (request: RegistryRequest) => Promise<RegistryResponse>;

export interface PluginCheckOptions {
  name: string;
  tag: string;
  settings: NpmSettings;
  env: NodeJS.ProcessEnv;
  fetch: RegistryFetch;
  readFile: (path: string) => Promise<string>;
  /** False for latchkey's own (`@latchkey/`, `@oclif/`) plugins, which need not declare a provider. */
  requireProvider: boolean;
  /** How long the request may take in all (default 8 s: with 5 s for npm's configuration, under 15 s). */
  timeoutMs?: number;
}

const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/** A package document larger than this is not read for the plugin check (npm still installs it). */
const BODY_LIMIT = 16 * 1024 * 1024;

/** The registry URL for messages: no credentials, no query. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    return parsed.toString();
  } catch {
    return '(an invalid registry URL)';
  }
}

/** The document URL npm uses: scoped names keep the `@` and escape the slash. */
export function packumentUrl(registry: string, name: string): string {
  const base = registry.endsWith('/') ? registry : `${registry}/`;
  return `${base}${encodeURIComponent(name).replace(/^%40/, '@')}`;
}

/** The proxy npm would use for `url`: its settings first, then the environment (as npm does). */
export function proxyFor(url: string, settings: NpmSettings, env: NodeJS.ProcessEnv): string | undefined {
  const https = url.startsWith('https:');
  const fromEnv = (...names: string[]) => names.map((n) => env[n]?.trim()).find(Boolean);
  return https
    ? settings.httpsProxy ||
        settings.proxy ||
        fromEnv('HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy')
    : settings.proxy || fromEnv('HTTP_PROXY', 'http_proxy');
}

/** Error codes along an error's cause chain (undici wraps the socket's error in `cause`). */
function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const { code, name } = current as { code?: unknown; name?: unknown };
    if (typeof code === 'string') codes.push(code);
    if (typeof name === 'string') codes.push(name);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** A failed request, as the error a user can act on. */
export function requestFailure(error: unknown, registry: string, settings: NpmSettings): LatchkeyError {
  const codes = codesOf(error);
  const where = displayUrl(registry);
  const tls = codes.find((code) => TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || /CERT/.test(code));
  if (tls) {
    return new LatchkeyError({
      code: 'PLUGIN_REGISTRY_TLS',
      message:
        `The TLS certificate of the npm registry ${where} is not trusted (${tls}): ` +
        (settings.cafile
          ? `the certificate authority that signed it is not in npm's cafile ${settings.cafile}.`
          : 'it was signed by a certificate authority Node does not know, as a TLS-inspecting proxy does.'),
      action:
        "Give npm that authority's certificate: `npm config set cafile /path/to/ca.pem` " +
        '(latchkey uses your npm configuration), or set NODE_EXTRA_CA_CERTS=/path/to/ca.pem.',
      cause: error,
    });
  }
  if (codes.includes('TimeoutError') || codes.includes('UND_ERR_CONNECT_TIMEOUT')) {
    return new LatchkeyError({
      code: 'PLUGIN_REGISTRY_UNREACHABLE',
      message: `The npm registry ${where} did not answer in time.`,
      action:
        'Check your network connection, the registry and proxy in your npm configuration, then try again.',
      retryable: true,
      cause: error,
    });
  }
  const code = codes.find((c) => /^E[A-Z]+$/.test(c) || c.startsWith('UND_ERR'));
  return new LatchkeyError({
    code: 'PLUGIN_REGISTRY_UNREACHABLE',
    message: `Could not reach the npm registry ${where}${code ? ` (${code})` : ''}.`,
    action:
      'Check your network connection, the `registry` in your npm configuration (`npm config get registry`), ' +
      'and any proxy (HTTPS_PROXY, npm `https-proxy`), then try again.',
    retryable: true,
    cause: error,
  });
}

interface Packument {
  'dist-tags'?: Record<string, string>;
  versions?: Record<string, PackageDoc>;
}
interface PackageDoc {
  version?: string;
  keywords?: unknown;
  oclif?: { hooks?: Record<string, unknown> };
  latchkey?: { provider?: unknown };
}

/** The version `tag` names: a dist-tag, an exact version, else the newest published (npm's fallback). */
function pickVersion(doc: Packument, tag: string): PackageDoc | undefined {
  const versions = doc.versions ?? {};
  const tagged = doc['dist-tags']?.[tag];
  if (tagged && versions[tagged]) return versions[tagged];
  if (versions[tag]) return versions[tag];
  const all = Object.values(versions);
  return all[all.length - 1];
}

/** A latchkey provider plugin declares its provider (the `latchkey.provider` block or the hook). */
export function isProviderPlugin(doc: PackageDoc): boolean {
  return Boolean(doc.latchkey?.provider) || Boolean(doc.oclif?.hooks?.['latchkey:provider']);
}

/** Throws the error a user can act on when `name` cannot be installed from the configured registry. */
export async function checkPluginPackage(options: PluginCheckOptions): Promise<void> {
  const { name, tag, settings, env } = options;
  const registry = settings.registry;
  const url = packumentUrl(registry, name);
  let ca: string | undefined;
  if (settings.cafile) {
    try {
      ca = await options.readFile(settings.cafile);
    } catch (error) {
      throw new LatchkeyError({
        code: 'PLUGIN_REGISTRY_CAFILE',
        message: `npm's cafile ${settings.cafile} cannot be read (${codesOf(error)[0] ?? 'unreadable'}).`,
        action:
          'Fix the path with `npm config set cafile /path/to/ca.pem`, or remove it: `npm config delete cafile`.',
        cause: error,
      });
    }
  }
  const noProxy = settings.noproxy || env.NO_PROXY || env.no_proxy;
  const proxy = proxyFor(url, settings, env);
  let response: RegistryResponse;
  try {
    response = await options.fetch({
      url,
      rejectUnauthorized: settings.strictSsl,
      signal: AbortSignal.timeout(options.timeoutMs ?? 8000),
      ...(ca !== undefined && { ca }),
      ...(proxy && { proxy }),
      ...(noProxy && { noProxy }),
    });
  } catch (error) {
    throw requestFailure(error, registry, settings);
  }
  // The registry wants credentials: npm has them (from the npmrc), latchkey does not; let npm go on.
  if (response.status === 401 || response.status === 403) return;
  if (response.status === 404) {
    throw new LatchkeyError({
      code: 'PLUGIN_NOT_FOUND',
      message: `${name} was not found in the npm registry ${displayUrl(registry)} (HTTP 404).`,
      action: `Check the name (\`npm view ${name}\` should find it) and the registry in your npm configuration.`,
    });
  }
  if (response.status !== 200) {
    throw new LatchkeyError({
      code: 'PLUGIN_REGISTRY_ERROR',
      message: `The npm registry ${displayUrl(registry)} answered HTTP ${response.status} for ${name}.`,
      action: 'Try again later; if it persists, check the registry in your npm configuration.',
      retryable: response.status >= 500 || response.status === 429,
    });
  }
  let doc: Packument | undefined;
  try {
    const text = await response.text(BODY_LIMIT);
    doc = text === undefined ? undefined : (JSON.parse(text) as Packument);
  } catch (error) {
    if (codesOf(error).includes('TimeoutError')) throw requestFailure(error, registry, settings);
    doc = undefined;
  }
  // Too large or not JSON: npm decides.
  if (!doc || typeof doc !== 'object') return;
  const version = pickVersion(doc, tag);
  if (!version) {
    throw new LatchkeyError({
      code: 'PLUGIN_NOT_FOUND',
      message: `${name} has no published version in the npm registry ${displayUrl(registry)}.`,
      action: `Check the name (\`npm view ${name}\` should find it).`,
    });
  }
  if (options.requireProvider && !isProviderPlugin(version)) {
    throw new LatchkeyError({
      code: 'PLUGIN_NOT_LATCHKEY',
      message: `${name}${version.version ? `@${version.version}` : ''} is not a latchkey plugin: its package.json declares no latchkey provider.`,
      action:
        'Install a provider plugin (their npm keyword is latchkey-plugin); `latchkey help plugins` says what one declares.',
    });
  }
}

/** The real request: undici, with npm's CA and proxy settings; the body read up to a limit. */
export const undiciRegistryFetch: RegistryFetch = async (request) => {
  const { Agent, EnvHttpProxyAgent, request: send } = await import('undici');
  const tls = {
    rejectUnauthorized: request.rejectUnauthorized,
    ...(request.ca !== undefined && { ca: request.ca }),
  };
  const dispatcher = request.proxy
    ? new EnvHttpProxyAgent({
        httpProxy: request.proxy,
        httpsProxy: request.proxy,
        ...(request.noProxy && { noProxy: request.noProxy }),
        connect: tls,
        requestTls: tls,
      })
    : new Agent({ connect: tls });
  try {
    const response = await send(request.url, {
      dispatcher,
      signal: request.signal,
      headers: { accept: 'application/json', 'user-agent': 'latchkey (plugins install)' },
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > 16 * 1024 * 1024) {
        tooLarge = true;
        break;
      }
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks).toString('utf8');
    return {
      status: response.statusCode,
      text: async (limit) => (tooLarge || Buffer.byteLength(body) > limit ? undefined : body),
    };
  } finally {
    void dispatcher.destroy().catch(() => {});
  }
};
