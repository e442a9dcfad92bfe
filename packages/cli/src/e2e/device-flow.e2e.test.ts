/**
 * NanoGPT device-flow outcomes through the built binary: denial, expiry, server faults while polling,
 * and Ctrl-C.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, timeBound } from '@latchkey/conformance/tools';
import { type Fault } from '@latchkey/testkit';
import {
  E2eFile,
  type E2eScope,
  RUN_TIMEOUT_MS,
  expectExit,
  expectNothingStored,
  expectSecretNotOnDisk,
  readIndex,
  requestsTo,
  textWatcher,
} from './harness.js';

const file = new E2eFile();
afterEach(() => file.cleanup());

const userCodePattern = /approve the code ([A-Z0-9]{4}-[A-Z0-9]{4})/;

describe('device flow outcomes', () => {
  it('the user denies: exit 4 promptly, nothing stored, no key issued', async () => {
    const emulator = await file.emulator({ interval: 1 });
    const session = await file.session();
    const stderr = textWatcher();
    const started = Date.now();
    const { done } = session.spawn(['auth', 'login', '--provider', 'nanogpt', '--base-url', emulator.url], {
      timeoutMs: RUN_TIMEOUT_MS,
      onStderr: stderr.feed,
    });
    const shown = await stderr.until((text) => userCodePattern.test(text), 'the user code on stderr');
    const userCode = userCodePattern.exec(shown)![1]!;
    expect(emulator.userCodes()).toEqual([userCode]);
    emulator.deny(userCode);

    const run = await done;
    expectExit(run, 4);
    // Start-up, the code shown, one more poll: seconds (stretched on a busy machine), not the code's life.
    expect(Date.now() - started).toBeLessThan(timeBound(8000, { atMost: RUN_TIMEOUT_MS - 10_000 }));
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^latchkey: .+/m);
    // The hint signs in to the same server, not the public one.
    expect(run.stderr).toContain(`latchkey auth login --provider nanogpt --base-url ${emulator.url}\``);
    expect(emulator.issuedKeys()).toEqual([]);
    // The CLI stopped at the server's final answer instead of polling on.
    const polls = requestsTo(emulator, 'poll');
    expect(polls.at(-1)!.status).toBe(410);
    expect(polls.filter((p) => p.status === 410)).toHaveLength(1);
    await expectNothingStored(session.configDir);
  });

  it('the code expires unapproved: the server says so, exit 4 soon after expiry, polling at the interval meanwhile', async () => {
    // The server's code lives 3 s: that is what the user is told, while latchkey's poll loop runs at least
    // 30 s, so it is the server's own "expired" answer (410) that ends the login here.
    const expiresIn = 3;
    const interval = 1;
    const emulator = await file.emulator({ interval, expiresIn });
    const session = await file.session();
    const started = Date.now();
    const run = await session.run(['auth', 'login', '--provider', 'nanogpt', '--base-url', emulator.url], {
      timeoutMs: RUN_TIMEOUT_MS,
    });
    const elapsed = Date.now() - started;
    expectExit(run, 4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('The code expires in 3 seconds.');
    // NanoGPT's 410 does not tell a denial from an expiry, so the message names both.
    expect(run.stderr).toContain('latchkey: The login code was denied or expired.\n');
    // Bounded: not before the code expired, and not long after (nowhere near latchkey's own 30 s).
    expect(elapsed).toBeGreaterThanOrEqual(expiresIn * 1000 - 200);
    expect(elapsed).toBeLessThan(expiresIn * 1000 + timeBound(4000, { atMost: 25_000 }));

    const start = requestsTo(emulator, 'start')[0]!;
    const polls = requestsTo(emulator, 'poll');
    // One poll per interval while the code lives (all pending), then the one that is told it expired: the
    // server's clock says when each came. Never sooner than the interval; later only by what a busy
    // machine adds to answering a poll (well under a second interval more).
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(polls.length).toBeLessThanOrEqual(Math.floor(expiresIn / interval) + 1);
    expect(polls.at(-1)!.status).toBe(410);
    for (const poll of polls.slice(0, -1)) {
      expect(poll.status).toBe(202);
      expect(poll.at - start.at).toBeLessThan(expiresIn * 1000);
    }
    const slack = timeBound(300, { atMost: interval * 1000 - 100 });
    const since = [polls[0]!.at - start.at, ...polls.slice(1).map((poll, i) => poll.at - polls[i]!.at)];
    for (const gap of since) {
      expect(gap).toBeGreaterThanOrEqual(interval * 1000 - 100);
      expect(gap).toBeLessThan(interval * 1000 + slack);
    }
    expect(emulator.issuedKeys()).toEqual([]);
    await expectNothingStored(session.configDir);
  });

  it('Ctrl-C while waiting for approval: exit 130 promptly, no more polls, nothing stored', async () => {
    const emulator = await file.emulator({ interval: 1 });
    const session = await file.session();
    const stderr = textWatcher();
    const ctrlC = new AbortController();
    const { done } = session.spawn(['auth', 'login', '--provider', 'nanogpt', '--base-url', emulator.url], {
      timeoutMs: RUN_TIMEOUT_MS,
      onStderr: stderr.feed,
      signal: ctrlC.signal,
    });
    await stderr.until((text) => text.includes('Waiting for approval'), '"Waiting for approval" on stderr');
    const sentAt = Date.now();
    ctrlC.abort(); // SIGINT, as a terminal sends on Ctrl-C
    const run = await done;
    // Unwound by itself (the CLI's last-resort exit timer fires only after 5 s).
    expect(Date.now() - sentAt).toBeLessThan(timeBound(1500, { atMost: 4900 }));
    expectExit(run, 130);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/Cancelled/i);
    const pollsAtExit = requestsTo(emulator, 'poll').length;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(requestsTo(emulator, 'poll')).toHaveLength(pollsAtExit);
    await expectNothingStored(session.configDir);
  });

  it('Ctrl-C with --json: exit 130 and a CANCELLED envelope on stdout', async () => {
    const emulator = await file.emulator({ interval: 1 });
    const session = await file.session();
    const stderr = textWatcher();
    const ctrlC = new AbortController();
    const { done } = session.spawn(
      ['auth', 'login', '--provider', 'nanogpt', '--json', '--base-url', emulator.url],
      {
        timeoutMs: RUN_TIMEOUT_MS,
        onStderr: stderr.feed,
        signal: ctrlC.signal,
      },
    );
    await stderr.until((text) => text.includes('Waiting for approval'), '"Waiting for approval" on stderr');
    ctrlC.abort();
    const run = await done;
    expectExit(run, 130);
    expect(JSON.parse(run.stdout)).toEqual({
      status: 130,
      error: expect.objectContaining({ code: 'CANCELLED' }),
      warnings: [],
    });
    await expectNothingStored(session.configDir);
  });
});

/** Faults on the device-flow endpoints, each in its own emulator and config dir, run side by side. */
describe.concurrent(
  'transient server faults during the device flow are retried and the login succeeds',
  () => {
    const cases: Array<{
      name: string;
      fault: Fault;
      route: 'poll' | 'start';
      firstStatus: number;
      minGapMs: number;
    }> = [
      {
        name: 'HTTP 503 with a JSON body on poll',
        fault: { route: 'poll', kind: 'status', status: 503 },
        route: 'poll',
        firstStatus: 503,
        minGapMs: 900,
      },
      {
        name: 'a CDN HTML 502 page on poll',
        fault: { route: 'poll', kind: 'html', status: 502 },
        route: 'poll',
        firstStatus: 502,
        minGapMs: 900,
      },
      {
        // Retry-After (3 s) is longer than the interval (1 s) and the first back-off (2 s): the gap proves it is honoured.
        name: '429 with Retry-After: 3 on poll',
        fault: {
          route: 'poll',
          kind: 'status',
          status: 429,
          body: { error: 'rate_limited' },
          headers: { 'retry-after': '3' },
        },
        route: 'poll',
        firstStatus: 429,
        minGapMs: 2900,
      },
      {
        name: 'a dropped connection on poll',
        fault: { route: 'poll', kind: 'drop' },
        route: 'poll',
        firstStatus: 0,
        minGapMs: 900,
      },
      {
        name: 'a CDN HTML 502 page on start',
        fault: { route: 'start', kind: 'html', status: 502 },
        route: 'start',
        firstStatus: 502,
        minGapMs: 300,
      },
    ];

    it.each(cases)('$name', async ({ fault, route, firstStatus, minGapMs }) => {
      const scope = file.scope();
      try {
        await faultedLogin(scope, fault, route, firstStatus, minGapMs);
      } finally {
        await scope.close();
      }
    });
  },
);

