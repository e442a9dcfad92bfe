/**
 * The static part of the provider contract, as plain functions: what is wrong with a provider's shape, and
 * the static fields its package.json must declare.
 */
import type { Provider, ProviderManifest } from '@latchkey/plugin-kit';

/** Every field of `ProviderManifest`: what a plugin's `"latchkey": {"provider": ...}` block holds. */
export const manifestKeys = [
  'id',
  'title',
  'defaultBaseUrl',
  'envVars',
  'methods',
  'loginOptions',
  'baseUrlEnvVars',
  'tokenUrl',
  'tokenHelp',
  'envLogin',
  'docs',
] as const satisfies ReadonlyArray<keyof ProviderManifest>;

/** The provider's static fields, as its package.json must declare them (undefined ones left out). */
export function staticFields(provider: Partial<ProviderManifest>): Partial<ProviderManifest> {
  const out: Record<string, unknown> = {};
  for (const key of manifestKeys) {
    if (provider[key] !== undefined) out[key] = provider[key];
  }
  return out as Partial<ProviderManifest>;
}

const idPattern = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const envPattern = /^[A-Z][A-Z0-9_]*$/;

function isHttpsUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

function duplicates(values: readonly unknown[]): unknown[] {
  return values.filter((v, i) => values.indexOf(v) !== i);
}

/** Everything wrong with a provider's shape; empty when it keeps the contract. */
export function contractProblems(provider: Provider): string[] {
  const problems: string[] = [];
  const p = provider as Partial<Provider> & Record<string, unknown>;
  if (typeof p.id !== 'string' || !idPattern.test(p.id) || p.id.length < 2 || p.id.length > 32) {
    problems.push(
      `id ${JSON.stringify(p.id)} must be 2-32 lower-case letters and digits in dash-separated words, starting with a letter`,
    );
  }
  if (typeof p.title !== 'string' || p.title.trim() === '' || p.title !== p.title.trim()) {
    problems.push(`title ${JSON.stringify(p.title)} must be a non-empty string without surrounding spaces`);
  }
  if (!isHttpsUrl(p.defaultBaseUrl))
    problems.push(`defaultBaseUrl ${JSON.stringify(p.defaultBaseUrl)} must be an https:// URL`);
  if (!Array.isArray(p.envVars) || !p.envVars.every((v) => typeof v === 'string' && envPattern.test(v))) {
    problems.push(
      `envVars ${JSON.stringify(p.envVars)} must be a list of upper-case variable names (A-Z, 0-9, _)`,
    );
  } else {
    if (duplicates(p.envVars).length > 0)
      problems.push(`envVars lists ${JSON.stringify(duplicates(p.envVars))} twice`);
    const reserved = p.envVars.filter((v) => v.startsWith('LATCHKEY_'));
    if (reserved.length > 0)
      problems.push(
        `envVars ${JSON.stringify(reserved)} are latchkey's own names (LATCHKEY_<ID>_TOKEN is read anyway)`,
      );
  }
  if (
    !Array.isArray(p.methods) ||
    p.methods.length === 0 ||
    !p.methods.every((m) => m === 'device' || m === 'token')
  ) {
    problems.push(`methods ${JSON.stringify(p.methods)} must be a non-empty list of 'device' and/or 'token'`);
  } else if (duplicates(p.methods).length > 0) {
    problems.push(`methods lists ${JSON.stringify(duplicates(p.methods))} twice`);
  }
  if (Array.isArray(p.methods) && p.methods.includes('device') && typeof p.login !== 'function') {
    problems.push("methods includes 'device' but login() is missing");
  }
  if (typeof p.verify !== 'function') problems.push('verify() is missing');
  for (const optional of ['checkTokenFormat', 'login', 'revoke'] as const) {
    if (p[optional] !== undefined && typeof p[optional] !== 'function')
      problems.push(`${optional} must be a function`);
  }
  if (
    p.loginOptions !== undefined &&
    (!Array.isArray(p.loginOptions) || !p.loginOptions.every((o) => o === 'clientName' || o === 'clientId'))
  ) {
    problems.push(`loginOptions ${JSON.stringify(p.loginOptions)} may only list 'clientName' and 'clientId'`);
  }
  if (
    p.baseUrlEnvVars !== undefined &&
    (!Array.isArray(p.baseUrlEnvVars) ||
      !p.baseUrlEnvVars.every((v) => typeof v === 'string' && envPattern.test(v)))
  ) {
    problems.push(`baseUrlEnvVars ${JSON.stringify(p.baseUrlEnvVars)} must be upper-case variable names`);
  }
  if (p.tokenUrl !== undefined && !isHttpsUrl(p.tokenUrl))
    problems.push(`tokenUrl ${JSON.stringify(p.tokenUrl)} must be an https:// URL`);
  if (p.envLogin !== undefined && p.envLogin !== 'verify')
    problems.push(`envLogin ${JSON.stringify(p.envLogin)} may only be 'verify'`);
  for (const text of ['tokenHelp', 'docs'] as const) {
    if (p[text] !== undefined && (typeof p[text] !== 'string' || p[text].trim() === ''))
      problems.push(`${text} must be a non-empty string`);
  }
  return problems;
}
