/**
 * `latchkey inject` through the built binary: keys stored from the NanoGPT and NanoTerm emulators (closed
 * again before any inject, so no run can reach a server), a template of three references (two providers,
 * one #base-url) to stdout and to a 0600 -o file, --force, a fourth reference that is not signed in (exit 4,
 * nothing written), and the leak check: a key reaches stdout only from `auth token` and `inject` to stdout.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, type CliRun } from '@latchkey/conformance/tools';
import { startNanoTermEmulator } from '@latchkey/testkit';
import { E2eFile, RUN_TIMEOUT_MS, expectExit, newKey } from './harness.js';

const file = new E2eFile();
afterEach(() => file.cleanup());

const opts = { timeoutMs: RUN_TIMEOUT_MS };
const template = [
  '# app.env',
  'NANOGPT_API_KEY={{ latchkey://nanogpt }}',
  'NANOTERM_API_KEY={{latchkey://nanoterm}}',
  'OPENAI_BASE_URL={{  latchkey://nanogpt#base-url }}/api/v1',
  'LEFT_ALONE={{ not_a_reference }}',
  '',
].join('\n');

async function signedIn() {
  const gptKey = newKey();
  const gpt = await file.emulator({ keys: [gptKey] });
  const term = await startNanoTermEmulator();
  const termKey = file.secret(term.createKey({}).key);
  const session = await file.session();
  try {
    expectExit(
      await session.run(['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', gpt.url], {
        ...opts,
        input: `${gptKey}\n`,
      }),
      0,
    );
    expectExit(
      await session.run(['auth', 'login', '--provider', 'nanoterm', '--with-token', '--base-url', term.url], {
        ...opts,
        input: `${termKey}\n`,
      }),
      0,
    );
  } finally {
    // Offline from here on: inject must answer from the store alone.
    await term.close();
    await gpt.close();
  }
  const expected = [
    '# app.env',
    `NANOGPT_API_KEY=${gptKey}`,
    `NANOTERM_API_KEY=${termKey}`,
    `OPENAI_BASE_URL=${gpt.url}/api/v1`,
    'LEFT_ALONE={{ not_a_reference }}',
    '',
  ].join('\n');
  return { session, gptKey, termKey, expected };
}

describe('latchkey inject', () => {
  it('three references (two providers, one #base-url) from stdin to stdout', async () => {
    const { session, expected } = await signedIn();
    const run = await session.run(['inject'], { ...opts, input: template });
    expectExit(run, 0);
    expect(run.stdout).toBe(expected);
    expect(run.stderr).toBe('');
  });

  it('-i to -o: mode 0600; an existing file is refused without --force (exit 2) and replaced with it', async () => {
    const { session, expected } = await signedIn();
    await writeFile(join(session.homeDir, 'app.env.tpl'), template);
    const out = join(session.homeDir, 'app.env');

    const first = await session.run(['inject', '-i', 'app.env.tpl', '-o', 'app.env'], opts);
    expectExit(first, 0);
    expect(first.stdout).toBe('');
    expect(first.stderr).toBe('');
    expect(await readFile(out, 'utf8')).toBe(expected);
    expect((await stat(out)).mode & 0o777).toBe(0o600);

    await writeFile(out, 'edited by hand\n');
    const refused = await session.run(['inject', '-i', 'app.env.tpl', '-o', 'app.env'], opts);
    expectExit(refused, 2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('"app.env" already exists; latchkey inject wrote nothing.');
    expect(refused.stderr).toContain('--force');
    expect(await readFile(out, 'utf8')).toBe('edited by hand\n');

    const forced = await session.run(
      ['inject', '--in-file', 'app.env.tpl', '--out-file', 'app.env', '--force'],
      opts,
    );
    expectExit(forced, 0);
    expect(await readFile(out, 'utf8')).toBe(expected);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    // Atomic: no temp file left beside it.
    expect((await readdir(session.homeDir)).filter((name) => name.includes('app.env')).sort()).toEqual([
      'app.env',
      'app.env.tpl',
    ]);
  });

  it('one reference not signed in: exit 4 naming it, nothing on stdout, the output file never created', async () => {
    const { session } = await signedIn();
    const withMissing = `${template}KANEO_API_KEY={{ latchkey://kaneo }}\n`;
    const out = join(session.homeDir, 'missing.env');

    const toFile = await session.run(['inject', '-o', 'missing.env'], {
      ...opts,
      input: withMissing,
      env: { KANEO_API_KEY: undefined },
    });
    expectExit(toFile, 4);
    expect(toFile.stdout).toBe('');
    expect(toFile.stderr).toContain('stdin line 6 ("latchkey://kaneo"): Not signed in to Kaneo.');
    expect(toFile.stderr).toContain('latchkey auth login --provider kaneo');
    expect(existsSync(out)).toBe(false);

    const toStdout = await session.run(['inject'], { ...opts, input: withMissing });
    expectExit(toStdout, 4);
    expect(toStdout.stdout).toBe('');

    const malformed = await session.run(['inject'], { ...opts, input: '{{ latchkey://nanogpt#password }}' });
    expectExit(malformed, 2);
    expect(malformed.stdout).toBe('');
    expect(malformed.stderr).toContain('Malformed reference "latchkey://nanogpt#password"');
  });
});

describe('secrets', () => {
  it('a key reaches stdout only from inject to stdout, never stderr, never a file inject refused', () => {
    const runs = file.runs();
    const secrets = file.secrets();
    const injectToStdout = (run: CliRun) =>
      run.args[0] === 'inject' && !run.args.some((arg) => arg === '-o' || arg === '--out-file');
    // Not vacuous: the keys are in the list and one run really printed them.
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    expect(runs.some((r) => injectToStdout(r) && secrets.some((s) => r.stdout.includes(s)))).toBe(true);
    assertNoSecretLeaks(runs, secrets, { stdoutAllowed: injectToStdout });
  });
});
