/**
 * Opening (decrypting and verifying) one AES-256-GCM entry of the encrypted file, in plain JavaScript.
 *
 * Why not node:crypto: loading it costs some 3.5 ms on every `latchkey auth token` (it compiles about
 * fifteen internal modules and the stream library), a third of what the command costs beyond Node's own
 * start (docs/performance.md). An entry is a few blocks, so a small byte-wise AES is quick enough.
 *
 * It is only ever a shortcut. Encrypting stays with node:crypto (OpenSSL); and whenever this returns
 * undefined (wrong sizes, or the tag does not match), the caller asks node:crypto, whose answer is final.
 * A fault here can cost time, never a wrong secret: a plaintext is returned only when the tag computed
 * here matches the one OpenSSL wrote. Its tests compare it with OpenSSL on the NIST vectors and on random
 * keys, nonces, associated data and lengths.
 *
 * Timing: this AES looks bytes up in a table, so its timing depends on the key. That matters where an
 * attacker can time many encryptions under one key; here a process decrypts one entry with a key that is
 * in a file only its owner can read, and whoever can time it that closely can read the file.
 *
 * The algorithm is NIST SP 800-38D with a 96-bit IV: H = E(K, 0^128), J0 = IV || 0^31 || 1, the plaintext
 * is the ciphertext XOR E(K, inc32(J0)), inc32^2(J0), ..., and the tag is E(K, J0) XOR GHASH_H(A, C).
 */

/**
 * The S-box (FIPS-197 §5.1.1: the inverse in GF(2^8), then the affine transform) and the round table
 * T[a] = the column (2·S(a), S(a), S(a), 3·S(a)) as one big-endian word: SubBytes and MixColumns in one
 * lookup. The other three columns' tables are T rotated, done at lookup. Built on first use (256 steps).
 */
let tables: { sbox: Uint8Array; t: Int32Array } | undefined;

function aesTables(): { sbox: Uint8Array; t: Int32Array } {
  if (tables) return tables;
  const sbox = new Uint8Array(256);
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
    sbox[p] = (q ^ (x >> 7) ^ (x >> 6) ^ (x >> 5) ^ (x >> 4) ^ 0x63) & 0xff;
  } while (p !== 1);
  sbox[0] = 0x63;
  const t = new Int32Array(256);
  for (let a = 0; a < 256; a += 1) {
    const s = sbox[a]!;
    const s2 = ((s << 1) ^ (s & 0x80 ? 0x1b : 0)) & 0xff;
    t[a] = (s2 << 24) | (s << 16) | (s << 8) | (s2 ^ s);
  }
  tables = { sbox, t };
  return tables;
}

/** The AES-256 key schedule (FIPS-197 §5.2): 60 big-endian words, four per round key. */
function expandKey(key: Uint8Array, sbox: Uint8Array): Int32Array {
  const w = new Int32Array(60);
  const view = new DataView(key.buffer, key.byteOffset, 32);
  for (let i = 0; i < 8; i += 1) w[i] = view.getInt32(i * 4);
  let rcon = 1;
  for (let i = 8; i < 60; i += 1) {
    let t = w[i - 1]!;
    if (i % 8 === 0) {
      // RotWord, SubWord, then Rcon.
      t =
        ((sbox[(t >>> 16) & 0xff]! << 24) |
          (sbox[(t >>> 8) & 0xff]! << 16) |
          (sbox[t & 0xff]! << 8) |
          sbox[t >>> 24]!) ^
        (rcon << 24);
      rcon = ((rcon << 1) ^ (rcon & 0x80 ? 0x1b : 0)) & 0xff;
    } else if (i % 8 === 4) {
      t =
        (sbox[t >>> 24]! << 24) |
        (sbox[(t >>> 16) & 0xff]! << 16) |
        (sbox[(t >>> 8) & 0xff]! << 8) |
        sbox[t & 0xff]!;
    }
    w[i] = w[i - 8]! ^ t;
  }
  return w;
}

