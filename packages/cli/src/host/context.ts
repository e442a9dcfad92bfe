import { parseBaseUrl } from '@latchkey/http';
import { latchkeyEnvName, type Provider, type ProviderContext, type ProviderUi } from '@latchkey/plugin-kit';
import { httpClient, type Runtime } from './runtime.js';

/**
 * The server for a provider: `--base-url`; else, for a stored account, the URL stored with it (the server
 * that issued the credential); else `LATCHKEY_<ID>_BASE_URL` and the provider's own variables; else the
 * provider's default. The HTTPS rule is applied here, before any request.
 */
export function resolveBaseUrl(
  runtime: Runtime,
  provider: { id: string; defaultBaseUrl: string; baseUrlEnvVars?: string[] },
  flag?: string,
  stored?: string,
): URL {
  if (flag !== undefined) return parseBaseUrl(flag, '--base-url');
  if (stored !== undefined) return parseBaseUrl(stored, 'the stored base URL');
  for (const variable of [latchkeyEnvName(provider.id, 'BASE_URL'), ...(provider.baseUrlEnvVars ?? [])]) {
    const fromEnv = runtime.env[variable]?.trim();
    if (fromEnv) return parseBaseUrl(fromEnv, variable);
  }
  return parseBaseUrl(provider.defaultBaseUrl, `${provider.id}'s default base URL`);
}

/** Silent UI for non-interactive checks (status, logout): providers may still report through it. */
export function quietUi(runtime: Runtime): ProviderUi {
  return {
    showVerification: () => undefined,
    info: (message) => runtime.debug?.(message),
    warn: (message) => runtime.warn(message),
  };
}

export function providerContext(
  runtime: Runtime,
  provider: Provider,
  baseUrl: URL,
  ui: ProviderUi,
  options: Readonly<Record<string, string>> = {},
): ProviderContext {
  return {
    baseUrl,
    http: httpClient(runtime),
    clock: runtime.clock,
    signal: runtime.signal,
    ui,
    options,
    providerTitle: provider.title,
  };
}
