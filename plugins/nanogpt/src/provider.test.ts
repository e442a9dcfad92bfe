import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient, type ProviderContext, type Verification } from '@latchkey/plugin-kit';
import { createFakeClock, type FakeClock } from '@latchkey/conformance/tools';
import {
  startNanoGptEmulator,
  type Fault,
  type NanoGptEmulator,
  type NanoGptEmulatorOptions,
} from '@latchkey/testkit';
import { isNanoGptKey, nanogpt } from './provider.js';

const emulators: NanoGptEmulator[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});

interface Setup {
  emulator: NanoGptEmulator;
  clock: FakeClock;
  ctx: ProviderContext;
  shown: Verification[];
  /** What the provider said through ui.warn. */
  warnings: string[];
  controller: AbortController;
  /** Clock times (relative to the start request) at which the emulator received each poll. */
  pollTimes: () => number[];
}

async function setup(
  options: NanoGptEmulatorOptions = {},
  ctxOptions: { timeoutMs?: number; clientName?: string } = {},
): Promise<Setup> {
  const clock = createFakeClock();
  const emulator = await startNanoGptEmulator({ interval: 2, rateLimits: false, ...options, clock });
  emulators.push(emulator);
  const shown: Verification[] = [];
  const warnings: string[] = [];
  const controller = new AbortController();
  const ctx: ProviderContext = {
    baseUrl: new URL(emulator.url),
    http: new HttpClient({
      clientName: 'latchkey',
      clientVersion: '0.0.0-test',
      clock,
      signal: controller.signal,
      timeoutMs: ctxOptions.timeoutMs ?? 5000,
    }),
    clock,
    signal: controller.signal,
    ui: {
      showVerification: (v) => void shown.push(v),
      info: () => undefined,
      warn: (line) => void warnings.push(line),
    },
    options: ctxOptions.clientName === undefined ? {} : { clientName: ctxOptions.clientName },
    providerTitle: 'NanoGPT',
  };
  const pollTimes = () => {
    const start = emulator.requests.find((r) => r.route === 'start')!.at;
    return emulator.requests.filter((r) => r.route === 'poll').map((r) => r.at - start);
  };
  return { emulator, clock, ctx, shown, warnings, controller, pollTimes };
}

type FaultWithoutRoute = Fault extends infer F ? (F extends unknown ? Omit<F, 'route'> : never) : never;
const pollFault = (fault: FaultWithoutRoute): Fault => ({ route: 'poll', ...fault }) as Fault;

