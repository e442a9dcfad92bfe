import { parseBaseUrl } from '@latchkey/http';
import { latchkeyEnvName, type LoginOption, type Provider, type ProviderContext, type ProviderUi } from '@latchkey/plugin-kit';
import { httpClient, type Runtime } from './runtime.js';

/**
 * The server for a provider: `--base-url`, then `LATCHKEY_<ID>_BASE_URL` (and any alias the provider reads),
 * then the URL stored with the account, then the provider's default. The HTTPS rule is applied here,
 * before any request.
 */
export function resolveBaseUrl(
  runtime: Runtime,
  provider: { id: string; defaultBaseUrl: string },
  flag?: string,
  stored?: string,
): URL {
  if (flag !== undefined) return parseBaseUrl(flag, '--base-url');
  const variable = latchkeyEnvName(provider.id, 'BASE_URL');
  const fromEnv = runtime.env[variable]?.trim();
  if (fromEnv) return parseBaseUrl(fromEnv, variable);
  if (stored !== undefined) return parseBaseUrl(stored, 'the stored base URL');
  return parseBaseUrl(provider.defaultBaseUrl, `${provider.id}'s default base URL`);
}

/** Silent UI for non-interactive checks (status, logout): providers may still report through it. */
export function quietUi(runtime: Runtime): ProviderUi {
  return {
    showVerification: () => undefined,
    info: (message) => runtime.debug?.(message),
    warn: (message) => runtime.say(`! ${message}`),
  };
}

export function providerContext(
  runtime: Runtime,
  _provider: Provider,
  baseUrl: URL,
  ui: ProviderUi,
  options: Partial<Record<LoginOption, string>> = {},
): ProviderContext {
  return { baseUrl, http: httpClient(runtime), clock: runtime.clock, signal: runtime.signal, ui, options };
}
