import { usageError } from '@latchkey/errors';

/** The longest token latchkey accepts from any input, in bytes (no provider issues anything near it). */
export const maxTokenBytes = 8 * 1024;

/**
 * The one check every token input passes before any provider sees it or any request is made: at most
 * `maxTokenBytes`, printable ASCII (0x21-0x7E) only, so no space, control character or escape sequence.
 * `source` names where the token came from ("--token", "standard input", "ACME_TOKEN"); the error
 * (a usage error, exit 2) names it and never the token. Call it on the trimmed value.
 */
export function checkTokenInput(token: string, source: string): void {
  const from = `The token from ${source}`;
  if (token.length > maxTokenBytes) {
    throw usageError(
      `${from} is longer than ${maxTokenBytes / 1024} KiB; no provider issues tokens that long.`,
      'Pass the token itself, not a file or a whole response.',
    );
  }
  for (let i = 0; i < token.length; i += 1) {
    const code = token.charCodeAt(i);
    if (code >= 0x21 && code <= 0x7e) continue;
    const what =
      code === 0x20
        ? 'a space'
        : code < 0x20 || (code >= 0x7f && code <= 0x9f)
          ? 'a control character'
          : 'a character that is not printable ASCII';
    throw usageError(
      `${from} contains ${what} (at position ${i + 1}); tokens are printable ASCII without spaces.`,
      'Copy the token again, without line breaks, escape characters or surrounding text.',
    );
  }
}
