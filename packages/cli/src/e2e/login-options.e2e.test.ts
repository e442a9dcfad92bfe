/**
 * Login options through the built binary: a provider declares them in its manifest and the host reads
 * only the declaration (`--option flag=value`, the host's own `--client-name`/`--client-id`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { E2eFile, RUN_TIMEOUT_MS, expectExit, expectNothingStored } from './harness.js';

const file = new E2eFile();
afterEach(() => file.cleanup());

const opts = { timeoutMs: RUN_TIMEOUT_MS };

describe('declared login options', () => {
  it('--option client-name=NAME reaches the provider like --client-name', async () => {
    const emulator = await file.emulator({ autoApproveAfterPolls: 0 });
    const session = await file.session();
    const run = await session.run(
      [
        'auth',
        'login',
        '--provider',
        'nanogpt',
        '--option',
        'client-name=ci-runner',
        '--base-url',
        emulator.url,
      ],
      opts,
    );
    expectExit(run, 0);
    expect(emulator.requests.find((r) => r.route === 'start')!.body).toEqual({ client_name: 'ci-runner' });
  });

  it('an option the provider does not declare: exit 2 naming what it accepts, before any request', async () => {
    const emulator = await file.emulator();
    const session = await file.session();
    const run = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--option', 'audience=x', '--base-url', emulator.url],
      opts,
    );
    expectExit(run, 2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('--option audience does not apply to NanoGPT.');
    expect(run.stderr).toContain('--client-name <value>');
    expect(emulator.requests).toEqual([]);
    await expectNothingStored(session.configDir);
  });

  it('auth providers --json lists the declared options', async () => {
    const session = await file.session();
    const run = await session.run(['auth', 'providers', '--json'], opts);
    expectExit(run, 0);
    const { result } = JSON.parse(run.stdout) as {
      result: { providers: Array<{ id: string; loginOptions: Array<{ name: string; flag: string }> }> };
    };
    const options = Object.fromEntries(
      result.providers.map((p) => [p.id, p.loginOptions.map((o) => `${o.name}:${o.flag}`)]),
    );
    expect(options).toMatchObject({
      nanogpt: ['clientName:client-name'],
      kaneo: ['clientId:client-id'],
      nanoterm: [],
      nanoctl: [],
    });
  });
});