/** One block through AES-256 (FIPS-197 §5.1): four big-endian words in, written to `out` (16 bytes). */
function encryptBlock(w: Int32Array, input: Int32Array, out: Uint8Array): void {
  const { sbox, t } = aesTables();
  let s0 = input[0]! ^ w[0]!;
  let s1 = input[1]! ^ w[1]!;
  let s2 = input[2]! ^ w[2]!;
  let s3 = input[3]! ^ w[3]!;
  const ror = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  // Rounds 1 to 13: SubBytes, ShiftRows (column c takes row r from column c + r), MixColumns, AddRoundKey.
  for (let k = 4; k < 56; k += 4) {
    const t0 =
      t[s0 >>> 24]! ^
      ror(t[(s1 >>> 16) & 0xff]!, 8) ^
      ror(t[(s2 >>> 8) & 0xff]!, 16) ^
      ror(t[s3 & 0xff]!, 24);
    const t1 =
      t[s1 >>> 24]! ^
      ror(t[(s2 >>> 16) & 0xff]!, 8) ^
      ror(t[(s3 >>> 8) & 0xff]!, 16) ^
      ror(t[s0 & 0xff]!, 24);
    const t2 =
      t[s2 >>> 24]! ^
      ror(t[(s3 >>> 16) & 0xff]!, 8) ^
      ror(t[(s0 >>> 8) & 0xff]!, 16) ^
      ror(t[s1 & 0xff]!, 24);
    const t3 =
      t[s3 >>> 24]! ^
      ror(t[(s0 >>> 16) & 0xff]!, 8) ^
      ror(t[(s1 >>> 8) & 0xff]!, 16) ^
      ror(t[s2 & 0xff]!, 24);
    s0 = t0 ^ w[k]!;
    s1 = t1 ^ w[k + 1]!;
    s2 = t2 ^ w[k + 2]!;
    s3 = t3 ^ w[k + 3]!;
  }
  // Round 14: no MixColumns.
  const last = (a: number, b: number, c: number, d: number, key: number) =>
    ((sbox[a >>> 24]! << 24) |
      (sbox[(b >>> 16) & 0xff]! << 16) |
      (sbox[(c >>> 8) & 0xff]! << 8) |
      sbox[d & 0xff]!) ^
    key;
  const view = new DataView(out.buffer, out.byteOffset, 16);
  view.setInt32(0, last(s0, s1, s2, s3, w[56]!));
  view.setInt32(4, last(s1, s2, s3, s0, w[57]!));
  view.setInt32(8, last(s2, s3, s0, s1, w[58]!));
  view.setInt32(12, last(s3, s0, s1, s2, w[59]!));
}

/**
 * GHASH (SP 800-38D §6.4) over `data` zero-padded to whole blocks, folded into `y` (four big-endian 32-bit
 * words): for each block, y = (y XOR block) · H in GF(2^128), bit-reflected, one bit of y at a time (§6.3,
 * Algorithm 1). Words, not bytes: this runs before V8 has optimised anything, where each operation counts.
 */
function ghash(y: Int32Array, h: Int32Array, data: Uint8Array): void {
  const block = new Uint8Array(16);
  const view = new DataView(block.buffer);
  for (let offset = 0; offset < data.length; offset += 16) {
    block.fill(0);
    block.set(data.subarray(offset, offset + 16));
    const x0 = y[0]! ^ view.getInt32(0);
    const x1 = y[1]! ^ view.getInt32(4);
    const x2 = y[2]! ^ view.getInt32(8);
    const x3 = y[3]! ^ view.getInt32(12);
    let z0 = 0;
    let z1 = 0;
    let z2 = 0;
    let z3 = 0;
    let v0 = h[0]!;
    let v1 = h[1]!;
    let v2 = h[2]!;
    let v3 = h[3]!;
    for (let i = 0; i < 128; i += 1) {
      const word = i < 64 ? (i < 32 ? x0 : x1) : i < 96 ? x2 : x3;
      if ((word >>> (31 - (i & 31))) & 1) {
        z0 ^= v0;
        z1 ^= v1;
        z2 ^= v2;
        z3 ^= v3;
      }
      const carry = v3 & 1;
      v3 = (v3 >>> 1) | (v2 << 31);
      v2 = (v2 >>> 1) | (v1 << 31);
      v1 = (v1 >>> 1) | (v0 << 31);
      v0 = (v0 >>> 1) ^ (carry ? 0xe1000000 : 0);
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
 * sizes are not those or the tag does not verify (then ask node:crypto: see the top of this file).
 */
export function openAes256Gcm(
  key: Uint8Array,
  iv: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad: Uint8Array,
): Uint8Array | undefined {
  if (key.length !== 32 || iv.length !== 12 || tag.length !== 16) return undefined;
  const { sbox } = aesTables();
  const w = expandKey(key, sbox);
  const h = new Uint8Array(16);
  encryptBlock(w, new Int32Array(4), h);

  const counterBytes = new Uint8Array(16);
  counterBytes.set(iv);
  counterBytes[15] = 1;
  const counter = words(counterBytes);
  const tagMask = new Uint8Array(16);
  encryptBlock(w, counter, tagMask);

  const hWords = words(h);
  const y = new Int32Array(4);
  ghash(y, hWords, aad);
  ghash(y, hWords, ciphertext);
  const lengths = new Uint8Array(16);
  putBitLength(lengths, 0, aad.length);
  putBitLength(lengths, 8, ciphertext.length);
  ghash(y, hWords, lengths);

  // Compare every byte whatever the first difference (no early exit).
  const mask = words(tagMask);
  const expected = words(tag);
  let difference = 0;
  for (let i = 0; i < 4; i += 1) difference |= y[i]! ^ mask[i]! ^ expected[i]!;
  if (difference !== 0) return undefined;

  const plaintext = new Uint8Array(ciphertext.length);
  const keystream = new Uint8Array(16);
  for (let offset = 0; offset < ciphertext.length; offset += 16) {
    counter[3] = (counter[3]! + 1) | 0; // inc32: the last word counts, modulo 2^32
    encryptBlock(w, counter, keystream);
    const end = Math.min(offset + 16, ciphertext.length);
    for (let i = offset; i < end; i += 1) plaintext[i] = ciphertext[i]! ^ keystream[i - offset]!;
  }
  return plaintext;
}
