// oauth4webapi brings the protocol rules and leaves the transport to its caller (`customFetch`): every
// request it makes goes through latchkey's HttpClient, with its timeouts, size cap, proxy, cancellation,
// redaction and retry policy, and the HttpResponse each answer came from is kept for latchkey's own error
// mapping (429, 5xx, HTML pages, OAuth errors) before oauth4webapi reads a successful one.
import { registerSecret } from '@latchkey/errors';
import {
  httpsRuleBreach,
  isLoopbackHost,
  type HttpClient,
  type HttpResponse,
  type RetryPolicy,
} from '@latchkey/http';
import * as oauth from 'oauth4webapi';

/** What `libraryFetch` returns: the options to spread into an oauth4webapi call, and what it received. */
export interface LibraryFetch {
  options: { [oauth.customFetch]: typeof fetch; [oauth.allowInsecureRequests]?: boolean };
  /** The HttpResponse behind a Response oauth4webapi was given. */
  responseOf(response: Response): HttpResponse | undefined;
}

/** Statuses a Response may not carry a body with. */
const bodyless = new Set([101, 204, 205, 304]);

/**
 * The `customFetch` for oauth4webapi over `http`, and `allowInsecureRequests` for a loopback http:// `url`
 * only (oauth4webapi refuses http://; latchkey's rule allows it for this machine and nothing else).
 */
export function libraryFetch(http: HttpClient, retry: RetryPolicy, url: URL): LibraryFetch {
  const seen = new WeakMap<Response, HttpResponse>();
  const customFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const target = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const headers: Record<string, string> = {};
    for (const [name, value] of new Headers(init?.headers).entries()) {
      if (name === 'user-agent') continue; // latchkey's own
      if (name === 'authorization') registerSecret(value.replace(/^\S+\s+/, ''));
      headers[name] = value;
    }
    const body = init?.body;
    const answer = await http.send({
      url: target,
      method: init?.method ?? 'GET',
      headers,
      ...(body !== undefined && body !== null && { body: String(body as string | URLSearchParams) }),
      retry,
    });
    const response = new Response(bodyless.has(answer.status) ? null : answer.text, {
      status: answer.status,
      headers: answer.headers,
    });
    seen.set(response, answer);
    return response;
  };
  const insecure =
    url.protocol === 'http:' && isLoopbackHost(url.hostname) && httpsRuleBreach(url) === undefined;
  return {
    options: {
      [oauth.customFetch]: customFetch as typeof fetch,
      ...(insecure && { [oauth.allowInsecureRequests]: true }),
    },
    responseOf: (response) => seen.get(response),
  };
}
