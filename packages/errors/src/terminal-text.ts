// Text from a server is data. Printed raw, an ESC sequence could rewrite the screen, set the window title,
// plant a hyperlink or write to the clipboard, and a bidi override could make a line read differently from
// what it says. The host passes every string it prints through these before it reaches a terminal.

// Whole sequences first, so their parameters go with them: CSI (ESC [ or 8-bit CSI) ... final byte;
// OSC, DCS, SOS, PM, APC ... terminated by BEL, ST (ESC \) or 8-bit ST (the body stops at the next
// introducer, so a run of unterminated ones stays linear); any other ESC sequence.
const sequences =
  // eslint-disable-next-line no-control-regex
  /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x90\x98\x9b-\x9f]*(?:\x07|\x1b\\|\x9c)|\x1b[ -/]*[0-~]/g;
// Then single characters: C0 controls, DEL, C1 controls, and the bidi embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const controls = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const layout = /[\t\n]/g;

/**
 * Removes terminal control from text meant for a human: escape sequences, C0/C1 controls, DEL and bidi
 * controls. Newlines and tabs stay (the host's own multi-line output needs them); carriage returns go.
 */
export function sanitizeTerminalText(text: string): string {
  return text.replace(sequences, '').replace(controls, (c) => (c === '\n' || c === '\t' ? c : ''));
}

/** Like `sanitizeTerminalText`, for one value: tabs and newlines become spaces, so it stays on one line. */
export function sanitizeLine(text: string): string {
  return sanitizeTerminalText(text).replace(layout, ' ');
}

/**
 * A copy of a JSON-able value with every string (keys included) passed through `sanitizeLine` and then
 * `transform` (e.g. redaction). JSON escaping alone is not enough: a script that prints a parsed value
 * would hand the escape sequence to its terminal.
 */
export function sanitizeJsonValue(value: unknown, transform: (text: string) => string = (t) => t): unknown {
  const clean = (text: string) => transform(sanitizeLine(text));
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return clean(node);
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map(walk);
    const json = (node as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') return walk((json as () => unknown).call(node));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(node)) out[clean(key)] = walk(item);
    return out;
  };
  return walk(value);
}
