import { sanitizeLine } from '@latchkey/errors';
import type { Identity } from './provider.js';

/** Longest identity value kept: an account label or a name is never a page of text. */
const maxLength = 256;

const clean = (value: string): string => sanitizeLine(value).trim().slice(0, maxLength);

/**
 * An identity as a server reported it, made safe to store and print: control characters, escape
 * sequences and bidi controls removed, each value on one line and at most 256 characters. The host
 * applies it to whatever `login()` and `verify()` return, so no provider has to.
 */
export function sanitizeIdentity(identity: Identity): Identity {
  const out: Identity = { account: clean(String(identity.account ?? '')) || 'unnamed' };
  for (const field of ['name', 'email', 'permission', 'expiresAt', 'notChecked'] as const) {
    const value = identity[field];
    if (typeof value === 'string' && clean(value) !== '') out[field] = clean(value);
  }
  if (identity.details !== undefined && identity.details !== null) {
    const details: Record<string, string> = {};
    for (const [key, value] of Object.entries(identity.details)) {
      if (typeof value !== 'string') continue;
      const k = clean(key);
      if (k !== '') details[k] = clean(value);
    }
    if (Object.keys(details).length > 0) out.details = details;
  }
  return out;
}
