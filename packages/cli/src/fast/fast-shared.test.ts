import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PASSPHRASE_FILE } from '@latchkey/storage';
import { fastProviders, isInteractive, printLine } from './fast-shared.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

describe('printLine (the fast paths write the token to fd 1 without building process.stdout)', () => {
  it('writes every byte to the descriptor and exits 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-print-'));
    try {
      const file = join(dir, 'out');
      const fd = openSync(file, 'w');
      expect(await printLine('sk-nano-é0123\n', fd)).toBe(0);
      closeSync(fd);
      expect(readFileSync(file, 'utf8')).toBe('sk-nano-é0123\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('finishes a short write with further writes', async () => {
    const written: string[] = [];
    const write = ((_fd: number, bytes: Buffer, offset: number) => {
      written.push(bytes.subarray(offset, offset + 3).toString());
      return Math.min(3, bytes.length - offset);
    }) as never;
    expect(await printLine('abcdefgh\n', 1, () => new PassThrough(), write)).toBe(0);
    expect(written.join('')).toBe('abcdefgh\n');
  });

  it('hands the rest to the stream when the descriptor is full (EAGAIN), and resolves once it is written', async () => {
    let done: (() => void) | undefined;
    // A stream that has not written yet: printLine must not resolve before it has.
    const stream = new PassThrough({
      write(chunk, _encoding, callback) {
        this.push(chunk);
        done = callback;
      },
    });
    let calls = 0;
    const write = (() => {
      calls += 1;
      if (calls === 1) return 4;
      throw errno('EAGAIN');
    }) as never;
    let resolved = false;
    const printed = printLine('abcdefgh\n', 1, () => stream, write).then((code) => ((resolved = true), code));
    await new Promise((resolve) => setImmediate(resolve));
    expect(resolved).toBe(false);
    expect(stream.read()?.toString()).toBe('efgh\n');
    done!();
    expect(await printed).toBe(0);
    expect(calls).toBe(2);
  });

  it('exits 1 when the stream then fails to write the rest', async () => {
    const stream = new PassThrough({
      write(_chunk, _encoding, callback) {
        callback(errno('EPIPE'));
      },
    });
    stream.on('error', () => {}); // the stream reports it too; the exit code is what counts here
    const write = ((_fd: number, _bytes: Buffer, offset: number) => {
      if (offset === 0) return 4;
      throw errno('EAGAIN');
    }) as never;
    expect(await printLine('abcdefgh\n', 1, () => stream, write)).toBe(1);
  });

  it('exits 1 without touching the stream when the reader is gone (EPIPE)', async () => {
    let asked = false;
    const write = (() => {
      throw errno('EPIPE');
    }) as never;
    expect(
      await printLine(
        'abc\n',
        1,
        () => {
          asked = true;
          return new PassThrough();
        },
        write,
      ),
    ).toBe(1);
    expect(asked).toBe(false);
  });
});

describe('fastProviders (whether auth token and exec can answer without oclif)', () => {
  async function withDirs(run: (env: NodeJS.ProcessEnv) => Promise<void>) {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-fast-'));
    try {
      await run({ LATCHKEY_CONFIG_DIR: join(dir, 'config'), LATCHKEY_DATA_DIR: join(dir, 'data') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('knows the bundled providers, and that they are all, when no plugin is installed', async () => {
    await withDirs(async (env) => {
      const known = await fastProviders(env);
      expect(known?.complete).toBe(true);
      expect([...known!.providers.keys()]).toEqual(expect.arrayContaining(['nanogpt', 'kaneo']));
    });
  });

  it('throws a bad LATCHKEY_STORAGE (exit 2), as every command does', async () => {
    await withDirs(async (env) => {
      await expect(fastProviders({ ...env, LATCHKEY_STORAGE: 'floppy' })).rejects.toMatchObject({
        exitCode: 2,
      });
    });
  });

  it('a passphrase file answers here when nobody could be asked (no terminal, or CI)', async () => {
    await withDirs(async (env) => {
      mkdirSync(env.LATCHKEY_CONFIG_DIR!, { mode: 0o700 });
      writeFileSync(join(env.LATCHKEY_CONFIG_DIR!, PASSPHRASE_FILE), '{}', { mode: 0o600 });
      expect(isInteractive({ CI: '1' })).toBe(false);
      const known = await fastProviders({ ...env, CI: '1' });
      expect(known?.providers.has('nanogpt')).toBe(true);
    });
  });
});
