/**
 * Shared by the oauth-*.e2e tests: a REAL OpenID provider (panva's oidc-provider, from @latchkey/testkit)
 * per test, a CLI session per test, `auth providers add` and a device login driven through the built
 * binary, and the secrets every server handed out, kept for the file's leak check.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createCliSession, type CliRun, type CliSession } from '@latchkey/conformance/tools';
import { startOidcServer, type OidcServer, type OidcServerOptions } from '@latchkey/testkit';
import { RUN_TIMEOUT_MS, textWatcher } from './harness.js';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/**
 * How long a test waits for a server-side condition (a token expiring on the server, the server answering
 * every request it holds): a hang detector, generous for a loaded machine.
 */
export const CONDITION_WAIT_MS = 60_000;

/** Servers and sessions of one test file; `cleanup()` after each test, `dispose()` after all. */
export class OauthWorld {
  readonly servers: OidcServer[] = [];
  readonly sessions: CliSession[] = [];
  readonly secrets: string[] = [];
  #open: OidcServer[] = [];

  /** A server whose device authorization answers name a 1 s polling interval unless `options` say otherwise. */
  async server(options: OidcServerOptions = {}): Promise<OidcServer> {
    const server = await startOidcServer({ pollInterval: 1, ...options });
    this.servers.push(server);
    this.#open.push(server);
    return server;
  }

  async session(): Promise<CliSession> {
    const session = await createCliSession();
    this.sessions.push(session);
    return session;
  }

  async cleanup(): Promise<void> {
    const open = this.#open.splice(0);
    for (const server of open) this.secrets.push(...server.issuedSecrets());
    await Promise.all(open.map((s) => s.close()));
  }

  async dispose(): Promise<void> {
    await this.cleanup();
    await Promise.all(this.sessions.map((s) => s.dispose()));
  }

  runs(): CliRun[] {
    return this.sessions.flatMap((s) => s.runs);
  }

  allSecrets(): string[] {
    return [...this.secrets, ...this.#open.flatMap((s) => s.issuedSecrets())];
  }
}

export const opts = (env: Record<string, string | undefined> = {}, input?: string) => ({
  env,
  input,
  timeoutMs: RUN_TIMEOUT_MS,
});

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * `latchkey exec --provider corp-idp -- node` printing only the sha256 of the LATCHKEY_CORP_IDP_TOKEN it was
 * given, so a test can check which token the command got without the token on stdout.
 */
export function execTokenHash(session: CliSession): Promise<CliRun> {
  return session.run(
    [
      'exec',
      '--provider',
      'corp-idp',
      '--',
      process.execPath,
      '-e',
      "process.stdout.write(require('node:crypto').createHash('sha256').update(process.env.LATCHKEY_CORP_IDP_TOKEN ?? '').digest('hex'))",
    ],
    opts(),
  );
}

/** `latchkey auth providers add NAME --issuer <issuer> --client-id latchkey-cli ...extra`. */
export function addProvider(
  session: CliSession,
  name: string,
  issuer: string | undefined,
  extra: string[] = [],
  env: Record<string, string | undefined> = {},
): Promise<CliRun> {
  const args = ['auth', 'providers', 'add', name];
  if (issuer !== undefined) args.push('--issuer', issuer);
  if (!extra.includes('--client-id')) args.push('--client-id', 'latchkey-cli');
  return session.run([...args, ...extra], opts(env));
}

/** The user code in the CLI's stderr: from the `user_code=` of the complete link, else a XXXX-XXXX code. */
function userCodeIn(text: string): string | undefined {
  const fromLink = /[?&]user_code=([^\s&]+)/.exec(text)?.[1];
  if (fromLink) return decodeURIComponent(fromLink);
  return /\b([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\b/.exec(text)?.[1];
}

/**
 * Starts `auth login --provider NAME` in a pipe, reads the user code from its stderr, and lets `act` decide
 * it (approve/deny). Returns the finished run and the user code.
 */
export async function deviceLogin(
  session: CliSession,
  name: string,
  act: (userCode: string) => Promise<void>,
  options: { env?: Record<string, string | undefined>; extraArgs?: string[] } = {},
): Promise<{ run: CliRun; userCode: string }> {
  const watcher = textWatcher();
  const { done } = session.spawn(['auth', 'login', '--provider', name, ...(options.extraArgs ?? [])], {
    env: options.env ?? {},
    timeoutMs: RUN_TIMEOUT_MS,
    onStderr: (chunk) => watcher.feed(chunk),
  });
  const stderr = await Promise.race([
    watcher.until((t) => userCodeIn(t) !== undefined, 'the user code'),
    done.then((r) => r.stderr),
  ]);
  const userCode = userCodeIn(stderr) ?? '';
  if (userCode) await act(userCode);
  return { run: await done, userCode };
}

/** `<configDir>/providers.json`, parsed (undefined when absent), with its file mode. */
export async function readProviders(configDir: string): Promise<
  | {
      doc: { version: number; providers: Record<string, Record<string, unknown>> };
      mode: number;
      text: string;
    }
  | undefined
> {
  const file = join(configDir, 'providers.json');
  if (!existsSync(file)) return undefined;
  const text = await readFile(file, 'utf8');
  return { doc: JSON.parse(text) as never, mode: (await stat(file)).mode & 0o777, text };
}

/** The definitions stored (empty when there is no providers.json). */
export async function storedProviders(configDir: string): Promise<Record<string, Record<string, unknown>>> {
  return (await readProviders(configDir))?.doc.providers ?? {};
}

/** The `--json` envelope's result. */
export function resultOf<T = Record<string, unknown>>(run: CliRun): T {
  return (JSON.parse(run.stdout) as { result: T }).result;
}

/** Waits (bounded) until the clock reaches `at` (ms since the epoch): the refresh margin is about time. */
export async function waitUntil(at: number, maxMs = 60_000): Promise<void> {
  const ms = Math.min(Math.max(0, at - Date.now()), maxMs);
  await new Promise((resolve) => setTimeout(resolve, ms));
}
