// For unit tests of configured OAuth providers: the definition of a provider `idp` whose endpoints are on a
// local test server at `url` (device authorization at /device, token at /token).
import { updateProviderDefinitions } from '@latchkey/storage';

export async function defineIdp(configDir: string, url: string): Promise<void> {
  await updateProviderDefinitions(configDir, () => ({
    result: undefined,
    next: new Map([
      [
        'idp',
        {
          clientId: 'cli',
          encoding: 'form' as const,
          deviceAuthorizationUrl: `${url}/device`,
          tokenUrl: `${url}/token`,
          baseUrl: url,
          addedAt: '2026-01-01T00:00:00.000Z',
        },
      ],
    ]),
  }));
}
