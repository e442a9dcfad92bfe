/**
 * A REAL browser for the browser sign-in e2e tests: Debian's `chromium` (headless, no sandbox as root)
 * driven by playwright-core, which downloads nothing. It does what a person's browser does: opens the
 * authorization URL latchkey printed, follows the server's redirects, submits its sign-in page, and is
 * sent back to latchkey's loopback listener.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { CliRun, CliSession } from '@latchkey/conformance/tools';
import { RUN_TIMEOUT_MS, textWatcher } from './harness.js';

/** Where Debian puts it (`apt-get install chromium`; .ci/run installs it when missing). */
export const chromiumPath = process.env.LATCHKEY_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `No chromium at ${chromiumPath}: install it with \`apt-get install chromium\` (.ci/run does) or set LATCHKEY_CHROMIUM.`,
    );
  }
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    timeout: RUN_TIMEOUT_MS,
  });
}

/** A fresh profile (no cookies from another test) and one page in it. */
export async function freshPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  context.setDefaultTimeout(RUN_TIMEOUT_MS);
  return { context, page: await context.newPage() };
}

/** The authorization URL latchkey printed: the first http(s) URL on a line of its own after the prompt. */
export function authorizationUrlIn(text: string): string | undefined {
  return /To sign in to [^\n]*open this URL[^\n]*\n\s+(https?:\/\/\S+)/.exec(text)?.[1];
}

/**
 * Starts `auth login ...args` in a pipe, waits for the authorization URL on its stderr, and hands it to
 * `act` (the browser). Returns the finished run and the URL.
 */
export async function browserLogin(
  session: CliSession,
  args: string[],
  act: (url: string, stdin: NodeJS.WritableStream) => Promise<void>,
  options: { env?: Record<string, string | undefined>; keepStdinOpen?: boolean } = {},
): Promise<{ run: CliRun; url: string }> {
  const watcher = textWatcher();
  const { child, done } = session.spawn(['auth', 'login', ...args], {
    env: options.env ?? {},
    timeoutMs: RUN_TIMEOUT_MS,
    onStderr: (chunk) => watcher.feed(chunk),
    ...(options.keepStdinOpen && { keepStdinOpen: true }),
  });
  const stderr = await Promise.race([
    watcher.until((t) => authorizationUrlIn(t) !== undefined, 'the authorization URL'),
    done.then((r) => r.stderr),
  ]);
  const url = authorizationUrlIn(stderr) ?? '';
  if (url) await act(url, child.stdin!);
  return { run: await done, url };
}

/**
 * A browser on another machine: signs in on the server's page with `page`, but the redirect back to
 * 127.0.0.1 never reaches latchkey (it would go to that other machine); returns the address it ended on,
 * what the person copies from the address bar.
 */
export async function signInElsewhere(page: Page, url: string, button: string): Promise<string> {
  await page.route(/^http:\/\/127\.0\.0\.1:\d+\/callback/, (route) => route.abort('connectionrefused'));
  await page.goto(url);
  const [request] = await Promise.all([
    page.waitForRequest(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/),
    page.click(button),
  ]);
  return request.url();
}
