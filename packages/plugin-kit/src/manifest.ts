// The URL rule only: the fast path reads manifests and must not load the HTTP client.
import { httpsRuleBreach } from '@latchkey/http/url';

/**
 * How `auth login` can sign in to a provider: `browser` (authorization code + PKCE on a loopback
 * redirect, `Provider.browserLogin`), `device` (a code approved in the browser, `Provider.login`), `token`
 * (a token given or pasted).
 */
export type LoginMethod = 'browser' | 'device' | 'token';

/**
 * A login option a provider accepts, declared in its manifest. The host fills `ctx.options[name]` from
 * `--<flag> value` (for the flags the host has, `--client-name` and `--client-id`), from
 * `--option <flag>=value` (any declared option), or else from `env`.
 */
export interface LoginOption {
  /** The key in `ctx.options`, e.g. "clientName". */
  name: string;
  /** The flag without dashes, e.g. "client-name": lower-case words joined by dashes. */
  flag: string;
  /** One line for `auth providers` and errors. */
  description: string;
  /** A variable read when the option is not passed on the command line. */
  env?: string;
}

/**
 * The static facts about a provider: everything a command needs before any network call. A plugin also
 * declares them in its package.json under `"latchkey": {"provider": {...}}`, so the host can answer
 * `auth token` without loading the plugin's code.
 */
export interface ProviderManifest {
  /** Lower-case id used with `--provider`: 2-32 letters and digits in dash-separated words ("acme-cloud"). */
  id: string;
  /** Human name, e.g. "Acme Cloud". */
  title: string;
  /** The provider's public API origin (https://, or http:// for loopback); `--base-url` replaces it. */
  defaultBaseUrl: string;
  /** Environment variables that hold a credential, read before stored ones and never written. */
  envVars: string[];
  /**
   * Login methods, the first is the default; with both `browser` and `device`, `auth login` picks the
   * browser where one can be opened here and the device flow otherwise (`--web` / `--device` choose).
   */
  methods: LoginMethod[];
  /** The login options this provider accepts (`ctx.options`). */
  loginOptions?: LoginOption[];
  /**
   * Prefixes that mark this provider's tokens, e.g. "acme_live_". The host redacts any text that starts with
   * one and goes on with 16 or more token characters, wherever it appears, and masks keep the prefix.
   */
  secretPrefixes?: string[];
  /** The provider's own variables for its server, read after `LATCHKEY_<ID>_BASE_URL` (e.g. `ACME_API_URL`). */
  baseUrlEnvVars?: string[];
  /** Where users create or revoke credentials (shown in prompts and after logout). */
  tokenUrl?: string;
  /** One sentence on where to get a token, when a URL alone does not say it (shown at the prompt). */
  tokenHelp?: string;
  /**
   * 'verify': when one of `envVars` is set, `auth login` only validates that token, silently, and stores
   * nothing (exit 0 valid, 4 rejected). Default: `auth login` ignores the environment.
   */
  envLogin?: 'verify';
  /** Link for the provider's page in latchkey's docs. */
  docs?: string;
  /**
   * The variables `latchkey exec --provider ID` sets for a program, each to the credential (`'token'`) or the
   * server in use (`'base-url'`), e.g. `{"ACME_API_KEY": "token", "ACME_API_URL": "base-url"}`.
   */
  execEnv?: Record<string, ExecEnvField>;
}

/** What a variable in `execEnv` (or a `latchkey://` reference's `#field`) holds. */
export type ExecEnvField = 'token' | 'base-url';

/** The fields a `latchkey://` reference or an `execEnv` variable may name. */
export const execEnvFields: readonly ExecEnvField[] = ['token', 'base-url'];

type Check = (value: unknown) => string | undefined;

/**
 * Variables that change what a program runs, loads or trusts rather than tell it a credential or a server:
 * the dynamic loader's (`LD_*`, `DYLD_*`), any search path (`PATH`, `*PATH`: `LD_LIBRARY_PATH`, `PYTHONPATH`,
 * `NODE_PATH`, `CLASSPATH`...), interpreters' start-up options and files, the shell's start-up files,
 * TLS trust and proxies. `execEnv` may not set them: a manifest (or a cache of one) must never decide what
 * code runs next to a credential, or where it is sent.
 */
