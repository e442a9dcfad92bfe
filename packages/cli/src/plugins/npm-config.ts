/**
 * The user's npm configuration, for `latchkey plugins install`. @oclif/plugin-plugins installs with the copy
 * of npm it pins, run by latchkey's own Node: that npm reads the user's npmrc, but its global npmrc (and its
 * built-in one) belong to latchkey's Node, not to the npm the user runs. So a `cafile`, `registry` or proxy
 * set in /usr/etc/npmrc (a corporate CA, a mirror) was ignored. The user's own npm is asked once, with
 * `npm config get`, what it would use (it has already merged global, user, project and environment
 * settings); the answers are handed to the pinned npm as `npm_config_*` variables and used by latchkey's own
 * registry check (plugin-registry.ts).
 */

/** The settings latchkey reads, as npm names them. */
export const NPM_KEYS = [
  'registry',
  'cafile',
  'strict-ssl',
  'proxy',
  'https-proxy',
  'noproxy',
  'globalconfig',
];

export interface NpmSettings {
  /** npm's `registry` (with a trailing slash), or the scope's registry for a scoped package name. */
  registry: string;
  /** True when `registry` is the scope's own (`@scope:registry`), which npm's --registry does not replace. */
  scopeRegistry: boolean;
  cafile?: string;
  strictSsl: boolean;
  proxy?: string;
  httpsProxy?: string;
  noproxy?: string;
  globalconfig?: string;
  /** Which npm answered (for messages), or undefined when none did and npm's defaults are assumed. */
  answeredBy?: string;
}

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

/** `npm config get a b c` prints `a=value` per key; npm spells an unset value `null`, `undefined` or ``. */
export function parseConfigGet(stdout: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of stdout.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const value = line.slice(eq + 1).trim();
    if (value === '' || value === 'null' || value === 'undefined') continue;
    values.set(line.slice(0, eq).trim(), value);
  }
  return values;
}

/** The scope of a package name (`@acme` of `@acme/plugin`), or undefined. */
export function scopeOf(name: string): string | undefined {
  return /^(@[^/]+)\//.exec(name)?.[1];
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** Settings from `npm config get` output; `name` picks the scope's registry when there is one. */
export function settingsFrom(values: Map<string, string>, name: string, answeredBy?: string): NpmSettings {
  const scope = scopeOf(name);
  const scoped = scope ? values.get(`${scope}:registry`) : undefined;
  const registry = scoped || values.get('registry') || DEFAULT_REGISTRY;
  const pick = (key: string) => values.get(key);
  return {
    registry: withSlash(registry),
    scopeRegistry: Boolean(scoped),
    strictSsl: pick('strict-ssl') !== 'false',
    ...(pick('cafile') && { cafile: pick('cafile') }),
    ...(pick('proxy') && { proxy: pick('proxy') }),
    ...(pick('https-proxy') && { httpsProxy: pick('https-proxy') }),
    ...(pick('noproxy') && { noproxy: pick('noproxy') }),
    ...(pick('globalconfig') && { globalconfig: pick('globalconfig') }),
    ...(answeredBy && { answeredBy }),
  };
}

/** Runs an npm with arguments, bounded in time; resolves with its exit code and stdout. */
export type NpmRunner = (
  npm: { command: string; args: string[] },
  args: string[],
  timeoutMs: number,
) => Promise<{ code: number | null; stdout: string }>;

/**
 * What the user's own npm would use for `name`: `npm` from PATH, else the pinned one, 5 s for both
 * together (a hung npm must not eat the time the registry check has). Neither answering means npm's
 * defaults (the public registry, Node's CAs, proxies from the environment).
 */
export async function readNpmSettings(
  name: string,
  run: NpmRunner,
  candidates: Array<{ command: string; args: string[] } | undefined>,
  now: () => number = Date.now,
): Promise<NpmSettings> {
  const scope = scopeOf(name);
  const keys = [...NPM_KEYS, ...(scope ? [`${scope}:registry`] : [])];
  const deadline = now() + 5000;
  for (const npm of candidates) {
    const left = deadline - now();
    if (!npm || left <= 0) continue;
    const result = await run(npm, ['config', 'get', ...keys], left);
    if (result.code !== 0) continue;
    const values = parseConfigGet(result.stdout);
    if (values.size > 0) return settingsFrom(values, name, npm.command);
  }
  return settingsFrom(new Map(), name);
}

/** True when the environment already sets npm's `key` (npm reads `npm_config_*` case-insensitively). */
function envSets(env: NodeJS.ProcessEnv, key: string): boolean {
  const wanted = `npm_config_${key.replace(/-/g, '_')}`.toLowerCase();
  return Object.keys(env).some((name) => name.toLowerCase() === wanted && env[name] !== undefined);
}

/**
 * The `npm_config_*` variables that make the pinned npm use what the user's npm uses. A setting already in
 * the environment is left alone; the registry is not passed when it is a scope's own (the user's npmrc names the
 * scope's registry itself, and `registry` must stay the one it names).
 */
export function npmEnvFor(
  settings: NpmSettings,
  name: string,
  env: NodeJS.ProcessEnv,
): Record<string, string> {
  if (!settings.answeredBy) return {};
  const values: Record<string, string | undefined> = {
    globalconfig: settings.globalconfig,
    registry: settings.scopeRegistry ? undefined : settings.registry,
    cafile: settings.cafile,
    'strict-ssl': settings.strictSsl ? undefined : 'false',
    proxy: settings.proxy,
    'https-proxy': settings.httpsProxy,
    noproxy: settings.noproxy,
  };
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || envSets(env, key)) continue;
    out[`npm_config_${key.replace(/-/g, '_')}`] = value;
  }
  return out;
}
