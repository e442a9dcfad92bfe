import { usageError } from '@latchkey/errors';

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  return loopbackHosts.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Which part of the HTTPS rule a URL breaks. */
export type UrlRuleBreach = 'scheme' | 'plain-http' | 'credentials';

/**
 * The HTTPS rule for any URL latchkey sends a secret to or a user to: `https://` anywhere, `http://` only
 * for a loopback host, no user name or password, no other scheme. Undefined when the URL keeps it.
 */
export function httpsRuleBreach(url: URL): UrlRuleBreach | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'scheme';
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) return 'plain-http';
  if (url.username || url.password) return 'credentials';
  return undefined;
}

/**
 * Parses a provider base URL and enforces the HTTPS rule: `https://` anywhere, `http://` only for a loopback
 * host. Fails with a usage error (exit 2) before a single byte is sent. Trailing slashes are removed.
 */
export function parseBaseUrl(value: string, source = '--base-url'): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(
      `${source} is not a valid URL: ${JSON.stringify(value)}.`,
      'Pass a full URL such as https://api.example.com.',
    );
  }
  switch (httpsRuleBreach(url)) {
    case 'plain-http':
      throw usageError(
        `${source} uses plain http:// for ${url.hostname}, which would send credentials unencrypted.`,
        'Use https://, or http:// only for 127.0.0.1, ::1 or localhost.',
      );
    case 'scheme':
      throw usageError(`${source} must be an https:// URL, not ${url.protocol}.`, 'Pass an https:// URL.');
    case 'credentials':
      throw usageError(`${source} must not contain a user name or password.`, 'Remove them from the URL.');
  }
  url.hash = '';
  url.search = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** Joins a base URL (which may carry a path prefix) and an absolute API path. */
export function joinUrl(base: URL | string, path: string): URL {
  const root = typeof base === 'string' ? base : base.toString();
  return new URL(root.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`));
}