async function faultedLogin(
  scope: E2eScope,
  fault: Fault,
  route: 'poll' | 'start',
  firstStatus: number,
  minGapMs: number,
) {
  {
    const emulator = await scope.emulator({ interval: 1, autoApproveAfterPolls: 0 });
    emulator.faults.add(fault);
    const session = await scope.session();
    const run = await session.run(['auth', 'login', '--provider', 'nanogpt', '--base-url', emulator.url], {
      timeoutMs: RUN_TIMEOUT_MS,
    });
    expectExit(run, 0);
    expect(run.stdout).toBe('');

    // The emulator log shows the failed attempt, then the retry that succeeded.
    const attempts = requestsTo(emulator, route);
    expect(attempts.map((r) => r.status)).toEqual([firstStatus, 200]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(minGapMs);
    if (route === 'poll') {
      expect(attempts[1]!.body).toEqual(attempts[0]!.body); // the same device code, not a new login
      expect(requestsTo(emulator, 'start')).toHaveLength(1);
    }

    const [key] = emulator.issuedKeys();
    expect(key).toBeDefined();
    expect((await readIndex(session.configDir))?.accounts).toEqual([
      expect.objectContaining({ provider: 'nanogpt', method: 'device', baseUrl: emulator.url }),
    ]);
    await expectSecretNotOnDisk(session.configDir, key!);
    const token = await session.run(['auth', 'token'], { timeoutMs: RUN_TIMEOUT_MS });
    expectExit(token, 0);
    expect(token.stdout).toBe(`${key}\n`);
  }
}

describe('secrets', () => {
  it('no key or device code ever reaches stderr, and the key reaches stdout only through `auth token`', () => {
    const runs = file.runs();
    const secrets = file.secrets();
    expect(runs.length).toBeGreaterThanOrEqual(12);
    expect(file.emulators.flatMap((e) => e.deviceCodes()).length).toBeGreaterThanOrEqual(9);
    expect(runs.some((r) => r.args[1] === 'token' && secrets.some((s) => r.stdout.includes(s)))).toBe(true);
    assertNoSecretLeaks(runs, secrets);
  });
});