const execControlPattern = /^(?:LD_|DYLD_).|PATH$|^(?:NODE|JAVA_TOOL|_JAVA|JDK_JAVA|DOTNET_STARTUP)_OPTIONS$/;
const execControlNames = new Set([
  'BASH_ENV',
  'ENV',
  'SHELL',
  'HOME',
  'IFS',
  'PROMPT_COMMAND',
  'PS4',
  'SHELLOPTS',
  'BASHOPTS',
  'NODE_EXTRA_CA_CERTS',
  'NODE_TLS_REJECT_UNAUTHORIZED',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'CURL_CA_BUNDLE',
  'REQUESTS_CA_BUNDLE',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY',
  'PERL5OPT',
  'PERL5LIB',
  'PERLLIB',
  'PYTHONSTARTUP',
  'PYTHONHOME',
  'PYTHONINSPECT',
  'RUBYOPT',
  'RUBYLIB',
  'GIT_SSH_COMMAND',
  'GIT_SSH',
  'GIT_ASKPASS',
  'SSH_ASKPASS',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'BROWSER',
  'GCONV_PATH',
  'MALLOC_CHECK_',
  'TMPDIR',
]);

/** True for a variable `execEnv` may not set (see `execControlPattern`). */
export function isExecControlVariable(name: string): boolean {
  return execControlPattern.test(name) || execControlNames.has(name);
}

const idPattern = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const envPattern = /^[A-Z][A-Z0-9_]*$/;
const flagPattern = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const namePattern = /^[A-Za-z][A-Za-z0-9]*$/;
const prefixPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$/;

const show = (value: unknown) => JSON.stringify(value) ?? String(value);

function duplicates(values: readonly unknown[]): unknown[] {
  return values.filter((v, i) => values.indexOf(v) !== i);
}

function url(field: string): Check {
  return (value) => {
    if (typeof value === 'string') {
      try {
        if (httpsRuleBreach(new URL(value)) === undefined) return undefined;
      } catch {
        // not a URL: reported below
      }
    }
    return `${field} ${show(value)} must be an https:// URL (http:// only for loopback)`;
  };
}

function text(field: string): Check {
  return (value) =>
    typeof value === 'string' && value.trim() !== '' && value === value.trim()
      ? undefined
      : `${field} ${show(value)} must be a non-empty string without surrounding spaces`;
}

function list(field: string, pattern: RegExp, what: string, nonEmpty = false): Check {
  return (value) => {
    if (
      !Array.isArray(value) ||
      (nonEmpty && value.length === 0) ||
      !value.every((v) => typeof v === 'string' && pattern.test(v))
    ) {
      return `${field} ${show(value)} must be a ${nonEmpty ? 'non-empty ' : ''}list of ${what}`;
    }
    if (duplicates(value).length > 0) return `${field} lists ${show(duplicates(value))} twice`;
    return undefined;
  };
}

function loginOptionProblem(value: unknown): string | undefined {
  const o = value as Partial<LoginOption> | null;
  if (typeof o !== 'object' || o === null) return `loginOptions entry ${show(value)} must be an object`;
  if (typeof o.name !== 'string' || !namePattern.test(o.name))
    return `loginOptions name ${show(o.name)} must be a camelCase name ("clientName")`;
  if (typeof o.flag !== 'string' || !flagPattern.test(o.flag))
    return `loginOptions flag ${show(o.flag)} must be lower-case words joined by dashes ("client-name")`;
  if (typeof o.description !== 'string' || o.description.trim() === '')
    return `loginOptions ${o.name} needs a description`;
  if (o.env !== undefined && (typeof o.env !== 'string' || !envPattern.test(o.env)))
    return `loginOptions ${o.name} env ${show(o.env)} must be an upper-case variable name`;
  return undefined;
}

/**
 * The one definition of the manifest: a rule for every field of `ProviderManifest` (the type checker keeps
 * the two in step), read by `manifestProblems`, `manifestKeys` and `staticFields`.
 */
