import type { QRCode } from 'qrcode';

/** The largest symbol shown: with its quiet zone it fits an 80x24 terminal beside the lines around it. */
const maxModules = 37; // version 5: 106 bytes at error correction L
const quietZone = 1;

/**
 * `text` as a QR code of half-block characters (two modules per character row), light modules drawn as
 * blocks so it reads right on the usual dark terminal (phone scanners also read it inverted). The symbol
 * comes from the `qrcode` library at error correction L; undefined when it would not fit 80x24.
 */
export async function qrLines(text: string): Promise<string[] | undefined> {
  const { create } = (await import('qrcode')).default as { create: typeof import('qrcode').create };
  let symbol: QRCode;
  try {
    symbol = create(text, { errorCorrectionLevel: 'L' });
  } catch {
    return undefined; // too long for any QR version
  }
  const { size } = symbol.modules;
  if (size > maxModules) return undefined;
  const dark = (x: number, y: number): boolean =>
    x >= 0 && y >= 0 && x < size && y < size && Boolean(symbol.modules.get(y, x));
  const lines: string[] = [];
  for (let y = -quietZone; y < size + quietZone; y += 2) {
    let line = '';
    for (let x = -quietZone; x < size + quietZone; x++) {
      const top = !dark(x, y);
      // The last row of an odd height has nothing below it: the terminal background (dark).
      const bottom = y + 1 < size + quietZone && !dark(x, y + 1);
      line += top ? (bottom ? '█' : '▀') : bottom ? '▄' : ' ';
    }
    lines.push(line);
  }
  return lines;
}
