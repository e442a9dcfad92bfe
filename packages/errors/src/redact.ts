// Secrets known to this process (tokens read, keys received, device codes). Redaction replaces each with
// its mask wherever it appears, so a secret never reaches an error message, a log line or stderr.
const secrets = new Set<string>();

/** Token shapes that are secret whatever their origin. */
export const knownSecretPatterns: readonly RegExp[] = [
  /sk-nano-[0-9a-zA-Z-]{20,}/g,
  /\bnt_[0-9A-Za-z_]{16,}/g,
  /(authorization:\s*bearer\s+)[^\s"']+/gi,
  /(x-api-key:\s*)[^\s"']+/gi,
  /([?&](?:token|access_token|device_code|key)=)[^&\s"']+/gi,
];

/** Shows enough of a secret to tell keys apart and never enough to use one: `sk-nano-ab12...`. */
export function mask(secret: string): string {
  const prefix = /^(sk-nano-|nt_live_|nt_test_|nt_)/.exec(secret)?.[0] ?? '';
  const rest = secret.slice(prefix.length);
  const shown = rest.length >= 16 ? rest.slice(0, 8) : rest.length >= 8 ? rest.slice(0, 4) : '';
  return `${prefix}${shown}...`;
}

/** Remembers a secret so that `redact()` removes it from any text. Short values are ignored. */
export function registerSecret(secret: string | undefined): void {
  if (secret !== undefined && secret.length >= 6) secrets.add(secret);
}

/** Forgets every registered secret (for tests). */
export function forgetSecrets(): void {
  secrets.clear();
}

/** Replaces every registered secret and every known token shape in `text` with a mask. */
export function redact(text: string, extra: readonly string[] = []): string {
  let out = text;
  for (const secret of [...secrets, ...extra]) {
    if (secret.length >= 6) out = out.split(secret).join(mask(secret));
  }
  for (const pattern of knownSecretPatterns) {
    out = out.replace(pattern, (match: string, lead?: unknown) =>
      typeof lead === 'string' && match.startsWith(lead) ? `${lead}[redacted]` : mask(match),
    );
  }
  return out;
}
