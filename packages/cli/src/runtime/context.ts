import type { Provider, ProviderContext, ProviderUi } from '@latchkey/plugin-kit';
import { serverFor } from '../providers/provider-facts.js';
import type { Runtime } from './ports.js';
import { httpClient } from './runtime.js';

/** The server for a provider (see `serverFor`), from this run's environment. */
export function resolveBaseUrl(
  runtime: Runtime,
  provider: { id: string; defaultBaseUrl: string; baseUrlEnvVars?: string[] },
  flag?: string,
  stored?: string,
): URL {
  return serverFor(provider, runtime.env, {
    ...(flag !== undefined && { flag }),
    ...(stored !== undefined && { stored }),
  });
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