describe('NanoGPT device login on a fake clock against the emulator', () => {
  it('polls at the server interval until approved and returns the issued key', async () => {
    const s = await setup({ autoApproveAfterPolls: 3 });
    const result = await nanogpt.login!(s.ctx);
    expect(result.token).toBe(s.emulator.issuedKeys()[0]);
    expect(isNanoGptKey(result.token)).toBe(true);
    expect(result.identity.details).toEqual({ key: 'CLI (latchkey)' });
    expect(s.pollTimes()).toEqual([2000, 4000, 6000, 8000]);
    const start = s.emulator.requests.find((r) => r.route === 'start')!;
    expect(start.body).toEqual({ client_name: 'latchkey' });
    expect(start.headers['x-client-name']).toBe('latchkey');
  });

  it('shows verification_uri_complete and the user code, never the device code', async () => {
    const s = await setup({ autoApproveAfterPolls: 0 });
    await nanogpt.login!(s.ctx);
    const [verification] = s.shown;
    const userCode = s.emulator.userCodes()[0]!;
    expect(verification?.userCode).toBe(userCode);
    expect(verification?.verificationUriComplete).toBe(`${s.emulator.url}/cli-login/verify?code=${userCode}`);
    expect(JSON.stringify(s.shown)).not.toContain(s.emulator.deviceCodes()[0]);
    // The device code travels only in the poll body, never in a URL.
    expect(s.emulator.requests.every((r) => !r.path.includes(s.emulator.deviceCodes()[0]!))).toBe(true);
  });

  it('sends --client-name, and the same name gets the same key back', async () => {
    const s = await setup({ autoApproveAfterPolls: 0 }, { clientName: 'ci-runner' });
    const first = await nanogpt.login!(s.ctx);
    const second = await nanogpt.login!(s.ctx);
    expect(second.token).toBe(first.token);
    expect(s.emulator.issuedKeyDetails()).toEqual([
      { key: first.token, name: 'CLI (ci-runner)', revoked: false },
    ]);
  });

  it('410 expired stops at once with exit 4', async () => {
    const s = await setup();
    s.emulator.faults.add(pollFault({ kind: 'expire' }));
    await expect(nanogpt.login!(s.ctx)).rejects.toMatchObject({
      code: 'DEVICE_CODE_EXPIRED',
      exitCode: 4,
      message: 'The login code was denied or expired.',
    });
    expect(s.pollTimes()).toEqual([2000]);
  });

  it('stops by itself at expires_in without another poll', async () => {
    const s = await setup({ expiresIn: 40, interval: 5 });
    await expect(nanogpt.login!(s.ctx)).rejects.toMatchObject({ code: 'DEVICE_CODE_EXPIRED', exitCode: 4 });
    expect(s.pollTimes()).toEqual([5000, 10000, 15000, 20000, 25000, 30000, 35000]);
    expect(s.clock.now() - s.emulator.requests[0]!.at).toBe(40_000);
  });

  it("an expires_in under 30 s is shown as the server said; the loop's 30 s floor goes on to the server's own 410, exit 4", async () => {
    const s = await setup({ expiresIn: 10 });
    await expect(nanogpt.login!(s.ctx)).rejects.toMatchObject({ code: 'DEVICE_CODE_EXPIRED', exitCode: 4 });
    expect(s.shown[0]!.expiresAt - s.emulator.requests[0]!.at).toBe(10_000);
    expect(s.pollTimes()).toEqual([2000, 4000, 6000, 8000, 10000]);
  });

  it('an interval of 3e9 s is polled every 60 s, never in a tight loop', async () => {
    const s = await setup({ interval: 3e9, autoApproveAfterPolls: 2 });
    await nanogpt.login!(s.ctx);
    expect(s.pollTimes()).toEqual([60000, 120000, 180000]);
  });

  it.each([
    ['plain http to another host', 'http://nano-gpt.example/cli-login/verify'],
    ['a javascript: address', 'javascript:alert(1)//'],
    ['a user name in the address', 'https://attacker@nano-gpt.example/verify'],
  ])('%s as the verification address fails (exit 1) before anything is shown', async (_name, uri) => {
    const s = await setup({ verificationUri: uri });
    await expect(nanogpt.login!(s.ctx)).rejects.toMatchObject({
      code: 'UNSAFE_VERIFICATION_URI',
      exitCode: 1,
      message: expect.stringContaining(`${new URL(s.emulator.url).host} sent an unsafe verification address`),
    });
    expect(s.shown).toEqual([]);
    expect(s.pollTimes()).toEqual([]);
  });

  it('a denied code ends the login with exit 4', async () => {
    const s = await setup({ interval: 2 });
    const login = nanogpt.login!(s.ctx);
    // The code exists once the login has started it: wait for that (bounded), however busy the machine is.
    for (let i = 0; i < 400 && s.emulator.userCodes().length === 0; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    s.emulator.deny(s.emulator.userCodes()[0]!);
    // NanoGPT cannot tell a denial from an expiry: the message says both.
    await expect(login).rejects.toMatchObject({
      exitCode: 4,
      message: 'The login code was denied or expired.',
    });
  });

  it('409 consumed and 404 invalid_code stop with exit 4 and say what to do', async () => {
    const s = await setup();
    s.emulator.faults.add(pollFault({ kind: 'status', status: 409, body: { status: 'consumed' } }));
    await expect(nanogpt.login!(s.ctx)).rejects.toMatchObject({ code: 'KEY_ALREADY_DELIVERED', exitCode: 4 });
    s.emulator.faults.add(pollFault({ kind: 'status', status: 404, body: { error: 'invalid_code' } }));
    const error = await nanogpt.login!(s.ctx).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_DEVICE_CODE', exitCode: 4 });
    expect((error as Error & { action: string }).action).toMatch(/latchkey auth login --provider nanogpt/);
  });

  it('429 waits Retry-After before the next poll', async () => {
    const s = await setup({ autoApproveAfterPolls: 1 });
    s.emulator.faults.add(
      pollFault({
        kind: 'status',
        status: 429,
        body: { error: 'rate_limited' },
        headers: { 'retry-after': '7' },
      }),
    );
    await nanogpt.login!(s.ctx);
    expect(s.pollTimes()).toEqual([2000, 9000, 11000]);
  });

  it('429 without Retry-After backs off (x1.5)', async () => {
    const s = await setup({ autoApproveAfterPolls: 0 });
    s.emulator.faults.add(
      pollFault({ kind: 'status', status: 429, body: { error: 'rate_limited' }, times: 2 }),
    );
    await nanogpt.login!(s.ctx);
    expect(s.pollTimes()).toEqual([2000, 4000, 7000]);
    expect(s.warnings).toEqual(['NanoGPT is not answering (HTTP 429); still trying...']);
  });

  it.each<[string, FaultWithoutRoute]>([
    ['a 500 JSON error', { kind: 'status', status: 500 }],
    ['an HTML 502 page', { kind: 'html', status: 502 }],
    ['an empty 503', { kind: 'empty', status: 503 }],
    ['a dropped connection', { kind: 'drop' }],
  ])('%s backs off (x1.5), says so once, and keeps polling', async (_name, fault) => {
    const s = await setup({ autoApproveAfterPolls: 0 });
    s.emulator.faults.add(pollFault({ ...fault, times: 2 }));
    const result = await nanogpt.login!(s.ctx);
    expect(result.token).toBe(s.emulator.issuedKeys()[0]);
    expect(s.pollTimes()).toEqual([2000, 4000, 7000]);
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toMatch(
      /^NanoGPT is not answering \((HTTP 5\d\d|the connection .+)\); still trying\.\.\.$/,
    );
  });

  it.each<[string, FaultWithoutRoute, RegExp]>([
    ['HTTP 503 JSON', { kind: 'status', status: 503 }, /HTTP 503/],
    ['an HTML 502 page', { kind: 'html', status: 502 }, /HTTP 502 with an HTML page/],
    [
      'a 429 without Retry-After',
      { kind: 'status', status: 429, body: { error: 'rate_limited' } },
      /Too many/,
    ],
    ['a dropped connection', { kind: 'drop' }, /Could not reach/],
  ])(
    '%s on every poll ends the login after 5 polls with that problem, exit 1, not "expired"',
    async (_n, fault, message) => {
      const s = await setup();
      s.emulator.faults.add(pollFault({ ...fault, times: 100 }));
      const error = await nanogpt.login!(s.ctx).catch((e: unknown) => e);
      expect(error).toMatchObject({ exitCode: 1, message: expect.stringMatching(message) });
      expect(s.pollTimes()).toEqual([2000, 4000, 7000, 11500, 18250]);
      expect(s.warnings).toHaveLength(1);
    },
  );

  it('a poll that times out backs off and keeps polling', async () => {
    // The real timeout leaves a loaded machine a whole second for the poll that answers at once.
    const s = await setup({ autoApproveAfterPolls: 0 }, { timeoutMs: 1000 });
    s.emulator.faults.add(pollFault({ kind: 'delay', ms: 5000 }));
    const result = await nanogpt.login!(s.ctx);
    expect(result.token).toBe(s.emulator.issuedKeys()[0]);
    expect(s.pollTimes()).toEqual([2000, 4000]);
    expect(s.warnings).toEqual(['NanoGPT is not answering (no answer within 1 s); still trying...']);
  });

  it('an HTML page with status 200 is a clear error, not a crash', async () => {
    const s = await setup();
    s.emulator.faults.add(pollFault({ kind: 'html', status: 200 }));
    await expect(nanogpt.login!(s.ctx)).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', exitCode: 1 });
  });

  it('a short 429 on start is waited out once', async () => {
    const s = await setup({ autoApproveAfterPolls: 0 });
    s.emulator.faults.add({ route: 'start', kind: 'status', status: 429, headers: { 'retry-after': '2' } });
    await nanogpt.login!(s.ctx);
    expect(s.emulator.requests.filter((r) => r.route === 'start').map((r) => r.status)).toEqual([429, 200]);
  });

  it('the documented rate limit (60 polls a minute) is never hit at the server interval', async () => {
    const s = await setup({ autoApproveAfterPolls: 70, interval: 1, rateLimits: undefined, expiresIn: 600 });
    await nanogpt.login!(s.ctx);
    expect(s.emulator.requests.filter((r) => r.status === 429)).toEqual([]);
  });

  it('Ctrl-C cancels with exit 130', async () => {
    const s = await setup();
    const login = nanogpt.login!(s.ctx);
    setTimeout(() => s.controller.abort(), 30);
    await expect(login).rejects.toMatchObject({ exitCode: 130 });
  });
});

describe('NanoGPT key checks', () => {
  it('accepts sk-nano-<uuid> and legacy UUID keys, rejects anything else before any request', () => {
    expect(() => nanogpt.checkTokenFormat!('sk-nano-0b7c7d64-5d8e-4bb4-9f7e-2a1c3b4d5e6f')).not.toThrow();
    expect(() => nanogpt.checkTokenFormat!('0b7c7d64-5d8e-4bb4-9f7e-2a1c3b4d5e6f')).not.toThrow();
    for (const bad of ['sk-nano-', 'sk-proj-abc', 'nt_abcdef', '0b7c7d64']) {
      expect(() => nanogpt.checkTokenFormat!(bad)).toThrow(expect.objectContaining({ exitCode: 2 }));
    }
  });

  it('verify: 200 is valid with Bearer auth, 401 is rejected with exit 4', async () => {
    const key = 'sk-nano-0b7c7d64-5d8e-4bb4-9f7e-2a1c3b4d5e6f';
    const s = await setup({ keys: [key] });
    await expect(nanogpt.verify(key, s.ctx)).resolves.toMatchObject({ account: 'sk-nano-...5e6f' });
    expect(s.emulator.requests.at(-1)?.headers.authorization).toBe(`Bearer ${key}`);
    s.emulator.revokeKey(key);
    await expect(nanogpt.verify(key, s.ctx)).rejects.toMatchObject({
      code: 'CREDENTIAL_REJECTED',
      exitCode: 4,
    });
  });

  it.each<[string, Fault]>([
    ['an HTML page', { route: 'models', kind: 'html', status: 200 }],
    ['an empty body', { route: 'models', kind: 'empty', status: 200 }],
    ['a body that is not JSON', { route: 'models', kind: 'status', status: 200, body: 'OK' }],
  ])(
    'verify: a 200 with %s does not validate the key (UNEXPECTED_RESPONSE, exit 1)',
    async (_name, fault) => {
      const key = 'sk-nano-0b7c7d64-5d8e-4bb4-9f7e-2a1c3b4d5e6f';
      const s = await setup({ keys: [key] });
      s.emulator.faults.add(fault);
      await expect(nanogpt.verify(key, s.ctx)).rejects.toMatchObject({
        code: 'UNEXPECTED_RESPONSE',
        exitCode: 1,
        message: expect.stringContaining('HTTP 200'),
      });
    },
  );

  it('verify: an unreachable server is a retryable network error, not a rejection', async () => {
    const s = await setup();
    await s.emulator.close();
    emulators.splice(emulators.indexOf(s.emulator), 1);
    await expect(nanogpt.verify('sk-nano-0b7c7d64-5d8e-4bb4-9f7e-2a1c3b4d5e6f', s.ctx)).rejects.toMatchObject(
      {
        code: 'NETWORK_ERROR',
        exitCode: 1,
      },
    );
  });
});
