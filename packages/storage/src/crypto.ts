/**
 * node:crypto (OpenSSL: every cipher, hash and random byte latchkey uses), loaded when first needed.
 * Loading it compiles some fifteen of Node's internal modules, which `auth token` with a credential in the
 * environment never needs; only reading or writing the encrypted file, a temp file name or a lock does.
 *
 * `process.getBuiltinModule` (Node 22.3 and later) hands over the built-in module itself, synchronously,
 * the same module object `import` gives: a dynamic `import()` of it goes through the ES module loader
 * first (a module job, a translation), some 3 ms that `auth token` paid on every run. Node 22.0 to 22.2
 * have no getBuiltinModule and take the `import()`. The same code runs in the bundle and in these tests.
 */
export function nodeCrypto(
  getBuiltin: (id: 'node:crypto') => typeof import('node:crypto') | undefined = (id) =>
    typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule(id) : undefined,
): Promise<typeof import('node:crypto')> {
  const loaded = getBuiltin('node:crypto');
  return loaded !== undefined ? Promise.resolve(loaded) : import('node:crypto');
}