const manifestFields = {
  id: {
    required: true,
    check: (v: unknown) =>
      typeof v === 'string' && idPattern.test(v) && v.length >= 2 && v.length <= 32
        ? undefined
        : `id ${show(v)} must be 2-32 lower-case letters and digits in dash-separated words, starting with a letter`,
  },
  title: { required: true, check: text('title') },
  defaultBaseUrl: { required: true, check: url('defaultBaseUrl') },
  envVars: {
    required: true,
    check: (v: unknown) => {
      const problem = list('envVars', envPattern, 'upper-case variable names (A-Z, 0-9, _)')(v);
      if (problem !== undefined) return problem;
      const reserved = (v as string[]).filter((name) => name.startsWith('LATCHKEY_'));
      return reserved.length > 0
        ? `envVars ${show(reserved)} are latchkey's own names (LATCHKEY_<ID>_TOKEN is read anyway)`
        : undefined;
    },
  },
  methods: {
    required: true,
    check: list('methods', /^(?:browser|device|token)$/, "'browser', 'device' and/or 'token'", true),
  },
  loginOptions: {
    required: false,
    check: (v: unknown) => {
      if (!Array.isArray(v)) return `loginOptions ${show(v)} must be a list`;
      for (const option of v) {
        const problem = loginOptionProblem(option);
        if (problem !== undefined) return problem;
      }
      const names = v.map((o: LoginOption) => o.name);
      const flags = v.map((o: LoginOption) => o.flag);
      if (duplicates(names).length > 0 || duplicates(flags).length > 0)
        return `loginOptions declares ${show([...duplicates(names), ...duplicates(flags)])} twice`;
      return undefined;
    },
  },
  secretPrefixes: {
    required: false,
    check: list('secretPrefixes', prefixPattern, 'prefixes of 2-32 letters, digits, _ and -'),
  },
  baseUrlEnvVars: { required: false, check: list('baseUrlEnvVars', envPattern, 'upper-case variable names') },
  tokenUrl: { required: false, check: url('tokenUrl') },
  tokenHelp: { required: false, check: text('tokenHelp') },
  envLogin: {
    required: false,
    check: (v: unknown) => (v === 'verify' ? undefined : `envLogin ${show(v)} may only be 'verify'`),
  },
  docs: { required: false, check: text('docs') },
  execEnv: {
    required: false,
    check: (v: unknown) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).length === 0)
        return `execEnv ${show(v)} must be an object of variable names to 'token' or 'base-url'`;
      for (const [name, field] of Object.entries(v)) {
        if (!envPattern.test(name))
          return `execEnv variable ${show(name)} must be an upper-case variable name`;
        if (name.startsWith('LATCHKEY_'))
          return `execEnv variable ${show(name)} is one of latchkey's own names`;
        if (isExecControlVariable(name))
          return `execEnv variable ${show(name)} controls what a program runs, loads or trusts (LD_*, NODE_OPTIONS, PATH-like and the like), not a credential or server`;
        if (!(execEnvFields as readonly unknown[]).includes(field))
          return `execEnv ${name} ${show(field)} must be 'token' or 'base-url'`;
      }
      return undefined;
    },
  },
} satisfies { [K in keyof Required<ProviderManifest>]: { required: boolean; check: Check } };

/** Every field of `ProviderManifest`: what a plugin's `"latchkey": {"provider": ...}` block may hold. */
export const manifestKeys = Object.keys(manifestFields) as ReadonlyArray<keyof ProviderManifest>;

/** What is wrong with a provider's static fields, one sentence each; empty when they keep the contract. */
export function manifestProblems(manifest: unknown): string[] {
  if (typeof manifest !== 'object' || manifest === null) return ['the provider is not an object'];
  const fields = manifest as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of manifestKeys) {
    const rule = manifestFields[key];
    const value = fields[key];
    if (value === undefined) {
      if (rule.required) problems.push(`${key} is missing`);
      continue;
    }
    const problem = rule.check(value);
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
}

/** The manifest fields of a provider (undefined ones left out): what its package.json must declare. */
export function staticFields(provider: Partial<ProviderManifest>): Partial<ProviderManifest> {
  const out: Record<string, unknown> = {};
  for (const key of manifestKeys) {
    if (provider[key] !== undefined) out[key] = provider[key];
  }
  return out as Partial<ProviderManifest>;
}

/** The env var names latchkey itself reads for a provider: `LATCHKEY_<ID>_TOKEN`, `..._BASE_URL` and `..._ACCOUNT`. */
export function latchkeyEnvName(providerId: string, suffix: 'TOKEN' | 'BASE_URL' | 'ACCOUNT'): string {
  return `LATCHKEY_${providerId.toUpperCase().replace(/-/g, '_')}_${suffix}`;
}
