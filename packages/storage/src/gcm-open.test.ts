import { createCipheriv, randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_CIPHERTEXT, openAes256Gcm } from './gcm-open.js';

const hex = (text: string) => Buffer.from(text, 'hex');
const key15 = 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308';
const plain15 =
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';

// The AES-256 cases of the GCM specification's test vectors (McGrew & Viega, test cases 13 to 16).
const vectors = [
  {
    name: 'case 13: empty',
    key: '00'.repeat(32),
    iv: '00'.repeat(12),
    aad: '',
    plain: '',
    cipher: '',
    tag: '530f8afbc74536b9a963b4f1c4cb738b',
  },
  {
    name: 'case 14: one zero block',
    key: '00'.repeat(32),
    iv: '00'.repeat(12),
    aad: '',
    plain: '00'.repeat(16),
    cipher: 'cea7403d4d606b6e074ec5d3baf39d18',
    tag: 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  {
    name: 'case 15: four blocks',
    key: key15,
    iv: 'cafebabefacedbaddecaf888',
    aad: '',
    plain: plain15,
    cipher:
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad',
    tag: 'b094dac5d93471bdec1a502270e3cc6c',
  },
  {
    name: 'case 16: associated data, a partial last block',
    key: key15,
    iv: 'cafebabefacedbaddecaf888',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    plain: plain15.slice(0, 120),
    cipher:
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
];

function sealWithOpenSsl(key: Buffer, iv: Buffer, plain: Buffer, aad: Buffer) {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const data = Buffer.concat([cipher.update(plain), cipher.final()]);
  return { data, tag: cipher.getAuthTag() };
}

describe('openAes256Gcm', () => {
  for (const v of vectors) {
    it(`opens the specification's ${v.name}`, () => {
      const opened = openAes256Gcm(hex(v.key), hex(v.iv), hex(v.cipher), hex(v.tag), hex(v.aad));
      expect(Buffer.from(opened!).toString('hex')).toBe(v.plain);
    });
  }

  it('opens what OpenSSL sealed, for random keys, nonces, associated data and lengths', () => {
    for (let round = 0; round < 300; round += 1) {
      const key = randomBytes(32);
      const iv = randomBytes(12);
      const plain = randomBytes(randomInt(0, 200));
      const aad = randomBytes(randomInt(0, 80));
      const { data, tag } = sealWithOpenSsl(key, iv, plain, aad);
      expect(Buffer.from(openAes256Gcm(key, iv, data, tag, aad)!).equals(plain)).toBe(true);
    }
  });

  it('refuses any changed bit of the ciphertext, tag, associated data, nonce or key', () => {
    const key = randomBytes(32);
    const iv = randomBytes(12);
    const aad = Buffer.from('latchkey credentials v1\0nanogpt:default');
    const { data, tag } = sealWithOpenSsl(key, iv, Buffer.from('{"v":2,"secret":"sk-1"}'), aad);
    const flip = (buffer: Buffer, bit: number) => {
      const copy = Buffer.from(buffer);
      copy[bit >> 3]! ^= 1 << (bit & 7);
      return copy;
    };
    for (let bit = 0; bit < data.length * 8; bit += 1) {
      expect(openAes256Gcm(key, iv, flip(data, bit), tag, aad)).toBeUndefined();
    }
    for (let bit = 0; bit < 128; bit += 1)
      expect(openAes256Gcm(key, iv, data, flip(tag, bit), aad)).toBeUndefined();
    for (let bit = 0; bit < aad.length * 8; bit += 1) {
      expect(openAes256Gcm(key, iv, data, tag, flip(aad, bit))).toBeUndefined();
    }
    for (let bit = 0; bit < 96; bit += 1)
      expect(openAes256Gcm(key, flip(iv, bit), data, tag, aad)).toBeUndefined();
    for (let bit = 0; bit < 256; bit += 1)
      expect(openAes256Gcm(flip(key, bit), iv, data, tag, aad)).toBeUndefined();
    expect(openAes256Gcm(key, iv, data.subarray(1), tag, aad)).toBeUndefined();
    expect(openAes256Gcm(key, iv, data, tag, Buffer.concat([aad, Buffer.alloc(1)]))).toBeUndefined();
  });

  it('opens inputs that sit inside bigger buffers (as Buffer.from(base64) does), at lengths up to the limit', () => {
    const inside = (bytes: Buffer) => {
      const pool = randomBytes(bytes.length + 40);
      const at = randomInt(1, 33);
      bytes.copy(pool, at);
      return pool.subarray(at, at + bytes.length);
    };
    for (let length = 0; length <= MAX_CIPHERTEXT; length += randomInt(1, 40)) {
      const key = randomBytes(32);
      const iv = randomBytes(12);
      const plain = randomBytes(length);
      const aad = randomBytes(randomInt(0, 120));
      const { data, tag } = sealWithOpenSsl(key, iv, plain, aad);
      const opened = openAes256Gcm(inside(key), inside(iv), inside(data), inside(tag), inside(aad));
      expect(Buffer.from(opened!).equals(plain), `length ${length}`).toBe(true);
    }
  });

  it('opens up to MAX_CIPHERTEXT bytes and leaves longer entries to node:crypto', () => {
    const key = randomBytes(32);
    const iv = randomBytes(12);
    for (const length of [MAX_CIPHERTEXT - 1, MAX_CIPHERTEXT]) {
      const plain = randomBytes(length);
      const { data, tag } = sealWithOpenSsl(key, iv, plain, Buffer.alloc(0));
      expect(Buffer.from(openAes256Gcm(key, iv, data, tag, Buffer.alloc(0))!).equals(plain)).toBe(true);
    }
    const { data, tag } = sealWithOpenSsl(key, iv, randomBytes(MAX_CIPHERTEXT + 1), Buffer.alloc(0));
    expect(openAes256Gcm(key, iv, data, tag, Buffer.alloc(0))).toBeUndefined();
  });

  it('refuses sizes other than a 32-byte key, 12-byte nonce and 16-byte tag (node:crypto decides those)', () => {
    const sealed = sealWithOpenSsl(randomBytes(32), randomBytes(12), Buffer.from('x'), Buffer.alloc(0));
    expect(
      openAes256Gcm(randomBytes(16), randomBytes(12), sealed.data, sealed.tag, Buffer.alloc(0)),
    ).toBeUndefined();
    expect(
      openAes256Gcm(randomBytes(32), randomBytes(16), sealed.data, sealed.tag, Buffer.alloc(0)),
    ).toBeUndefined();
    expect(
      openAes256Gcm(
        randomBytes(32),
        randomBytes(12),
        sealed.data,
        sealed.tag.subarray(0, 12),
        Buffer.alloc(0),
      ),
    ).toBeUndefined();
  });
});
