import type { Clock } from '@latchkey/clock';
import { ExitCode, LatchkeyError } from '@latchkey/errors';
import { httpsRuleBreach, type HttpClient, type UrlRuleBreach } from '@latchkey/http';
import {
  runDeviceFlow,
  type DeviceAuthorization,
  type DeviceFlowOptions,
  type GiveUpRule,
  type Verification,
} from '@latchkey/polling';

/**
 * What a device login needs from its caller: the part of plugin-kit's `ProviderContext` it uses (a provider
 * passes its whole context). The caller shows the code and the warnings; this package never prints.
 */
export interface DeviceLoginContext {
  /** The server signed in to; verification addresses are checked against its host in messages. */
  baseUrl: URL;
  http: HttpClient;
  clock: Clock;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  ui: {
    /** Show the user code and URL (the host decides how, and may open a browser). */
    showVerification(verification: Verification): void | Promise<void>;
    /** A warning for humans: the "still trying" line. */
    warn(message: string): void;
  };
  /** The provider's human name ("Acme") for the "still trying" line; default the server's host. */
  providerTitle?: string;
}

const breachWords: Record<UrlRuleBreach | 'invalid', string> = {
  invalid: 'it is not a valid URL',
  scheme: 'it is not an https:// address',
  'plain-http': 'it uses plain http:// for a host that is not this machine',
  credentials: 'it contains a user name or password',
};

/**
 * Checks the verification addresses a server sent against the same rule as base URLs (https://, or
 * http:// for loopback only; no user name or password; no other scheme) before anything is shown or
 * opened. Throws UNSAFE_VERIFICATION_URI (exit 1) naming `serverHost` and what is wrong.
 */
export function checkVerificationUris(authorization: DeviceAuthorization, serverHost: string): void {
  const uris: Array<[string, unknown]> = [['verification_uri', authorization.verificationUri]];
  if (authorization.verificationUriComplete !== undefined) {
    uris.push(['verification_uri_complete', authorization.verificationUriComplete]);
  }
  for (const [field, value] of uris) {
    let breach: UrlRuleBreach | 'invalid' | undefined;
    try {
      breach = typeof value === 'string' ? httpsRuleBreach(new URL(value)) : 'invalid';
    } catch {
      breach = 'invalid';
    }
    if (breach === undefined) continue;
    throw new LatchkeyError({
      code: 'UNSAFE_VERIFICATION_URI',
      message: `${serverHost} sent an unsafe verification address (${field}: ${breachWords[breach]}); latchkey did not show or open it.`,
      action:
        "Check --base-url (the server may not be the one you meant), or report this to the server's operator.",
      exitCode: ExitCode.Failure,
    });
  }
}

/** A few words on what went wrong with a request: "HTTP 503", "the connection was reset", "no answer within 15 s". */
export function describeTrouble(error: LatchkeyError): string {
  if (error.status !== undefined) return `HTTP ${error.status}`;
  if (error.code === 'TIMEOUT') {
    const within = /within ([\d.]+ s)/.exec(error.message)?.[1];
    return within ? `no answer within ${within}` : 'no answer in time';
  }
  if (error.code === 'NETWORK_ERROR') {
    const reason = /: (.+?)\.?$/.exec(error.message)?.[1];
    if (reason) return reason;
  }
  return error.code;
}

/** The line a host shows once per run of poll failures: "Acme is not answering (HTTP 503); still trying...". */
export function stillTryingMessage(who: string, error: LatchkeyError): string {
  return `${who} is not answering (${describeTrouble(error)}); still trying...`;
}

/** A provider's own device flow: how to start it and read one poll (see `runDeviceFlow`). */
export interface DeviceLoginFlow<T> {
  start: () => Promise<DeviceAuthorization>;
  poll: DeviceFlowOptions<T>['poll'];
  /** What to tell the user when the code expired or was denied. */
  expiredAction?: string;
  /** When a run of transient poll failures ends the login; default 5 in a row or 60 s. */
  giveUp?: GiveUpRule;
}

/**
 * A device login wired to the provider context: the verification addresses are checked (see
 * `checkVerificationUris`) before the host shows the code and URL; a run of transient poll failures is
 * shown once through `ctx.ui.warn` ("<Provider> is not answering (HTTP 503); still trying...") and ends the
 * login with the server's last error after 5 in a row or 60 s; the server's interval and expiry are
 * clamped; Ctrl-C cancels. Use it rather than `runDeviceFlow` so every provider behaves the same.
 */
export function deviceLogin<T>(ctx: DeviceLoginContext, flow: DeviceLoginFlow<T>): Promise<T> {
  const who = ctx.providerTitle ?? ctx.baseUrl.host;
  const options: DeviceFlowOptions<T> = {
    start: async () => {
      const authorization = await flow.start();
      checkVerificationUris(authorization, ctx.baseUrl.host);
      return authorization;
    },
    poll: flow.poll,
    onVerification: (verification) => ctx.ui.showVerification(verification),
    onTrouble: (error) => ctx.ui.warn(stillTryingMessage(who, error)),
    clock: ctx.clock,
    signal: ctx.signal,
  };
  if (flow.expiredAction !== undefined) options.expiredAction = flow.expiredAction;
  if (flow.giveUp !== undefined) options.giveUp = flow.giveUp;
  return runDeviceFlow(options);
}
