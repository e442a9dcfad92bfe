// The loopback redirect of a native app's browser sign-in (RFC 8252 sections 7.3 and 8): a one-shot HTTP
// listener on 127.0.0.1 and an ephemeral port, for one path, that takes the first callback whose `state`
// matches and closes. Everything it receives is hostile until proven otherwise: the `Host` header, the
// path, the method, the state, the size of the request line and headers, how long a client takes.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '@latchkey/clock';
import { ExitCode, LatchkeyError, cancelledError, isLatchkeyError } from '@latchkey/errors';
import { sameState } from './pkce.js';

/** How long a browser sign-in waits for the callback: 5 minutes. */
export const defaultBrowserTimeoutMs = 5 * 60_000;

/** The one path the listener answers. */
export const callbackPath = '/callback';

/** Longest request line plus headers accepted (Node's default is 16 KiB; a callback is well under 8). */
const maxHeaderBytes = 8 * 1024;

export interface LoopbackOptions {
  /** The `state` sent with the authorization request; a callback must carry exactly this one. */
  state: string;
  clock: Clock;
  /** Aborted on Ctrl-C: the wait rejects with CANCELLED and the listener closes. */
  signal: AbortSignal;
  /** How long `wait()` waits; default 5 minutes. */
  timeoutMs?: number;
  /** The action of the timeout error (e.g. the login command to run again). */
  again?: string;
  /**
   * Judges a callback whose state matched (an error redirect, the RFC 9207 `iss`...): throws a
   * LatchkeyError to end the login with it. Called once: the listener is one-shot.
   */
  accept(params: URLSearchParams): void;
  /** A request answered with an error page and ignored (wrong state, wrong Host...), in a few words. */
  onIgnored?(reason: string): void;
}

export interface LoopbackListener {
  /** `http://127.0.0.1:PORT/callback`: the redirect URI to send. */
  readonly redirectUri: string;
  /**
   * Resolves with the parameters of the first callback whose state matched and that `accept` took; rejects
   * with `accept`'s error, LOGIN_TIMED_OUT (exit 4) after the timeout, or CANCELLED. The listener is closed
   * when it settles, whichever way.
   */
  wait(): Promise<URLSearchParams>;
  /** Closes the listener (also when `wait()` was never called). */
  close(): Promise<void>;
}

/** The login ended without an answer from the browser in time (exit 4). */
export function browserTimeoutError(timeoutMs: number, again?: string): LatchkeyError {
  const minutes =
    timeoutMs >= 60_000 ? `${Math.round(timeoutMs / 60_000)} minutes` : `${Math.round(timeoutMs / 1000)} s`;
  return new LatchkeyError({
    code: 'LOGIN_TIMED_OUT',
    message: `The sign-in was not approved in time: no answer from the browser within ${minutes}.`,
    action: again ?? 'Run the login command again and approve it in the browser.',
    exitCode: ExitCode.Auth,
  });
}

/**
 * Checks one redirect (from the listener or pasted by the person, see `readPastedRedirect`): the state
 * first, in constant time, then `accept`. Returns the reason it was ignored when the state does not match
 * (the caller answers 400 and keeps waiting); throws what `accept` throws.
 */
export function judgeCallback(
  params: URLSearchParams,
  state: string,
  accept: (params: URLSearchParams) => void,
): string | undefined {
  const states = params.getAll('state');
  if (states.length !== 1)
    return states.length === 0 ? 'a callback without state' : 'a callback with several states';
  if (!sameState(state, states[0])) return 'a callback with a wrong state';
  accept(params);
  return undefined;
}

