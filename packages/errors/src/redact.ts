// Secrets known to this process (tokens read, keys received, device codes). Redaction replaces each with
// its mask wherever it appears, so a secret never reaches an error message, a log line or stderr.
const secrets = new Set<string>();

/** Token shapes that are secret whatever their origin and provider. */
export const knownSecretPatterns: readonly RegExp[] = [
  /(authorization:\s*bearer\s+)[^\s"']+/gi,
  /(x-api-key:\s*)[^\s"']+/gi,
  /([?&](?:token|access_token|device_code|key)=)[^&\s"']+/gi,
];

// Prefixes that mark a provider's tokens, as providers declare them (`secretPrefixes`), longest first.
let prefixes: string[] = [];
let prefixPattern: RegExp | undefined;

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Registers prefixes that mark a provider's tokens (`acme_live_`): from then on `redact()` masks any text
 * that starts with one and goes on with 16 or more token characters, and `mask()` keeps the prefix.
 */
export function registerSecretPrefixes(declared: readonly string[] | undefined): void {
  const added = (declared ?? []).filter((p) => p.length >= 2 && !prefixes.includes(p));
  if (added.length === 0) return;
  prefixes = [...prefixes, ...added].sort((a, b) => b.length - a.length);
  prefixPattern = new RegExp(`(?<![0-9A-Za-z_])(?:${prefixes.map(escape).join('|')})[0-9A-Za-z_-]{16,}`, 'g');
}

/**
 * Shows enough of a secret to tell keys apart and never enough to use one, in the same form as an
 * automatic account name (`acme_live_...a1b2`, see `accountLabel`): a registered prefix, three dots and the
 * last 4 characters; 12 characters or fewer after the prefix: none of them. So what a redacted message
 * shows of a key is what its account name already shows, and never more.
 */
export function mask(secret: string): string {
  return accountLabel(secret);
}

/**
 * A name for an account known only by its key, safe to store and print: the declared prefix (or one of
 * `declared`), three dots and the last 4 characters (`acme_...a1b2`: ASCII, so it can be typed after
 * `--account`); no prefix known: `...a1b2`. A secret of 12 characters or fewer after its prefix shows none
 * of its own characters (`...`).
 */
export function accountLabel(secret: string, declared: readonly string[] = []): string {
  const prefix =
    [...declared, ...prefixes].sort((a, b) => b.length - a.length).find((p) => secret.startsWith(p)) ?? '';
  const rest = secret.slice(prefix.length);
  return `${prefix}...${rest.length > 12 ? rest.slice(-4) : ''}`;
}

/** Remembers a secret so that `redact()` removes it from any text. Short values are ignored. */
export function registerSecret(secret: string | undefined): void {
  if (secret !== undefined && secret.length >= 6) secrets.add(secret);
}

/** Forgets every registered secret (for tests); declared prefixes stay. */
export function forgetSecrets(): void {
  secrets.clear();
}

/** Replaces every registered secret and every known token shape in `text` with a mask. */
export function redact(text: string, extra: readonly string[] = []): string {
  let out = text;
  for (const secret of [...secrets, ...extra]) {
    if (secret.length >= 6) out = out.split(secret).join(mask(secret));
  }
  if (prefixPattern !== undefined) out = out.replace(prefixPattern, (match) => mask(match));
  for (const pattern of knownSecretPatterns) {
    out = out.replace(pattern, (match: string, lead?: unknown) =>
      typeof lead === 'string' && match.startsWith(lead) ? `${lead}[redacted]` : mask(match),
    );
  }
  return out;
}
