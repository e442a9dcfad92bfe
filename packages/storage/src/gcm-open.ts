/**
 * Opening (decrypting and verifying) one AES-256-GCM entry of the encrypted file, in plain JavaScript.
 *
 * Why not node:crypto: loading it costs some 3.5 ms on every `latchkey auth token` (it compiles about
 * fifteen internal modules and the stream library), a third of what the command costs beyond Node's own
 * start (docs/performance.md). An entry is a few blocks, so a small byte-wise AES is quick enough.
 *
 * It is a shortcut for the common case, not a second authority:
 * - Encrypting always uses node:crypto (OpenSSL).
 * - It returns a plaintext only when the tag it computes matches the one OpenSSL wrote. Anything else
 *   (other sizes, a tag that does not match, an entry over `MAX_CIPHERTEXT`) is undefined, and the caller
 *   asks node:crypto, whose answer is final: a fault that makes this refuse costs time only.
 * - What it accepts, it accepts on its own tag check. That is why its tests compare it with OpenSSL on the
 *   specification's vectors and on thousands of random keys, nonces, associated data and lengths, and
 *   check that changed bits are refused.
 *
 * Timing and caches (another local user watching which memory this touches): no branch and no memory
 * address depends on the key, except the S-box lookups of AES. Before every round (and every step of the
 * key schedule) all of the S-box's cache lines are read, so an observer who looks at the cache once a round
 * sees every line used whatever the key. That does not stop one who evicts lines during a round and watches
 * them come back, nor one who resolves positions inside a line: it is not the constant-time AES OpenSSL
 * uses (AES-NI), and docs/security.md says so.
 *
 * The algorithm is NIST SP 800-38D with a 96-bit IV: H = E(K, 0^128), J0 = IV || 0^31 || 1, the plaintext
 * is the ciphertext XOR E(K, inc32(J0)), inc32^2(J0), ..., and the tag is E(K, J0) XOR GHASH_H(A, C).
 */

/** Longer ciphertexts go to node:crypto (an OAuth token with its refresh token can be a few KB). */
export const MAX_CIPHERTEXT = 2048;

/** The S-box (FIPS-197 §5.1.1: the inverse in GF(2^8), then the affine transform), built on first use. */
let sbox: Uint8Array | undefined;

function sBox(): Uint8Array {
  if (sbox) return sbox;
  const box = new Uint8Array(256);
  // p runs through GF(2^8)* multiplying by 3, q dividing by 3: q = p^-1 at every step.
  let p = 1;
  let q = 1;
  do {
    p = (p ^ (p << 1) ^ (p & 0x80 ? 0x1b : 0)) & 0xff;
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    const x = q | (q << 8);
    box[p] = (q ^ (x >> 7) ^ (x >> 6) ^ (x >> 5) ^ (x >> 4) ^ 0x63) & 0xff;
  } while (p !== 1);
  box[0] = 0x63;
  sbox = box;
  return box;
}

/** Where the reads of `touchLines` go: a module variable, so that no compiler drops them as unused. */
let _touched = 0;

/**
 * Reads one byte of every cache line the 256-byte S-box overlaps (at most five of 64 bytes, whatever its
 * alignment: bytes 0, 64, 128, 192 and 255), so the lines a round touches do not depend on the key.
 */
function touchLines(box: Uint8Array): void {
  _touched ^= box[0]! ^ box[64]! ^ box[128]! ^ box[192]! ^ box[255]!;
}

/** Multiplication by x (2) in GF(2^8), without a branch. */
const xtime = (b: number) => ((b << 1) ^ (((b >> 7) & 1) * 0x1b)) & 0xff;

/** The AES-256 key schedule (FIPS-197 §5.2): 15 round keys of 16 bytes. */
function expandKey(key: Uint8Array, box: Uint8Array): Uint8Array {
  const w = new Uint8Array(240);
  w.set(key);
  let rcon = 1;
  for (let i = 32; i < 240; i += 4) {
    let t0 = w[i - 4]!;
    let t1 = w[i - 3]!;
    let t2 = w[i - 2]!;
    let t3 = w[i - 1]!;
    // Which steps apply SubWord depends on i only, never on the key.
    if (i % 32 === 0) {
      touchLines(box);
      const first = t0;
      t0 = box[t1]! ^ rcon;
      t1 = box[t2]!;
      t2 = box[t3]!;
      t3 = box[first]!;
      rcon = xtime(rcon);
    } else if (i % 32 === 16) {
      touchLines(box);
      t0 = box[t0]!;
      t1 = box[t1]!;
      t2 = box[t2]!;
      t3 = box[t3]!;
    }
    w[i] = w[i - 32]! ^ t0;
    w[i + 1] = w[i - 31]! ^ t1;
    w[i + 2] = w[i - 30]! ^ t2;
    w[i + 3] = w[i - 29]! ^ t3;
  }
  return w;
}

/** ShiftRows as a permutation of the state's bytes (column-major): byte i comes from SHIFT_ROWS[i]. */
const SHIFT_ROWS = [0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11];