/** Starts the listener on 127.0.0.1 and a port the system chooses. */
export async function startLoopbackListener(options: LoopbackOptions): Promise<LoopbackListener> {
  if (options.signal.aborted) throw cancelledError();
  let settle: { resolve(p: URLSearchParams): void; reject(e: unknown): void } | undefined;
  let outcome: { params: URLSearchParams } | { error: unknown } | undefined;
  const finish = (result: { params: URLSearchParams } | { error: unknown }) => {
    if (outcome !== undefined) return;
    outcome = result;
    if (settle) {
      if ('params' in result) settle.resolve(result.params);
      else settle.reject(result.error);
    }
  };

  // Loaded here, not at the top: an ES module import of node:http builds its module facade, which reads
  // every export (undici's web sockets among them), some 30 ms that every command loading this package
  // (all of them, through plugin-kit) would otherwise pay.
  const { createServer } = await import('node:http');
  const server: Server = createServer({ maxHeaderSize: maxHeaderBytes }, (req, res) => {
    handle(req, res);
  });
  // A client that trickles its request or sits on a connection does not keep the listener (or the process).
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 1_000;
  server.maxRequestsPerSocket = 20;
  server.on('clientError', (_error, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const expectedHost = `127.0.0.1:${port}`;
  const redirectUri = `http://${expectedHost}${callbackPath}`;

  function ignore(res: ServerResponse, status: number, reason: string, page: string) {
    options.onIgnored?.(reason);
    answer(res, status, page);
  }

  function handle(req: IncomingMessage, res: ServerResponse) {
    // DNS rebinding: a page from another origin that resolves its name to 127.0.0.1 sends its own Host.
    if (req.headers.host !== expectedHost) {
      ignore(
        res,
        400,
        'a request for another host name',
        errorPage("This address only answers latchkey's sign-in."),
      );
      return;
    }
    const target = new URL(req.url ?? '/', `http://${expectedHost}`);
    if (target.pathname !== callbackPath) {
      answer(res, 404, errorPage('Nothing here. Return to the terminal.'));
      return;
    }
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      answer(res, 405, errorPage('Nothing here. Return to the terminal.'));
      return;
    }
    if (outcome !== undefined) {
      answer(res, 400, errorPage('This sign-in is already over. Return to the terminal.'));
      return;
    }
    let ignored: string | undefined;
    try {
      ignored = judgeCallback(target.searchParams, options.state, options.accept);
    } catch (error) {
      answer(
        res,
        400,
        errorPage('The sign-in could not be completed. Return to the terminal to see why.'),
        true,
      );
      finish({ error });
      return;
    }
    if (ignored !== undefined) {
      ignore(
        res,
        400,
        ignored,
        errorPage(
          'This answer does not belong to the sign-in latchkey is waiting for, and was ignored. If you did not start a sign-in, close this page.',
        ),
      );
      return;
    }
    answer(res, 200, successPage(), true);
    finish({ params: target.searchParams });
  }

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= new Promise<void>((resolve) => {
      // A wait still pending ends with it (its timer stops).
      finish({ error: cancelledError() });
      server.close(() => resolve());
      // Idle keep-alive connections (a browser's spare one) would hold the close until they time out.
      server.closeIdleConnections();
      setImmediate(() => server.closeAllConnections());
    }));

  return {
    redirectUri,
    close,
    async wait() {
      const timeoutMs = options.timeoutMs ?? defaultBrowserTimeoutMs;
      const stopTimer = new AbortController();
      const timer = options.clock.sleep(timeoutMs, AbortSignal.any([options.signal, stopTimer.signal])).then(
        () => finish({ error: browserTimeoutError(timeoutMs, options.again) }),
        (error: unknown) => {
          // Our own stop is no news; Ctrl-C is.
          if (!stopTimer.signal.aborted) finish({ error: isLatchkeyError(error) ? error : cancelledError() });
        },
      );
      try {
        return await new Promise<URLSearchParams>((resolve, reject) => {
          settle = { resolve, reject };
          // A callback that came before wait() was called.
          if (outcome !== undefined) {
            if ('params' in outcome) resolve(outcome.params);
            else reject(outcome.error);
          }
        });
      } finally {
        stopTimer.abort();
        await timer;
        await close();
      }
    },
  };
}

/** Answers with a small HTML page that loads nothing and may not be framed, cached or sniffed. */
function answer(res: ServerResponse, status: number, html: string, last = false): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    ...(last && { connection: 'close' }),
  });
  res.end(html);
}

function page(title: string, text: string): string {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>\n`;
}

function successPage(): string {
  return page('Signed in to latchkey', 'You can close this page and return to the terminal.');
}

function errorPage(text: string): string {
  return page('latchkey sign-in', text);
}
