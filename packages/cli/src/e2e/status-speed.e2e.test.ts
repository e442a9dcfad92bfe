/**
 * `auth status` with servers that are down or slow, through the built binary (issue 14, item 4): a
 * refused connection is reported without retries, a server that never answers costs the status timeout
 * (2 s), and six accounts on a server that takes 1 s each are checked at the same time (the server sees
 * the six requests overlap), shown in a stable order. The servers are real HTTP servers on 127.0.0.1 that
 * answer NanoGPT's `GET /api/v1/models`. Time bounds are generous (a loaded 2-core machine), and each is
 * still under what the old behaviour took (6 s of retries for a refused port, 15 s for a hang, 6 s for six
 * 1 s checks one after another). Build first: `pnpm exec turbo run build --filter=@latchkey/cli...`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CredentialStore } from '@latchkey/storage';
import { createCliSession, timeBound, type CliSession } from '@latchkey/conformance/tools';
import { RUN_TIMEOUT_MS, expectExit, disposeAfterLeakCheck } from './harness.js';

const sessions: CliSession[] = [];
const servers: Server[] = [];
const secrets: string[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
afterAll(() => disposeAfterLeakCheck(sessions, secrets));

/**
 * A NanoGPT-like server: `GET /api/v1/models` answers 200 JSON after `delayMs` (or never, when `hang`).
 * It records when each request arrived and was answered, and the most requests it held at once.
 */
async function startServer() {
  const state = { delayMs: 0, hang: false, inFlight: 0, mostAtOnce: 0, requests: 0 };
  const server = createServer((req, res) => {
    state.requests += 1;
    if (state.hang) return;
    state.inFlight += 1;
    state.mostAtOnce = Math.max(state.mostAtOnce, state.inFlight);
    setTimeout(() => {
      state.inFlight -= 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'model-a', object: 'model' }] }));
    }, state.delayMs);
    req.resume();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, state };
}

/** A session with NanoGPT accounts stored for `url` (the first is the default), in its encrypted file. */
async function signedIn(names: string[], url: string): Promise<CliSession> {
  const session = await createCliSession();
  sessions.push(session);
  // Stored the way `auth login --with-token` stores them (the same store), without a login run each.
  const store = new CredentialStore({ configDir: session.configDir, preference: 'file' });
  for (const account of names) {
    const secret = `sk-nano-${randomUUID()}`;
    secrets.push(secret);
    await store.save({ provider: 'nanogpt', account, secret, baseUrl: url });
  }
  return session;
}

async function timedStatus(session: CliSession) {
  const started = Date.now();
  const run = await session.run(['auth', 'status', '--provider', 'nanogpt'], { timeoutMs: RUN_TIMEOUT_MS });
  return { run, ms: Date.now() - started };
}

/**
 * How long a status run may take: the waits it must make (not stretched), plus start-up and the checks,
 * 2 s on a quiet machine and stretched on a busy one (`timeBound`).
 */
const within = (waitsMs: number) => waitsMs + timeBound(2000);

/** "name: <what>" for each account row of the human output, in order. */
const rows = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => /^ {2}\S /.test(line))
    .map((line) => line.slice(4));

describe('auth status with servers down or slow', () => {
  it('a refused connection: reported at once, not retried (exit 1)', async () => {
    const { server, url } = await startServer();
    const session = await signedIn(['one', 'two'], url);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    servers.splice(servers.indexOf(server), 1);
    const { run, ms } = await timedStatus(session);
    expectExit(run, 1);
    expect(rows(run.stdout)).toEqual([
      'one (active): could not be checked (server unreachable)',
      'two: could not be checked (server unreachable)',
    ]);
    expect(run.stdout).toContain(`Could not reach ${new URL(url).host}: the connection was refused.`);
    // Retried as before, it took over 6 s (0.5 + 1.5 + 4 s of waits) more.
    expect(ms).toBeLessThan(within(1000));
  });

  it('a host name that does not resolve: reported at once, not retried (exit 1)', async () => {
    // `.invalid` never resolves (RFC 2606); a resolver that hangs instead is cut off by the 2 s timeout.
    const session = await signedIn(['one'], 'https://latchkey-status-test.invalid');
    const { run, ms } = await timedStatus(session);
    expectExit(run, 1);
    expect(rows(run.stdout)).toEqual(['one (active): could not be checked (server unreachable)']);
    expect(run.stdout).toMatch(
      /Could not reach latchkey-status-test\.invalid: the host name could not be resolved\.|latchkey-status-test\.invalid did not answer within 2 s \(1 try\)\./,
    );
    // Retried as before, it took over 6 s more.
    expect(ms).toBeLessThan(within(2000));
  });

  it('a server that accepts and never answers: the 2 s status timeout, one try per account', async () => {
    const { url, state } = await startServer();
    const session = await signedIn(['one', 'two'], url);
    state.hang = true;
    const { run, ms } = await timedStatus(session);
    expectExit(run, 1);
    expect(rows(run.stdout)).toEqual([
      'one (active): could not be checked (server unreachable)',
      'two: could not be checked (server unreachable)',
    ]);
    expect(run.stdout).toContain(`${new URL(url).host} did not answer within 2 s (1 try).`);
    expect(state.requests).toBe(2);
    expect(ms).toBeGreaterThanOrEqual(2000);
    // Both at once: one 2 s timeout (two tries each would be 4 s more).
    expect(ms).toBeLessThan(within(2000));
  });

  it('six accounts on a server that takes 1 s each: checked at the same time, shown in a stable order', async () => {
    const { url, state } = await startServer();
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const session = await signedIn(names, url);
    state.delayMs = 1000;
    const { run, ms } = await timedStatus(session);
    expectExit(run, 0);
    expect(rows(run.stdout)).toEqual(names.map((n, i) => `${n}${i === 0 ? ' (active)' : ''}: valid`));
    expect(state.requests).toBe(6);
    // What the server saw: all six requests open at once.
    expect(state.mostAtOnce).toBe(6);
    // One after another, it took over 6 s.
    expect(ms).toBeLessThan(within(1000));
  });
});
