/**
 * node:crypto (OpenSSL: every cipher, hash and random byte latchkey uses), imported when first needed.
 * Loading it compiles some fifteen of Node's internal modules, which `auth token` with a credential in the
 * environment never needs; only reading or writing the encrypted file, a temp file name or a lock does.
 * An explicit lazy import of the whole module, the same code in the bundle as in these tests.
 */
export function nodeCrypto(): Promise<typeof import('node:crypto')> {
  return import('node:crypto');
}
