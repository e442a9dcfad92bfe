/**
 * Every token input is checked by plugin-kit's checkTokenInput before provider code or a request:
 * --token, --with-token (stdin, read with a bound), and environment variables.
 */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isLatchkeyError, type LatchkeyError } from '@latchkey/errors';
import type { Provider, ProviderContext } from '@latchkey/plugin-kit';
import { acquireCredential } from './credential-input.js';
import { envCredential } from '../providers/providers.js';
import type { Runtime } from '../runtime/ports.js';
import { maxStdinBytes, readStdin } from '../terminal/stdin.js';
import type { TerminalUi } from '../terminal/terminal-ui.js';

async function rejection(promise: Promise<unknown>): Promise<LatchkeyError> {
  try {
    await promise;
  } catch (error) {
    if (isLatchkeyError(error)) return error;
    throw error;
  }
  throw new Error('expected a LatchkeyError');
}

/** A token provider that records every call the host makes into it. */
function recordingProvider() {
  const calls: string[] = [];
  const provider = {
    id: 'acme',
    title: 'Acme',
    defaultBaseUrl: 'https://acme.example',
    envVars: ['ACME_TOKEN'],
    methods: ['token'],
    checkTokenFormat: () => void calls.push('checkTokenFormat'),
    verify: async () => {
      calls.push('verify');
      return { account: 'ada' };
    },
  } as unknown as Provider;
  return { provider, calls };
}

const runtime = { interactive: false } as Runtime;
const ctx = {} as ProviderContext;
const ui = { warn: () => undefined, info: () => undefined, close: () => undefined } as unknown as TerminalUi;

describe('--token and --with-token', () => {
  it('a control character: exit 2 naming the source, before the provider is called', async () => {
    const { provider, calls } = recordingProvider();
    const error = await rejection(
      acquireCredential(runtime, provider, ctx, ui, {
        withToken: true,
        readStdin: async () => 'nsv_abc\x01def\n',
      }),
    );
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(
      /^The token from standard input \(--with-token\) contains a control character/,
    );
    expect(error.message).not.toContain('nsv_abc');
    expect(calls).toEqual([]);
  });

  it('--token over 8 KiB: exit 2 before the provider is called', async () => {
    const { provider, calls } = recordingProvider();
    const error = await rejection(
      acquireCredential(runtime, provider, ctx, ui, {
        withToken: false,
        token: 'a'.repeat(10_000_000),
        readStdin: async () => '',
      }),
    );
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/^The token from --token is longer than 8 KiB/);
    expect(calls).toEqual([]);
  });

  it('a good token, with the newline echo adds, reaches the provider', async () => {
    const { provider, calls } = recordingProvider();
    const got = await acquireCredential(runtime, provider, ctx, ui, {
      withToken: true,
      readStdin: async () => 'acme_0123456789\n',
    });
    expect(got.token).toBe('acme_0123456789');
    expect(calls).toEqual(['checkTokenFormat', 'verify']);
  });
});

describe('readStdin', () => {
  it('reads a small input whole', async () => {
    expect(await readStdin(Readable.from([Buffer.from('abc'), Buffer.from('def\n')]))).toBe('abcdef\n');
  });

  it('stops reading past the limit with a usage error, and closes the stream', async () => {
    const input = new PassThrough();
    let written = 0;
    // An endless writer: the reader must stop by itself.
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    const pump = () => {
      while (!input.destroyed && input.write(chunk)) written += chunk.length;
      if (!input.destroyed) input.once('drain', pump);
    };
    pump();
    const error = await rejection(readStdin(input));
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/standard input \(--with-token\) is longer than 64 KiB/);
    expect(input.destroyed).toBe(true);
    expect(written).toBeLessThan(maxStdinBytes * 4);
  });
});

describe('envCredential', () => {
  const manifest = { id: 'acme', envVars: ['ACME_TOKEN'] } as unknown as Provider;

  it('names the variable, and reading the token checks it', () => {
    const found = envCredential(manifest, { ACME_TOKEN: 'abc\x1b[31mdef' });
    expect(found?.variable).toBe('ACME_TOKEN');
    let error: unknown;
    try {
      void found!.token;
    } catch (caught) {
      error = caught;
    }
    expect(isLatchkeyError(error) && error.exitCode).toBe(2);
    expect((error as Error).message).toMatch(/^The token from ACME_TOKEN contains a control character/);
  });

  it('checks LATCHKEY_<ID>_TOKEN the same way, and passes good values through trimmed', () => {
    expect(() => envCredential(manifest, { LATCHKEY_ACME_TOKEN: 'a b' })!.token).toThrow(
      /The token from LATCHKEY_ACME_TOKEN contains a space/,
    );
    expect(envCredential(manifest, { ACME_TOKEN: ' good_token \n' })!.token).toBe('good_token');
    expect(envCredential(manifest, { ACME_TOKEN: '  ' })).toBeUndefined();
  });
});
