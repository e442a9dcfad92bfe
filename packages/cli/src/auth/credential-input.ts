import { isLatchkeyError, registerSecret, usageError } from '@latchkey/errors';
import {
  checkTokenInput,
  sanitizeIdentity,
  type Identity,
  type Provider,
  type ProviderContext,
} from '@latchkey/plugin-kit';
import { browserAvailable } from '../terminal/browser.js';
import { isConfiguredProvider } from '../providers/configured-providers.js';
import type { Runtime } from '../runtime/ports.js';
import type { TerminalUi } from '../terminal/terminal-ui.js';

export interface CredentialInput {
  withToken: boolean;
  token?: string;
  readStdin: () => Promise<string>;
  /** `--web` or `--device`: the sign-in flow asked for; absent: chosen by `chooseFlow`. */
  flow?: 'web' | 'device';
  /** `--no-browser`: nothing is opened (the default flow is then the device flow). */
  browser?: boolean;
}

export interface AcquiredCredential {
  token: string;
  identity: Identity;
  method: 'browser' | 'device' | 'token' | 'prompt';
  /** A refresh token from a configured provider's device login (`ConfiguredLoginResult`), to store. */
  refreshToken?: string;
}

/** Wrong answers a person may correct at the prompt before latchkey gives up. */
const promptAttempts = 5;

/**
 * Gets a verified credential the way the user asked: `--token` or `--with-token`, else the provider's
 * default method: its device flow, or a masked prompt in a terminal. Without a terminal and without a
 * token, a usage error names every way in.
 */
export async function acquireCredential(
  runtime: Runtime,
  provider: Provider,
  ctx: ProviderContext,
  ui: TerminalUi,
  input: CredentialInput,
): Promise<AcquiredCredential> {
  if (input.token !== undefined || input.withToken) {
    if (!provider.methods.includes('token')) {
      throw usageError(
        `${provider.title} does not accept tokens.`,
        `Run \`latchkey auth login --provider ${provider.id}\`.`,
      );
    }
    const token = input.token !== undefined ? input.token.trim() : (await input.readStdin()).trim();
    if (token === '') {
      throw usageError(
        'No token was given on standard input.',
        `Pipe it in: echo "$TOKEN" | latchkey auth login --provider ${provider.id} --with-token`,
      );
    }
    // The shared check comes before any provider code: a 10 MB or binary value never reaches a pattern.
    checkTokenInput(token, input.token !== undefined ? '--token' : 'standard input (--with-token)');
    registerSecret(token);
    provider.checkTokenFormat?.(token);
    if (input.token !== undefined) {
      ui.warn(
        'A token passed with --token is visible in your shell history and in `ps`. Prefer the prompt or --with-token (standard input).',
      );
    }
    return { token, identity: sanitizeIdentity(await provider.verify(token, ctx)), method: 'token' };
  }
  const flow = chooseFlow(runtime, provider, input);
  if (flow !== undefined) {
    try {
      const run = flow === 'browser' ? provider.browserLogin!.bind(provider) : provider.login!.bind(provider);
      const result: { token: string; identity: Identity; refreshToken?: unknown } = await run(ctx);
      const { token, identity, refreshToken } = result;
      registerSecret(token);
      return {
        token,
        identity: sanitizeIdentity(identity),
        method: flow,
        // A refresh token is kept only where latchkey can use it: a configured provider, or a plugin's refresh().
        ...((isConfiguredProvider(provider) || typeof provider.refresh === 'function') &&
          typeof refreshToken === 'string' &&
          refreshToken !== '' && { refreshToken }),
      };
    } finally {
      ui.close();
    }
  }
  if (!runtime.interactive) {
    const ways = [
      `pipe it in with --with-token (echo "$TOKEN" | latchkey auth login --provider ${provider.id} --with-token)`,
      `pass --token TOKEN (not stored)`,
      ...(provider.envVars.length ? [`set ${provider.envVars.join(' or ')}`] : []),
      'or run this in a terminal to be prompted',
    ];
    throw usageError(
      `${provider.title} signs in with a token, and there is no terminal to ask for one.`,
      `Either ${ways.join('; ')}.`,
    );
  }
  return promptForToken(runtime, provider, ctx, ui);
}

/**
 * The interactive sign-in to run, if any: `--web` or `--device` as asked (a usage error when the provider
 * has no such flow); else, for a provider with both, the browser where one can be opened here and the
 * device flow otherwise; else the one it has. Undefined: the provider signs in with a token only, or
 * lists `token` first.
 */
export function chooseFlow(
  runtime: Pick<Runtime, 'interactive' | 'env' | 'platform'>,
  provider: Pick<Provider, 'id' | 'title' | 'methods' | 'login' | 'browserLogin'>,
  input: Pick<CredentialInput, 'flow' | 'browser'>,
): 'browser' | 'device' | undefined {
  const web = provider.methods.includes('browser') && provider.browserLogin !== undefined;
  const device = provider.methods.includes('device') && provider.login !== undefined;
  if (input.flow === 'web') {
    if (web) return 'browser';
    throw usageError(
      `${provider.title} has no browser sign-in.`,
      device
        ? `Sign in with the device flow: \`latchkey auth login --provider ${provider.id}\`.`
        : `Sign in with a token: \`latchkey auth login --provider ${provider.id} --with-token\`.`,
    );
  }
  if (input.flow === 'device') {
    if (device) return 'device';
    throw usageError(
      `${provider.title} has no device flow.`,
      web
        ? `Sign in in the browser: \`latchkey auth login --provider ${provider.id} --web\` (with --paste for a browser on another machine).`
        : `Sign in with a token: \`latchkey auth login --provider ${provider.id} --with-token\`.`,
    );
  }
  const first = provider.methods[0];
  if (first === 'token') return undefined;
  if (web && device) {
    const here = browserAvailable({
      wanted: input.browser ?? true,
      interactive: runtime.interactive,
      env: runtime.env,
      platform: runtime.platform,
    });
    return here ? 'browser' : 'device';
  }
  return web ? 'browser' : device ? 'device' : undefined;
}

/** A masked prompt (nothing is echoed); a wrong or rejected token may be corrected without starting over. */
async function promptForToken(
  runtime: Runtime,
  provider: Provider,
  ctx: ProviderContext,
  ui: TerminalUi,
): Promise<AcquiredCredential> {
  const where = provider.tokenHelp
    ? ` (${provider.tokenHelp})`
    : provider.tokenUrl
      ? ` (create one at ${provider.tokenUrl})`
      : '';
  for (let attempt = 1; ; attempt += 1) {
    const token = (await runtime.prompter.password(`Paste your ${provider.title} token${where}:`)).trim();
    if (token === '') {
      if (attempt >= promptAttempts) {
        throw usageError(
          'No token was entered.',
          `Run the command again and paste the token, or pipe it in: echo "$TOKEN" | latchkey auth login --provider ${provider.id} --with-token`,
        );
      }
      ui.warn('Nothing was entered.');
      continue;
    }
    try {
      checkTokenInput(token, 'the prompt');
      registerSecret(token);
      provider.checkTokenFormat?.(token);
      return { token, identity: sanitizeIdentity(await provider.verify(token, ctx)), method: 'prompt' };
    } catch (error) {
      if (!isLatchkeyError(error) || error.code === 'CANCELLED' || attempt >= promptAttempts) throw error;
      ui.warn(`${error.message}${error.action ? ` ${error.action}` : ''}`);
      ui.info('Try again, or press Ctrl-C to stop.');
    }
  }
}
