/**
 * Proxy support: Node's built-in fetch ignores HTTPS_PROXY/HTTP_PROXY/NO_PROXY, so when one is set the
 * client uses undici's fetch with an agent that reads them (loaded only then, to keep start-up lean).
 */
const proxyVariables = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/** True when the environment names a proxy. */
export function proxyConfigured(env: NodeJS.ProcessEnv): boolean {
  return proxyVariables.some((name) => Boolean(env[name]?.trim()));
}

/** A fetch that goes through the proxy the environment names, honouring NO_PROXY. */
export async function createProxyFetch(env: NodeJS.ProcessEnv): Promise<typeof globalThis.fetch> {
  const { EnvHttpProxyAgent, fetch } = await import('undici');
  const pick = (...names: string[]) => names.map((n) => env[n]?.trim()).find((v) => v) || undefined;
  const agent = new EnvHttpProxyAgent({
    httpProxy: pick('HTTP_PROXY', 'http_proxy'),
    httpsProxy: pick('HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'),
    noProxy: pick('NO_PROXY', 'no_proxy'),
  });
  return ((input: Parameters<typeof globalThis.fetch>[0], init?: RequestInit) =>
    fetch(
      input as string,
      { ...(init as object), dispatcher: agent } as Parameters<typeof fetch>[1],
    )) as unknown as typeof globalThis.fetch;
}
