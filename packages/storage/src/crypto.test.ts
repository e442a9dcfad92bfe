import * as crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from './crypto.js';

describe('nodeCrypto', () => {
  it("is Node's own node:crypto: the functions import() gives", async () => {
    const loaded = await nodeCrypto();
    for (const name of [
      'randomBytes',
      'createCipheriv',
      'createDecipheriv',
      'scrypt',
      'timingSafeEqual',
    ] as const) {
      expect(loaded[name], name).toBe(crypto[name]);
    }
  });

  it('without process.getBuiltinModule (Node 22.0 to 22.2): the same module through import()', async () => {
    const module = await nodeCrypto(() => undefined);
    expect(module.createDecipheriv).toBe(crypto.createDecipheriv);
  });
});
