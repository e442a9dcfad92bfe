import type { AuthorizationPrompt, ProviderUi } from '@latchkey/plugin-kit';
import type { Verification } from '@latchkey/polling';
import { openBrowser, shouldOpenBrowser } from './browser.js';
import { copyToClipboard } from './clipboard.js';
import { staticProviders } from '../providers/providers.js';
import { qrLines } from './qr.js';
import type { Runtime } from '../runtime/ports.js';

/** "9:41" or "1:02:03". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** An 8-character user code reads better as XXXX-XXXX; it is still sent exactly as issued. */
export function formatUserCode(code: string): string {
  return /^[A-Za-z0-9]{8}$/.test(code) ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
}

/** "10 minutes", "45 seconds". */
export function describeDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} ${seconds === 1 ? 'second' : 'seconds'}`;
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `${minutes} minutes` : `${Math.round(minutes / 60)} hours`;
}

/**
 * How providers talk to the user from a terminal or a pipe: everything goes to stderr. In a terminal the
 * time left is a live line; in a pipe the same facts are printed once, plainly. In a terminal (stdin,
 * stdout and stderr, not CI, not `--json`) a device login also gets a QR code, "Press Enter to open"
 * instead of a browser opened at once, and with `--clipboard` the code on the clipboard.
 */
export class TerminalUi implements ProviderUi {
  #countdown: NodeJS.Timeout | undefined;
  /** Ends the wait for Enter when the flow ends. */
  readonly #waiting = new AbortController();

  constructor(
    private readonly runtime: Runtime,
    private readonly options: {
      browser: boolean;
      providerTitle: string;
      /** Every discovered provider's credential variables, kept from the browser; default: the manifests'. */
      credentialEnvVars?: readonly string[];
      /** `--no-qr` turns the QR code off; default on (in a terminal). */
      qr?: boolean;
      /** `--clipboard`: copy the user code (in a terminal). */
      clipboard?: boolean;
      /** `--json`: plain lines only, as in a pipe. */
      json?: boolean;
      /**
       * `--web --paste`: how to read the address the browser ended on when there is no terminal (a line of
       * standard input); in a terminal it is asked for with a masked prompt.
       */
      readRedirect?: (signal: AbortSignal) => Promise<string>;
    },
  ) {
    const readRedirect = options.readRedirect;
    if (readRedirect !== undefined) {
      this.readRedirectUrl = (signal) =>
        runtime.interactive
          ? runtime.prompter.password('Paste the address your browser ended on:', signal)
          : readRedirect(signal);
    }
  }

  /** `--paste`: reads the address the browser ended on (see the `readRedirect` option). */
  readonly readRedirectUrl?: (signal: AbortSignal) => Promise<string>;

  /**
   * A browser sign-in: the authorization URL (and a QR code in a terminal when it fits), the browser opened
   * where one can be (not with `--no-browser` or `--paste`), and how long latchkey waits for it.
   */
  async showAuthorization(prompt: AuthorizationPrompt): Promise<void> {
    const { runtime } = this;
    const url = prompt.url.href;
    const credentialEnvVars = this.options.credentialEnvVars ?? manifestEnvVars(runtime);
    runtime.say(`To sign in to ${this.options.providerTitle}, open this URL in a browser and approve:`);
    runtime.say(`  ${url}`);
    if (this.#comforts && this.options.qr !== false) {
      for (const line of (await qrLines(url)) ?? []) runtime.say(`  ${line}`);
    }
    const left = describeDuration(prompt.expiresAt - runtime.clock.now());
    if (prompt.paste) {
      runtime.say(
        `After you approve, the browser is sent to ${prompt.redirectUri}?... On another machine that page does not load: copy the whole address from the address bar and paste it here (within ${left}).`,
      );
      return;
    }
    if (
      shouldOpenBrowser({
        wanted: this.options.browser,
        interactive: runtime.interactive,
        env: runtime.env,
        platform: runtime.platform,
      })
    ) {
      const opened = await openBrowser(url, {
        env: runtime.env,
        credentialEnvVars,
        platform: runtime.platform,
        launch: runtime.browser,
      });
      if (opened) this.info('Opened your browser.');
    }
    if (runtime.stderr.isTTY) {
      const draw = () => {
        const remaining = prompt.expiresAt - runtime.clock.now();
        runtime.stderr.write(`\r\x1b[2KWaiting for the browser... ${formatDuration(remaining)} left`);
      };
      draw();
      this.#countdown = setInterval(draw, 1000);
      this.#countdown.unref();
    } else {
      runtime.say(`Waiting for the browser to come back to ${prompt.redirectUri} (up to ${left})...`);
    }
  }

  /** A person is watching every stream: the extras are for them, never for a pipe, CI or `--json`. */
  get #comforts(): boolean {
    return this.runtime.interactive && this.runtime.stdout.isTTY && !this.options.json;
  }

  async showVerification(verification: Verification): Promise<void> {
    const { runtime } = this;
    const url = verification.verificationUriComplete ?? verification.verificationUri;
    const left = verification.expiresAt - runtime.clock.now();
    const code = formatUserCode(verification.userCode);
    const comforts = this.#comforts;
    const credentialEnvVars = this.options.credentialEnvVars ?? manifestEnvVars(runtime);
    runtime.say(`To sign in to ${this.options.providerTitle}, open this URL and approve the code ${code}:`);
    runtime.say(`  ${url}`);
    if (verification.verificationUriComplete === undefined) {
      runtime.say(`  (enter the code ${code} on that page)`);
    }
    if (comforts && this.options.qr !== false) {
      for (const line of (await qrLines(url)) ?? []) runtime.say(`  ${line}`);
    }
    runtime.say(`The code expires in ${describeDuration(left)}.`);
    if (comforts && this.options.clipboard) {
      const copied = await copyToClipboard(runtime, code, credentialEnvVars);
      runtime.say(
        copied
          ? `Copied the code ${code} to the clipboard.`
          : `Sent the code ${code} to your terminal's clipboard (OSC 52).`,
      );
    }
    if (
      shouldOpenBrowser({
        wanted: this.options.browser,
        interactive: runtime.interactive,
        env: runtime.env,
        platform: runtime.platform,
      })
    ) {
      const open = async () => {
        const opened = await openBrowser(url, {
          env: runtime.env,
          credentialEnvVars,
          platform: runtime.platform,
          launch: runtime.browser,
        });
        if (opened) this.info('Opened your browser.');
      };
      const host = webHost(url);
      if (comforts && host !== undefined) {
        runtime.say(`Press Enter to open ${host} in your browser...`);
        // Not awaited: the flow polls while the person decides.
        const signal = AbortSignal.any([runtime.signal, this.#waiting.signal]);
        void runtime
          .enterKey(signal)
          .then((pressed) => (pressed && !signal.aborted ? open() : undefined))
          .catch(() => undefined);
      } else {
        await open();
      }
    }
    if (runtime.stderr.isTTY) {
      // The countdown's `\r\x1b[2K` is latchkey's own control sequence (as is OSC 52), so it skips say().
      const draw = () => {
        const remaining = verification.expiresAt - runtime.clock.now();
        runtime.stderr.write(`\r\x1b[2KWaiting for approval... ${formatDuration(remaining)} left`);
      };
      draw();
      this.#countdown = setInterval(draw, 1000);
      this.#countdown.unref();
    } else {
      runtime.say('Waiting for approval...');
    }
  }

  info(message: string): void {
    this.#clearLine();
    this.runtime.say(message);
  }

  warn(message: string): void {
    this.#clearLine();
    this.runtime.warn(message);
  }

  /** Stops the live countdown (call when the flow ends, however it ends). */
  close(): void {
    this.#waiting.abort();
    if (this.#countdown) {
      clearInterval(this.#countdown);
      this.#countdown = undefined;
      this.runtime.stderr.write('\r\x1b[2K');
    }
  }

  #clearLine(): void {
    if (this.#countdown) this.runtime.stderr.write('\r\x1b[2K');
  }
}

/** The host of an http(s) URL, for "Press Enter to open <host>"; undefined for anything a browser is not given. */
function webHost(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.host : undefined;
  } catch {
    return undefined;
  }
}

/** Every credential variable the installed plugins declare in their manifests. */
function manifestEnvVars(runtime: Runtime): string[] {
  return [...staticProviders(runtime.config).values()].flatMap(({ manifest }) => manifest.envVars);
}