/** One block through AES-256 (FIPS-197 §5.1), `input` to `out` (16 bytes each; they may be the same). */
function encryptBlock(roundKeys: Uint8Array, box: Uint8Array, input: Uint8Array, out: Uint8Array): void {
  const s = new Uint8Array(16);
  for (let i = 0; i < 16; i += 1) s[i] = input[i]! ^ roundKeys[i]!;
  const t = new Uint8Array(16);
  for (let round = 1; round <= 14; round += 1) {
    touchLines(box);
    // SubBytes and ShiftRows together: row r of column c comes from column c + r.
    for (let i = 0; i < 16; i += 1) t[i] = box[s[SHIFT_ROWS[i]!]!]!;
    if (round < 14) {
      // MixColumns, by arithmetic (no table).
      for (let c = 0; c < 16; c += 4) {
        const a0 = t[c]!;
        const a1 = t[c + 1]!;
        const a2 = t[c + 2]!;
        const a3 = t[c + 3]!;
        const all = a0 ^ a1 ^ a2 ^ a3;
        s[c] = a0 ^ all ^ xtime(a0 ^ a1);
        s[c + 1] = a1 ^ all ^ xtime(a1 ^ a2);
        s[c + 2] = a2 ^ all ^ xtime(a2 ^ a3);
        s[c + 3] = a3 ^ all ^ xtime(a3 ^ a0);
      }
    } else {
      s.set(t);
    }
    const k = round * 16;
    for (let i = 0; i < 16; i += 1) s[i] = s[i]! ^ roundKeys[k + i]!;
  }
  out.set(s);
}

/**
 * GHASH (SP 800-38D §6.4) over `data` zero-padded to whole blocks, folded into `y` (four big-endian 32-bit
 * words): for each block, y = (y XOR block) · H in GF(2^128), bit-reflected, one bit of y at a time (§6.3,
 * Algorithm 1), with masks instead of branches.
 */
function ghash(y: Int32Array, h: Int32Array, data: Uint8Array): void {
  const block = new Uint8Array(16);
  const view = new DataView(block.buffer);
  for (let offset = 0; offset < data.length; offset += 16) {
    block.fill(0);
    block.set(data.subarray(offset, offset + 16));
    const x = [
      y[0]! ^ view.getInt32(0),
      y[1]! ^ view.getInt32(4),
      y[2]! ^ view.getInt32(8),
      y[3]! ^ view.getInt32(12),
    ];
    let z0 = 0;
    let z1 = 0;
    let z2 = 0;
    let z3 = 0;
    let v0 = h[0]!;
    let v1 = h[1]!;
    let v2 = h[2]!;
    let v3 = h[3]!;
    for (let word = 0; word < 4; word += 1) {
      const bits = x[word]!;
      for (let bit = 31; bit >= 0; bit -= 1) {
        const take = -((bits >> bit) & 1); // all ones when the bit is set (>>: stays a small integer)
        z0 ^= v0 & take;
        z1 ^= v1 & take;
        z2 ^= v2 & take;
        z3 ^= v3 & take;
        const carry = -(v3 & 1);
        v3 = (v3 >>> 1) | (v2 << 31);
        v2 = (v2 >>> 1) | (v1 << 31);
        v1 = (v1 >>> 1) | (v0 << 31);
        v0 = (v0 >>> 1) ^ (0xe1000000 & carry);
      }
    }
    y[0] = z0;
    y[1] = z1;
    y[2] = z2;
    y[3] = z3;
  }
}

/** A block's four big-endian 32-bit words. */
function words(block: Uint8Array): Int32Array {
  const view = new DataView(block.buffer, block.byteOffset, 16);
  return Int32Array.of(view.getInt32(0), view.getInt32(4), view.getInt32(8), view.getInt32(12));
}

/** A 64-bit big-endian bit length into `block` at `offset` (lengths here are far below 2^53). */
function putBitLength(block: Uint8Array, offset: number, bytes: number): void {
  let bits = bytes * 8;
  for (let i = 7; i >= 0; i -= 1) {
    block[offset + i] = bits % 256;
    bits = Math.floor(bits / 256);
  }
}

/**
 * The plaintext of an AES-256-GCM ciphertext with a 12-byte IV and a 16-byte tag, or undefined when the
 * sizes are not those, the ciphertext is over MAX_CIPHERTEXT, or the tag does not verify (then ask
 * node:crypto: see the top of this file).
 */
export function openAes256Gcm(
  key: Uint8Array,
  iv: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad: Uint8Array,
): Uint8Array | undefined {
  if (key.length !== 32 || iv.length !== 12 || tag.length !== 16) return undefined;
  if (ciphertext.length > MAX_CIPHERTEXT || aad.length > MAX_CIPHERTEXT) return undefined;
  const box = sBox();
  const roundKeys = expandKey(key, box);
  const h = new Uint8Array(16);
  encryptBlock(roundKeys, box, h, h);

  const counter = new Uint8Array(16);
  counter.set(iv);
  counter[15] = 1;
  const tagMask = new Uint8Array(16);
  encryptBlock(roundKeys, box, counter, tagMask);

  const hWords = words(h);
  const y = new Int32Array(4);
  ghash(y, hWords, aad);
  ghash(y, hWords, ciphertext);
  const lengths = new Uint8Array(16);
  putBitLength(lengths, 0, aad.length);
  putBitLength(lengths, 8, ciphertext.length);
  ghash(y, hWords, lengths);

  // Compare all of it whatever the first difference (no early exit).
  const mask = words(tagMask);
  const expected = words(tag);
  let difference = 0;
  for (let i = 0; i < 4; i += 1) difference |= y[i]! ^ mask[i]! ^ expected[i]!;
  if (difference !== 0) return undefined;

  const plaintext = new Uint8Array(ciphertext.length);
  const keystream = new Uint8Array(16);
  for (let offset = 0; offset < ciphertext.length; offset += 16) {
    // inc32: the last four bytes count, modulo 2^32 (the counter is not secret: the IV is in the file).
    for (let i = 15; i >= 12; i -= 1) {
      counter[i] = (counter[i]! + 1) & 0xff;
      if (counter[i] !== 0) break;
    }
    encryptBlock(roundKeys, box, counter, keystream);
    const end = Math.min(offset + 16, ciphertext.length);
    for (let i = offset; i < end; i += 1) plaintext[i] = ciphertext[i]! ^ keystream[i - offset]!;
  }
  return plaintext;
}
