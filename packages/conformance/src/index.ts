/**
 * `@latchkey/conformance`: the checks every latchkey provider plugin must pass, as one vitest suite.
 * A plugin's test file starts a server (its own emulator, `startAcmeEmulator` from `@latchkey/conformance/tools`, or a staging host) and calls
 * `describeProviderConformance({...})`; each check is its own `it`, so a report names exactly what broke.
 * The contract itself is plugin-kit's `validateProvider()`: the same check the host makes when it loads a plugin.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  isLatchkeyError,
  mask,
  type Clock,
  staticFields,
  validateProvider,
  type LatchkeyError,
  type LoginResult,
  type Provider,
} from '@latchkey/plugin-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, createCliSession, type CliRun, type CliSession } from './cli-runner.js';
import { createFakeClock } from './clock.js';
import {
  createRecordingContext,
  jsonObject,
  type RecordedExchange,
  type RecordingContextOptions,
} from './recording.js';

export { manifestKeys, staticFields, validateProvider } from '@latchkey/plugin-kit';
export {
  assertNoSecretLeaks,
  createCliSession,
  defaultCliBin,
  type CliRun,
  type CliSession,
  type CliSessionOptions,
  type RunOptions,
  type SecretLeakOptions,
} from './cli-runner.js';
export { createFakeClock, type FakeClock } from './clock.js';
export {
  describeOAuthServerConformance,
  oauthServerChecks,
  type OAuthServerCheck,
  type OAuthServerClient,
  type OAuthServerConformanceOptions,
  type OAuthServerTokens,
} from './oauth-server.js';
export {
  createRecordingContext,
  type RecordedExchange,
  type RecordingContext,
  type RecordingContextOptions,
  type UiCall,
} from './recording.js';

/** How to get a device login approved on the server. */
export interface DeviceFlowConformance {
  /** Approves `userCode` as the user would in the browser; called after the first poll has been answered. */
  approve: (userCode: string) => Promise<void> | void;
  /** `ctx.options` for the login, by the names the provider declares in `loginOptions`. */
  options?: Record<string, string>;
  /**
   * The login's clock. Default the real clock, so the poll spacing is measured in real time: keep the server's
   * interval short (1 s). A fake clock is fine when the server's `slow_down` rule follows the same clock.
   */
  clock?: Clock;
  /** The login is cancelled after this long; default 20 s. */
  timeoutMs?: number;
}

export interface BrowserFlowConformance {
  /**
   * What the person's browser does with the authorization URL: approves on the server and returns the
   * address the server sends it back to (the loopback redirect with `code` and `state`). The kit then
   * brings that address to the provider's listener, as the browser would.
   */
  approve: (url: URL) => Promise<URL | string> | URL | string;
  /** `ctx.options` for the login. */
  options?: Record<string, string>;
  /** The login is cancelled after this long; default 20 s. */
  timeoutMs?: number;
}

/** Run the real `latchkey` binary with the plugin linked (`latchkey plugins link <pluginDir>`). */
export interface LinkedPluginCli {
  /** Default env LATCHKEY_BIN, else packages/cli/bin/run.cjs of this repository. */
  bin?: string;
  /** The plugin's root (its package.json and built dist). */
  pluginDir: string;
}

/** Run the real `latchkey` binary as it is: the provider is bundled with it. */
export interface BundledPluginCli {
  bin?: string;
  bundled: true;
}

export interface ConformanceOptions {
  /** What the plugin's `latchkey:provider` hook returns. */
  provider: Provider;
  /** Path to the plugin's package.json: its `latchkey.provider` block must equal the provider's static fields. */
  packageJson?: string;
  /** The emulator or staging server (a function when it is known only once a `beforeAll` has run). */
  baseUrl: string | (() => string);
  /** A token the server accepts. */
  validToken: () => Promise<string> | string;
  /** A well-formed token the server does not accept. */
  rejectedToken: string | (() => string);
  /** Values `checkTokenFormat` must refuse before any request. */
  malformedTokens?: string[];
  /** For providers with the 'device' method: how to approve a code on the server. */
  deviceFlow?: DeviceFlowConformance;
  /** For providers with the 'browser' method: how the browser approves (see `BrowserFlowConformance`). */
  browserFlow?: BrowserFlowConformance;
  /** Check `latchkey auth providers` and `auth token` with the real binary. */
  cli?: LinkedPluginCli | BundledPluginCli;
  /** The describe block's name; default `provider conformance: <id>`. */
  name?: string;
}

