/**
 * Reads a QR code drawn with half blocks back into text, as a phone would: each character is two pixels
 * high (█ both light, ▀ top light, ▄ bottom light, space both dark), blown up and given a light margin,
 * then decoded by jsQR. For tests: what the screen shows must scan to the URL.
 */
import jsqr from 'jsqr';

type Decode = (
  data: Uint8ClampedArray,
  width: number,
  height: number,
  options?: { inversionAttempts?: 'attemptBoth' },
) => { data: string } | null;
// A CommonJS module: the default import is the function itself, or an object holding it as `default`.
const loaded = jsqr as unknown as Decode | { default: Decode };
const jsQR: Decode = typeof loaded === 'function' ? loaded : loaded.default;

const scale = 4;
const margin = 4;

/** The lines of the block-drawn code (any other characters on them are treated as the dark background). */
export function decodeBlockQr(lines: readonly string[]): string | undefined {
  const rows: boolean[][] = [];
  for (const line of lines) {
    const chars = [...line];
    rows.push(chars.map((c) => c === '█' || c === '▀'));
    rows.push(chars.map((c) => c === '█' || c === '▄'));
  }
  const width = Math.max(...rows.map((r) => r.length)) + margin * 2;
  const height = rows.length + margin * 2;
  const pixels = new Uint8ClampedArray(width * scale * height * scale * 4);
  for (let y = 0; y < height * scale; y++) {
    for (let x = 0; x < width * scale; x++) {
      const my = Math.floor(y / scale) - margin;
      const mx = Math.floor(x / scale) - margin;
      const inside = my >= 0 && my < rows.length && mx >= 0 && mx < width - margin * 2;
      const light = inside ? (rows[my]![mx] ?? false) : true;
      const at = (y * width * scale + x) * 4;
      pixels.fill(light ? 255 : 0, at, at + 3);
      pixels[at + 3] = 255;
    }
  }
  return jsQR(pixels, width * scale, height * scale, { inversionAttempts: 'attemptBoth' })?.data;
}

/** The run of lines (after an optional indent) made only of block characters: the QR code on a screen. */
export function blockQrLines(screen: string): string[] {
  return screen
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => /^ *[█▀▄][█▀▄ ]+$/u.test(line) && /[▀▄]/u.test(line))
    .map((line) => line.replace(/^ {2}/, ''));
}
