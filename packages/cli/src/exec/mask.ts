import { Transform, type TransformCallback } from 'node:stream';

/** What a credential is replaced by in a child's output. */
export const CONCEALED = '<concealed by latchkey>';

/**
 * The masking state for one output stream: bytes in, bytes out with every occurrence of a secret replaced
 * by `<concealed by latchkey>`. Overlapping occurrences (of one secret or of several) become one
 * replacement, so no byte of any secret gets through. Only a tail that could still be the start of a
 * secret is held back (never more than the longest secret less one byte); `end()` releases it.
 */
export class SecretMasker {
  readonly #secrets: Buffer[];
  readonly #marker: Buffer;
  #held: Buffer = Buffer.alloc(0);
  /** How many bytes at the start of `#held` are inside a secret already replaced by an emitted marker. */
  #covered = 0;

  constructor(secrets: Iterable<string>, marker = CONCEALED) {
    const unique = [...new Set([...secrets].filter((s) => s.length > 0))];
    this.#secrets = unique.map((s) => Buffer.from(s, 'utf8'));
    this.#marker = Buffer.from(marker, 'utf8');
  }

  /** The output for `chunk` that can be released now (possibly empty). */
  write(chunk: Buffer): Buffer {
    if (this.#secrets.length === 0) return chunk;
    return this.#process(this.#held.length ? Buffer.concat([this.#held, chunk]) : chunk, false);
  }

  /** Whatever is still held back, masked: the stream ended, so a partial secret is just text. */
  end(): Buffer {
    if (this.#secrets.length === 0 || this.#held.length === 0) return Buffer.alloc(0);
    return this.#process(this.#held, true);
  }

  #process(buf: Buffer, final: boolean): Buffer {
    const hold = final ? buf.length : this.#holdFrom(buf);
    // Every occurrence of every secret, then merged where they overlap: [start, end, announced].
    const found: Array<[number, number, boolean]> = [];
    if (this.#covered > 0) found.push([0, this.#covered, true]);
    for (const secret of this.#secrets) {
      for (let at = buf.indexOf(secret); at !== -1; at = buf.indexOf(secret, at + 1)) {
        found.push([at, at + secret.length, false]);
      }
    }
    found.sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number, boolean]> = [];
    for (const [start, end, announced] of found) {
      const last = merged[merged.length - 1];
      if (last && start < last[1]) {
        last[1] = Math.max(last[1], end);
        last[2] ||= announced;
      } else merged.push([start, end, announced]);
    }
    const out: Buffer[] = [];
    let at = 0;
    this.#covered = 0;
    for (const [start, end, announced] of merged) {
      if (start >= hold) {
        // Held whole (the tail starts inside a secret already replaced): it stays covered.
        if (announced) this.#covered = end - hold;
        break;
      }
      if (start > at) out.push(buf.subarray(at, start));
      if (!announced) out.push(this.#marker);
      at = Math.min(end, hold);
      // A secret running on into the held tail: its marker is out, the rest of its bytes stay covered.
      if (end > hold) this.#covered = end - hold;
    }
    if (hold > at) out.push(buf.subarray(at, hold));
    this.#held = Buffer.from(buf.subarray(hold));
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** Where the shortest tail of `buf` that is a proper prefix of some secret starts (else `buf.length`). */
  #holdFrom(buf: Buffer): number {
    const longest = Math.max(...this.#secrets.map((s) => s.length));
    for (let from = Math.max(0, buf.length - longest + 1); from < buf.length; from++) {
      const tail = buf.subarray(from);
      if (this.#secrets.some((s) => s.length > tail.length && s.subarray(0, tail.length).equals(tail))) {
        return from;
      }
    }
    return buf.length;
  }
}

/** A Transform stream that masks `secrets` in everything written through it (see SecretMasker). */
export function maskingStream(secrets: Iterable<string>): Transform {
  const masker = new SecretMasker(secrets);
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      const out = masker.write(chunk);
      callback(null, out.length ? out : undefined);
    },
    flush(callback: TransformCallback) {
      const out = masker.end();
      callback(null, out.length ? out : undefined);
    },
  });
}
