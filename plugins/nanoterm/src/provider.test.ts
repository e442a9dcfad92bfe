import { afterEach, describe, expect, it } from 'vitest';
import { createRecordingContext } from '@latchkey/conformance';
import { createFakeClock } from '@latchkey/conformance/tools';
import {
  startNanoTermEmulator,
  type NanoTermEmulator,
  type NanoTermEmulatorOptions,
} from '@latchkey/testkit';
import { nanoterm } from './provider.js';

const emulators: NanoTermEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

async function setup(options: Omit<NanoTermEmulatorOptions, 'clock'> = {}) {
  const clock = createFakeClock(Date.parse('2026-11-22T00:00:00Z'));
  const emulator = await startNanoTermEmulator({ clock, ...options });
  emulators.push(emulator);
  const { ctx } = createRecordingContext({ baseUrl: emulator.url, clock });
  return { emulator, ctx, clock };
}

describe('NanoTerm verify', () => {
  it('a full key: its name, permission and expiry from GET /api/keys, matched by prefix', async () => {
    const { emulator, ctx } = await setup();
    emulator.createKey({ name: 'other', permission: 'read' });
    const { key } = emulator.createKey({
      name: 'laptop',
      permission: 'full',
      expiresAt: '2027-05-01T00:00:00.000Z',
    });
    await expect(nanoterm.verify(key, ctx)).resolves.toEqual({
      account: `nt_live_...${key.slice(-4)}`,
      permission: 'full',
      details: { key: 'laptop' },
      expiresAt: '2027-05-01T00:00:00.000Z',
    });
    expect(emulator.requests.map((r) => [r.route, r.status])).toEqual([
      ['workspaces', 200],
      ['keys', 200],
    ]);
  });

  it.each(['array', 'object'] as const)(
    'reads GET /api/keys answered as %s (the docs show neither shape)',
    async (keyListShape) => {
      const { emulator, ctx } = await setup({ keyListShape });
      const { key } = emulator.createKey({ name: 'laptop', permission: 'full' });
      await expect(nanoterm.verify(key, ctx)).resolves.toMatchObject({
        permission: 'full',
        details: { key: 'laptop' },
      });
    },
  );

  it.each(['...', '…'] as const)(
    'matches a listing whose display prefix ends in %s (the ellipsis is not part of the key)',
    async (prefixEllipsis) => {
      const { emulator, ctx } = await setup({ prefixEllipsis });
      emulator.createKey({ name: 'other', permission: 'read' });
      const { key } = emulator.createKey({ name: 'laptop', permission: 'full' });
      await expect(nanoterm.verify(key, ctx)).resolves.toMatchObject({
        permission: 'full',
        details: { key: 'laptop' },
      });
    },
  );

  it('a 429 without the envelope still says how long to wait, from Retry-After', async () => {
    const { emulator, ctx } = await setup();
    const { key } = emulator.createKey();
    emulator.faults.add({
      route: 'workspaces',
      kind: 'status',
      status: 429,
      body: '<html>Too Many Requests</html>',
      headers: { 'retry-after': '30' },
    });
    await expect(nanoterm.verify(key, ctx)).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      exitCode: 1,
      retryAfterMs: 30_000,
      message: `Too many requests to ${new URL(emulator.url).host}; retry in 30 s.`,
      action: 'Wait 30 seconds and try again.',
    });
  });

  it('an execute or read key is valid with permission "limited" (it may not list keys)', async () => {
    const { emulator, ctx } = await setup();
    for (const permission of ['execute', 'read'] as const) {
      const { key } = emulator.createKey({ permission });
      await expect(nanoterm.verify(key, ctx)).resolves.toMatchObject({ permission: 'limited' });
    }
  });

  it('a revoked or expired key is the envelope error UNAUTHORIZED with exit 4, its action and docs', async () => {
    const { emulator, ctx } = await setup();
    const { key } = emulator.createKey();
    emulator.revokeKey(key);
    const error = await nanoterm.verify(key, ctx).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'UNAUTHORIZED',
      exitCode: 4,
      retryable: false,
      docs: 'https://docs.nanoterm.dev/errors/UNAUTHORIZED',
    });
    expect((error as Error).message).not.toContain(key);
    const expired = emulator.createKey({ expiresAt: '2026-01-01T00:00:00.000Z' }).key;
    await expect(nanoterm.verify(expired, ctx)).rejects.toMatchObject({ code: 'UNAUTHORIZED', exitCode: 4 });
  });

  it('an empty 502 body is "unexpected response", never a parse crash', async () => {
    const { emulator, ctx } = await setup();
    const { key } = emulator.createKey();
    emulator.faults.add({ route: 'workspaces', kind: 'empty', status: 502, times: 4 });
    await expect(nanoterm.verify(key, ctx)).rejects.toMatchObject({
      code: 'UNEXPECTED_RESPONSE',
      status: 502,
    });
  });

  it('refuses anything that does not start with nt_', () => {
    expect(() => nanoterm.checkTokenFormat!('sk-nano-1234567890')).toThrow(
      expect.objectContaining({ exitCode: 2 }),
    );
    expect(() => nanoterm.checkTokenFormat!('nt_live_abcdefgh12345678')).not.toThrow();
  });
});