/** Allowed lateness of a timer compared with the clock: timers may fire a little early by `Date.now`. */
const TIMER_SLACK_MS = 15;

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs `action` (sync throws included) and returns how it ended. */
async function settle<T>(action: () => Promise<T> | T): Promise<Settled<T>> {
  try {
    return { ok: true, value: await action() };
  } catch (error) {
    return { ok: false, error };
  }
}

function value<T>(v: T | (() => T)): T {
  return typeof v === 'function' ? (v as () => T)() : v;
}

function describeError(error: unknown): string {
  if (isLatchkeyError(error)) return `LatchkeyError ${error.code} (exit ${error.exitCode}): ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The rejection of a settled promise as a LatchkeyError, failing the test with a clear reason otherwise. */
function expectLatchkeyError(result: Settled<unknown>, what: string): LatchkeyError {
  if (result.ok)
    throw new Error(`${what}: expected a LatchkeyError, but it resolved to ${JSON.stringify(result.value)}`);
  if (!isLatchkeyError(result.error)) {
    throw new Error(`${what}: expected a LatchkeyError, got ${describeError(result.error)}`, {
      cause: result.error,
    });
  }
  return result.error;
}

function leaks(text: string, secrets: string[]): string[] {
  return secrets.filter((s) => s !== '' && text.includes(s)).map((s) => mask(s));
}

function shownRun(run: CliRun, secrets: string[]): string {
  let out = `latchkey ${run.args.join(' ')} -> exit ${run.exitCode}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
  for (const s of secrets) out = out.split(s).join(mask(s));
  return out;
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** True when a request body carries `secret` (raw JSON or form-encoded). */
function carries(exchange: RecordedExchange, secret: string): boolean {
  const body = exchange.body ?? '';
  return (
    body.includes(secret) ||
    body.includes(encodeURIComponent(secret)) ||
    body.includes(new URLSearchParams({ s: secret }).toString().slice(2))
  );
}

interface PackageJson {
  name?: string;
  oclif?: { hooks?: Record<string, string | string[]> };
  latchkey?: { provider?: unknown };
}

/**
 * Registers a vitest `describe` with the provider conformance checks. Call it at the top level of a test
 * file; start the server first (top-level `await`) or pass `baseUrl` as a function read in the tests.
 */
export function describeProviderConformance(options: ConformanceOptions): void {
  const { provider } = options;
  let tokenPromise: Promise<string> | undefined;
  const validToken = () => (tokenPromise ??= Promise.resolve(options.validToken()));
  const context = (overrides: Partial<RecordingContextOptions> = {}) =>
    createRecordingContext({ baseUrl: value(options.baseUrl), ...overrides });

  describe(options.name ?? `provider conformance: ${String(provider.id)}`, () => {
    it('keeps the provider contract (validateProvider: the check the host makes when it loads the plugin)', () => {
      expect(validateProvider(provider)).toEqual([]);
    });

    if (options.packageJson !== undefined) {
      const packageJsonPath = resolve(options.packageJson);
      const readPackage = async () => JSON.parse(await readFile(packageJsonPath, 'utf8')) as PackageJson;

      it('declares the same static fields in package.json "latchkey.provider"', async () => {
        const pkg = await readPackage();
        expect(
          pkg.latchkey?.provider,
          `${packageJsonPath} has no "latchkey": {"provider": {...}} block`,
        ).toBeTypeOf('object');
        expect(pkg.latchkey?.provider).toStrictEqual(staticFields(provider));
      });

      it('answers the latchkey:provider hook of its built package with this provider', async () => {
        const pkg = await readPackage();
        const declared = pkg.oclif?.hooks?.['latchkey:provider'];
        const files = declared === undefined ? [] : Array.isArray(declared) ? declared : [declared];
        expect(
          files,
          `${packageJsonPath} declares no "oclif.hooks" entry for latchkey:provider`,
        ).not.toHaveLength(0);
        const answers: unknown[] = [];
        for (const file of files) {
          const module = (await import(pathToFileURL(join(dirname(packageJsonPath), file)).href)) as {
            default?: unknown;
          };
          expect(module.default, `${file} has no default export`).toBeTypeOf('function');
          const answer = await (module.default as (this: unknown, options: unknown) => unknown).call({}, {});
          answers.push(...(Array.isArray(answer) ? answer : [answer]));
        }
        const found = answers.find(
          (a) => typeof a === 'object' && a !== null && (a as Provider).id === provider.id,
        ) as Provider | undefined;
        expect(found, `the hook returned no provider with id ${JSON.stringify(provider.id)}`).toBeDefined();
        expect(staticFields(found!)).toStrictEqual(staticFields(provider));
        expect(validateProvider(found!)).toEqual([]);
      });
    }

    if (provider.checkTokenFormat !== undefined) {
      it('checkTokenFormat accepts the valid and the rejected (well-formed) token', async () => {
        const tokens = [await validToken(), value(options.rejectedToken)];
        for (const token of tokens) {
          const result = await settle(() => provider.checkTokenFormat!(token));
          expect(
            result.ok,
            `checkTokenFormat refused the well-formed token ${mask(token)}: ${result.ok ? '' : describeError(result.error)}`,
          ).toBe(true);
        }
      });
    }

    it('verify(valid token) resolves to an identity with an account, without the token in it', async () => {
      const token = await validToken();
      const { ctx, exchanges } = context();
      const result = await settle(() => provider.verify(token, ctx));
      if (!result.ok)
        throw new Error(`verify(valid token) failed: ${describeError(result.error)}`, {
          cause: result.error,
        });
      const identity = result.value;
      expect(typeof identity?.account, 'identity.account must be a string').toBe('string');
      expect(identity.account.trim(), 'identity.account must not be empty').not.toBe('');
      expect(leaks(JSON.stringify(identity), [token]), 'the identity contains the token').toEqual([]);
      expect(exchanges.length, 'verify must ask the server').toBeGreaterThan(0);
      expect(
        exchanges.filter((e) => e.url.includes(token)).map((e) => e.method),
        'the token went into a URL',
      ).toEqual([]);
      expect(
        exchanges.every((e) => new URL(e.url).origin === ctx.baseUrl.origin),
        'verify went to another server than the base URL',
      ).toBe(true);
    });

    it('verify(rejected token) rejects with a LatchkeyError, exit 4, that does not quote the token', async () => {
      const token = value(options.rejectedToken);
      const { ctx, exchanges } = context();
      const error = expectLatchkeyError(
        await settle(() => provider.verify(token, ctx)),
        'verify(rejected token)',
      );
      expect(error.exitCode, describeError(error)).toBe(4);
      expect(
        leaks(`${error.message}\n${error.action ?? ''}\n${JSON.stringify(error.toEnvelope?.() ?? {})}`, [
          token,
        ]),
        'the error quotes the token',
      ).toEqual([]);
      expect(
        exchanges.length,
        'verify must ask the server before rejecting a well-formed token',
      ).toBeGreaterThan(0);
    });

    for (const [index, malformed] of (options.malformedTokens ?? []).entries()) {
      it(`refuses malformed token #${index + 1} (${JSON.stringify(malformed.length > 12 ? `${malformed.slice(0, 8)}...` : malformed)}) before any request, exit 2 or 4`, async () => {
        const { ctx, exchanges } = context();
        // What the host does with a token the user typed: checkTokenFormat first, then verify.
        const result = await settle(() => {
          provider.checkTokenFormat?.(malformed);
          return provider.verify(malformed, ctx);
        });
        expect(provider.checkTokenFormat, 'the provider has no checkTokenFormat()').toBeTypeOf('function');
        const error = expectLatchkeyError(result, `checkTokenFormat(${JSON.stringify(malformed)})`);
        expect([2, 4], describeError(error)).toContain(error.exitCode);
        expect(
          exchanges.map((e) => `${e.method} ${e.url}`),
          'requests were sent for a malformed token',
        ).toEqual([]);
      });
    }

    it('verify against an unreachable server rejects with a retryable LatchkeyError, exit 1', async () => {
      const token = await validToken();
      const clock = createFakeClock();
      const { ctx, exchanges } = createRecordingContext({
        baseUrl: `http://127.0.0.1:${await closedPort()}`,
        clock,
      });
      const error = expectLatchkeyError(
        await settle(() => provider.verify(token, ctx)),
        'verify(unreachable server)',
      );
      expect(error.exitCode, describeError(error)).toBe(1);
      expect(error.retryable, describeError(error)).toBe(true);
      expect(leaks(`${error.message}\n${error.action ?? ''}`, [token]), 'the error quotes the token').toEqual(
        [],
      );
      expect(exchanges.length, 'verify never tried the server').toBeGreaterThan(0);
      expect(
        exchanges.every((e) => e.failed !== undefined),
        'a closed port answered?',
      ).toBe(true);
    });

    const deviceFlow = options.deviceFlow;
    if (provider.methods?.includes('device') && deviceFlow !== undefined) {
      const timeoutMs = deviceFlow.timeoutMs ?? 20_000;
      it(
        'device login: shows the code once, polls at the interval without slow_down, returns a token that verifies, leaks nothing',
        async () => {
          const controller = new AbortController();
          const timer = setTimeout(() => controller.abort(), timeoutMs);
          let deviceCode: string | undefined;
          let userCode: string | undefined;
          let approved = false;
          let approveError: unknown;
          const recording = context({
            ...(deviceFlow.clock ? { clock: deviceFlow.clock } : {}),
            signal: controller.signal,
            ...(deviceFlow.options ? { options: deviceFlow.options } : {}),
            afterResponse: async (exchange) => {
              const body = jsonObject(exchange.responseText);
              if (deviceCode === undefined && typeof body?.device_code === 'string') {
                deviceCode = body.device_code;
                if (typeof body.user_code === 'string') userCode = body.user_code;
                return;
              }
              // Approve once the first poll has been answered "pending", so the spacing of polls is seen too.
              if (
                !approved &&
                deviceCode !== undefined &&
                carries(exchange, deviceCode) &&
                exchange.status !== 200
              ) {
                approved = true;
                const shown = recording.uiCalls.find((c) => c.method === 'showVerification');
                const code = shown?.method === 'showVerification' ? shown.verification.userCode : userCode;
                try {
                  await deviceFlow.approve(code ?? '');
                } catch (error) {
                  approveError = error;
                  controller.abort();
                }
              }
            },
          });
          const { ctx, exchanges, uiCalls } = recording;
          let result: Settled<LoginResult>;
          try {
            result = await settle(() => provider.login!(ctx));
          } finally {
            clearTimeout(timer);
          }
          if (approveError !== undefined)
            throw new Error(`approving the code failed: ${describeError(approveError)}`, {
              cause: approveError,
            });
          if (!result.ok) {
            const why = controller.signal.aborted ? ` (cancelled after ${timeoutMs} ms)` : '';
            const answers = exchanges.map(
              (e) =>
                `${e.status ?? 'no answer'}${typeof jsonObject(e.responseText)?.error === 'string' ? ` ${String(jsonObject(e.responseText)?.error)}` : ''}`,
            );
            throw new Error(
              `login() failed${why}: ${describeError(result.error)}\nanswers seen: ${answers.join(', ')}`,
              { cause: result.error },
            );
          }
          const { token, identity } = result.value;
          expect(deviceCode, 'no answer carried a device_code').toBeTypeOf('string');
          const secrets = [token, deviceCode!];

          // The user saw the code and the URL once, and never the device code.
          const shown = uiCalls.filter((c) => c.method === 'showVerification');
          expect(shown, 'showVerification must be called exactly once').toHaveLength(1);
          const verification = shown[0]!.method === 'showVerification' ? shown[0]!.verification : undefined;
          expect(verification?.userCode, 'showVerification got no user code').toMatch(/\S/);
          if (userCode !== undefined) expect(verification?.userCode).toBe(userCode);
          expect(verification?.verificationUri, 'verificationUri').toMatch(/^https?:\/\/\S+$/);
          if (verification?.verificationUriComplete !== undefined) {
            expect(verification.verificationUriComplete, 'verificationUriComplete').toMatch(
              /^https?:\/\/\S+$/,
            );
          }

          // RFC 8628 section 3.5: wait `interval` before the first poll and between polls; never told to slow down.
          const authorization = exchanges.find(
            (e) => typeof jsonObject(e.responseText)?.device_code === 'string',
          )!;
          const intervalSec = jsonObject(authorization.responseText)?.interval;
          const intervalMs = (typeof intervalSec === 'number' ? intervalSec : 5) * 1000;
          const polls = exchanges.filter((e) => carries(e, deviceCode!));
          expect(polls.length, 'no poll carried the device code').toBeGreaterThan(0);
          let previousAnswer = authorization.answeredAt!;
          for (const [i, poll] of polls.entries()) {
            const waited = poll.sentAt - previousAnswer;
            expect(
              waited,
              `poll #${i + 1} came ${waited} ms after the previous answer; the interval is ${intervalMs} ms`,
            ).toBeGreaterThanOrEqual(intervalMs - TIMER_SLACK_MS);
            expect(jsonObject(poll.responseText)?.error, `poll #${i + 1} was answered slow_down`).not.toBe(
              'slow_down',
            );
            previousAnswer = poll.answeredAt ?? poll.sentAt;
          }
          expect(
            exchanges.filter((e) => e.url.includes(deviceCode!)).length,
            'the device code went into a URL',
          ).toBe(0);

          // The token works, and nothing the user saw holds a secret.
          expect(token, 'login() returned no token').toMatch(/\S/);
          expect(identity?.account, 'login() returned no identity.account').toMatch(/\S/);
          expect(
            leaks(JSON.stringify(uiCalls), secrets),
            'a ui call contains the token or device code',
          ).toEqual([]);
          expect(
            leaks(JSON.stringify(identity), secrets),
            'the identity contains the token or device code',
          ).toEqual([]);
          const check = await settle(() => provider.verify(token, context().ctx));
          if (!check.ok)
            throw new Error(`the token from login() does not verify: ${describeError(check.error)}`, {
              cause: check.error,
            });
          expect(check.value.account).toMatch(/\S/);
        },
        timeoutMs + 10_000,
      );
    }

    const browserFlow = options.browserFlow;
    if (provider.methods?.includes('browser') && browserFlow !== undefined) {
      const timeoutMs = browserFlow.timeoutMs ?? 20_000;
      it(
        'browser login: S256 PKCE, a state, a one-shot 127.0.0.1 listener that ignores a wrong state; the token verifies; refresh() renews it; nothing leaks',
        async () => {
          const controller = new AbortController();
          const timer = setTimeout(() => controller.abort(), timeoutMs);
          let ignoredWrongState: number | undefined;
          let redirectUri = '';
          let browserError: unknown;
          const recording = context({
            signal: controller.signal,
            ...(browserFlow.options ? { options: browserFlow.options } : {}),
            onAuthorization: (prompt) => {
              redirectUri = prompt.redirectUri;
              // The browser acts while the provider waits on its listener (not awaited here).
              void (async () => {
                const forged = new URL(prompt.redirectUri);
                forged.searchParams.set('code', 'forged-code');
                forged.searchParams.set('state', 'not-the-state');
                ignoredWrongState = (await fetch(forged)).status;
                const back = new URL(await browserFlow.approve(prompt.url));
                await (await fetch(back)).text();
              })().catch((error: unknown) => {
                browserError = error;
                controller.abort();
              });
            },
          });
          const { ctx, exchanges, uiCalls } = recording;
          let result: Settled<LoginResult>;
          try {
            result = await settle(() => provider.browserLogin!(ctx));
          } finally {
            clearTimeout(timer);
          }
          if (browserError !== undefined)
            throw new Error(`the browser's part failed: ${describeError(browserError)}`, {
              cause: browserError,
            });
          if (!result.ok)
            throw new Error(`browserLogin() failed: ${describeError(result.error)}`, { cause: result.error });
          const { token, identity, refreshToken } = result.value;

          const shown = uiCalls.filter((c) => c.method === 'showAuthorization');
          expect(shown, 'showAuthorization must be called exactly once').toHaveLength(1);
          const authorization = new URL(shown[0]!.method === 'showAuthorization' ? shown[0]!.url : '');
          expect(authorization.protocol === 'https:' || authorization.hostname === '127.0.0.1').toBe(true);
          expect(authorization.searchParams.get('code_challenge_method'), 'PKCE method').toBe('S256');
          expect(authorization.searchParams.get('code_challenge'), 'PKCE challenge').toMatch(
            /^[A-Za-z0-9_-]{43}$/,
          );
          expect(authorization.searchParams.get('state')?.length ?? 0, 'state').toBeGreaterThanOrEqual(16);
          expect(authorization.searchParams.get('redirect_uri')).toBe(redirectUri);
          expect(redirectUri, 'the redirect URI').toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
          expect(ignoredWrongState, 'a callback with a wrong state is answered 400').toBe(400);
          // One-shot: nobody listens once the login is over.
          expect(await settle(() => fetch(redirectUri)), 'the listener closes after the login').toMatchObject(
            { ok: false },
          );
          // The code verifier went to the token endpoint only, never into a URL.
          const verifier = exchanges
            .map((e) => (e.body ? new URLSearchParams(e.body).get('code_verifier') : null))
            .find((v): v is string => v !== null);
          const secrets = [token, ...(refreshToken ? [refreshToken] : []), ...(verifier ? [verifier] : [])];
          expect(exchanges.filter((e) => verifier !== undefined && e.url.includes(verifier)).length).toBe(0);
          expect(
            leaks(JSON.stringify(uiCalls), [token, ...(refreshToken ? [refreshToken] : [])]),
            'a ui call holds a token',
          ).toEqual([]);
          expect(leaks(JSON.stringify(identity), secrets), 'the identity holds a secret').toEqual([]);
          const check = await settle(() => provider.verify(token, context().ctx));
          if (!check.ok)
            throw new Error(`the token from browserLogin() does not verify: ${describeError(check.error)}`);

          if (provider.refresh !== undefined) {
            expect(refreshToken, 'a provider with refresh() returns a refreshToken from its login').toMatch(
              /\S/,
            );
            const renewed = await settle(() =>
              provider.refresh!({ token, refreshToken: refreshToken! }, context().ctx),
            );
            if (!renewed.ok)
              throw new Error(`refresh() failed: ${describeError(renewed.error)}`, { cause: renewed.error });
            expect(renewed.value.token, 'refresh() returns a new token').not.toBe(token);
            const again = await settle(() => provider.verify(renewed.value.token, context().ctx));
            if (!again.ok)
              throw new Error(`the refreshed token does not verify: ${describeError(again.error)}`);
            if (renewed.value.expiresAt !== undefined)
              expect(Number.isNaN(Date.parse(renewed.value.expiresAt))).toBe(false);
          }
        },
        timeoutMs + 10_000,
      );
    }

    const cli = options.cli;
    if (cli !== undefined) describeCli(options, cli, validToken);
  });
}

function describeCli(
  options: ConformanceOptions,
  cli: LinkedPluginCli | BundledPluginCli,
  validToken: () => Promise<string>,
): void {
  const { provider } = options;
  const linked = 'pluginDir' in cli;
  describe(
    linked ? 'the latchkey binary, with the plugin linked' : 'the latchkey binary, with the plugin bundled',
    () => {
      let session: CliSession;
      let env: Record<string, string>;
      let packageName: string | undefined;

      beforeAll(async () => {
        session = await createCliSession(cli.bin !== undefined ? { bin: cli.bin } : {});
        // oclif keeps its list of linked plugins in its data dir: inside the throwaway HOME.
        env = { LATCHKEY_DATA_DIR: join(session.homeDir, '.local', 'share', 'latchkey') };
        const packageJson = linked ? join(cli.pluginDir, 'package.json') : options.packageJson;
        if (packageJson !== undefined)
          packageName = (JSON.parse(await readFile(packageJson, 'utf8')) as PackageJson).name;
        if (linked) {
          // --no-install: link the built plugin as it is; never run a package manager in the plugin's directory.
          const link = await session.run(['plugins', 'link', '--no-install', resolve(cli.pluginDir)], {
            env,
          });
          if (link.exitCode !== 0) throw new Error(`could not link the plugin:\n${shownRun(link, [])}`);
        }
      }, 60_000);

      afterAll(async () => {
        await session?.dispose();
      });

      it('auth providers --json lists the provider and its plugin, not broken', async () => {
        const run = await session.run(['auth', 'providers', '--json'], { env });
        expect(run.exitCode, shownRun(run, [])).toBe(0);
        // The --json envelope (docs/json.md): {status, result, warnings}.
        const { result: listing } = JSON.parse(run.stdout) as {
          result: {
            providers: Array<{
              id: string;
              title: string;
              methods: string[];
              envVars: string[];
              plugin: string;
            }>;
            broken: Array<{ plugin: string; reason: string }>;
            conflicts: Array<{ id: string }>;
          };
        };
        const entry = listing.providers.find((p) => p.id === provider.id);
        expect(entry, `${provider.id} is not listed:\n${run.stdout}`).toBeDefined();
        expect(entry!.title).toBe(provider.title);
        expect(entry!.methods).toEqual(provider.methods);
        for (const name of provider.envVars) expect(entry!.envVars).toContain(name);
        if (packageName !== undefined) {
          expect(
            entry!.plugin === packageName || entry!.plugin.startsWith(`${packageName}@`),
            `listed as from ${entry!.plugin}`,
          ).toBe(true);
          expect(
            listing.broken.filter((b) => b.plugin === packageName || b.plugin.startsWith(`${packageName}@`)),
          ).toEqual([]);
        }
        expect(listing.conflicts.filter((c) => c.id === provider.id)).toEqual([]);
      }, 30_000);

      it('auth token prints exactly the token from the env var and a newline, exit 0 (full CLI, then fast path)', async () => {
        const token = await validToken();
        const envVar = provider.envVars[0];
        expect(envVar, 'the provider declares no env var').toBeTypeOf('string');
        const runs = [];
        for (let i = 0; i < 2; i += 1) {
          runs.push(
            await session.run(['auth', 'token', '--provider', provider.id], {
              env: { ...env, [envVar!]: token },
            }),
          );
        }
        for (const run of runs) {
          expect(run.exitCode, shownRun(run, [token])).toBe(0);
          expect(
            run.stdout === `${token}\n`,
            `stdout is not exactly the token and a newline:\n${shownRun(run, [token])}`,
          ).toBe(true);
        }
        assertNoSecretLeaks(runs, [token]);
      }, 30_000);

      it('auth token without a credential exits 4 with nothing on stdout', async () => {
        const token = await validToken();
        const run = await session.run(['auth', 'token', '--provider', provider.id], { env });
        expect(run.exitCode, shownRun(run, [token])).toBe(4);
        expect(run.stdout).toBe('');
        expect(run.stderr.trim(), 'no error on stderr').not.toBe('');
        assertNoSecretLeaks([run], [token], { stdoutAllowed: () => false });
      }, 30_000);
    },
  );
}
