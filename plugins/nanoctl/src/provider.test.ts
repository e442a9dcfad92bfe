import { afterEach, describe, expect, it } from 'vitest';
import { createRecordingContext } from '@latchkey/conformance';
import { createFakeClock } from '@latchkey/conformance/tools';
import { startNanoctlEmulator, type NanoctlEmulator } from '@latchkey/testkit';
import { nanoctl } from './provider.js';

const emulators: NanoctlEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

async function setup() {
  const clock = createFakeClock(Date.parse('2026-11-22T00:00:00Z'));
  const emulator = await startNanoctlEmulator({ clock });
  emulators.push(emulator);
  const { ctx } = createRecordingContext({ baseUrl: emulator.url, clock });
  return { emulator, ctx };
}

describe('nanoctl verify (GET /v1/whoami)', () => {
  it('a valid token: the user name and expiry', async () => {
    const { emulator, ctx } = await setup();
    const { token } = emulator.addToken({ username: 'ada', expiresAt: '2027-02-01T00:00:00.000Z' });
    await expect(nanoctl.verify(token, ctx)).resolves.toEqual({
      account: 'ada',
      name: 'ada',
      expiresAt: '2027-02-01T00:00:00.000Z',
    });
    expect(emulator.requests[0]?.headers.authorization).toBe(`Bearer ${token}`);
  });

  it('invalid, revoked and expired tokens are exit 4; the expired one names its date', async () => {
    const { emulator, ctx } = await setup();
    await expect(nanoctl.verify('nsv_unknown_token_000000', ctx)).rejects.toMatchObject({
      code: 'INVALID_TOKEN',
      exitCode: 4,
    });
    const revoked = emulator.addToken().token;
    emulator.revokeToken(revoked);
    await expect(nanoctl.verify(revoked, ctx)).rejects.toMatchObject({ code: 'INVALID_TOKEN', exitCode: 4 });
    const expired = emulator.addToken({ expiresAt: '2026-03-04T00:00:00.000Z' }).token;
    const error = await nanoctl.verify(expired, ctx).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TOKEN_EXPIRED', exitCode: 4 });
    expect((error as Error).message).toContain('2026-03-04');
  });

  it('a 200 whose expiresAt is already past is still rejected, naming the date', async () => {
    const { emulator, ctx } = await setup();
    const { token } = emulator.addToken();
    emulator.faults.add({
      route: 'whoami',
      kind: 'status',
      status: 200,
      body: { username: 'ada', expiresAt: '2025-12-24T10:00:00.000Z' },
    });
    const tz = process.env.TZ;
    process.env.TZ = 'UTC';
    try {
      // The one time format for people: local date and time with the offset.
      await expect(nanoctl.verify(token, ctx)).rejects.toMatchObject({
        code: 'TOKEN_EXPIRED',
        message: 'The Nanoservices token expired on 2025-12-24 10:00:00 +00:00.',
      });
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('a server error and a network problem are told apart from an invalid token', async () => {
    const { emulator, ctx } = await setup();
    const { token } = emulator.addToken();
    emulator.faults.add({ route: 'whoami', kind: 'html', status: 500, times: 4 });
    await expect(nanoctl.verify(token, ctx)).rejects.toMatchObject({ code: 'SERVER_ERROR', exitCode: 1 });
    await emulator.close();
    emulators.splice(0);
    await expect(nanoctl.verify(token, ctx)).rejects.toMatchObject({ code: 'NETWORK_ERROR', exitCode: 1 });
  });
});
