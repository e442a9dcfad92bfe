/**
 * Help that ships: `latchkey help <topic>` prints a guide from the files in the package (dist/help, made
 * from docs/ at build time), wrapped to 80 columns when stdout is not a terminal, with no pager; every
 * pointer latchkey prints names a guide an installed user has (`latchkey help <topic>`), never a file of
 * the repository; an error's `docs` is the topic's name, in the text and in the --json envelope.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, createCliSession, type CliSession } from '@latchkey/conformance/tools';
import { startNanoGptEmulator } from '@latchkey/testkit';
import { GUIDES } from '../help/guides.js';
import { RUN_TIMEOUT_MS, expectExit, newKey } from './harness.js';
import { repoRoot } from './registry.js';

const sessions: CliSession[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((session) => session.dispose()));
});

async function session(): Promise<CliSession> {
  const created = await createCliSession();
  sessions.push(created);
  return created;
}

const opts = { timeoutMs: RUN_TIMEOUT_MS };
/** Every `latchkey help <topic>` a text names. */
const pointers = (text: string) => [...text.matchAll(/latchkey help ([a-z][\w-]*)/g)].map((m) => m[1]!);
const topics = new Set(GUIDES.map((guide) => guide.topic));

describe('latchkey help <topic>', () => {
  it('prints every guide from the package: its page of docs/, as text wrapped to 80 columns', async () => {
    const cli = await session();
    for (const guide of GUIDES) {
      const run = await cli.run(['help', guide.topic], opts);
      expectExit(run, 0);
      expect(run.stderr).toBe('');
      const markdown = await readFile(join(repoRoot, 'docs', guide.source), 'utf8');
      const title = /^# (.+)$/m.exec(markdown)![1]!.replace(/\*\*/g, '');
      expect(run.stdout.startsWith(`${title}\n`), `${guide.topic}: ${run.stdout.slice(0, 80)}`).toBe(true);
      const lines = run.stdout.split('\n');
      expect(lines.length).toBeGreaterThan(20);
      // Not a terminal: no pager, and the text wrapped to 80 columns (code and examples as they are).
      for (const line of lines.filter((l) => !l.startsWith('    ') && !/^\s*\S+$/.test(l)))
        expect(line.length, `${guide.topic}: ${line}`).toBeLessThanOrEqual(80);
      // No file of the repository named (an installed user has none); addresses and guides instead.
      expect(run.stdout.replace(/https:\/\/\S+/g, ''), guide.topic).not.toMatch(/\b[\w-]+\.md\b/);
      for (const topic of pointers(run.stdout))
        expect(topics, `${guide.topic} names ${topic}`).toContain(topic);
    }
  });

  it('the root help lists the guides; a topic that is not one is an unknown command (exit 2)', async () => {
    const cli = await session();
    const root = await cli.run(['--help'], opts);
    expectExit(root, 0);
    expect(root.stdout).toContain('GUIDES');
    expect(new Set(pointers(root.stdout))).toEqual(topics);
    const unknown = await cli.run(['help', 'no-such-topic'], opts);
    expectExit(unknown, 2);
    // A command keeps its own help.
    const command = await cli.run(['help', 'auth', 'token'], opts);
    expectExit(command, 0);
    expect(command.stdout).toContain('USAGE');
  });
});

describe('messages point at guides', () => {
  it('a login to the keyless file says `latchkey help storage`', async () => {
    const key = newKey();
    const emulator = await startNanoGptEmulator({ keys: [key] });
    try {
      const cli = await session();
      const login = await cli.run(
        ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
        { ...opts, input: `${key}\n`, env: { LATCHKEY_STORAGE: 'file' } },
      );
      expectExit(login, 0);
      expect(login.stderr).toContain('Whoever can read that directory can read the secret');
      expect(login.stderr).toContain('see `latchkey help storage`.');
      assertNoSecretLeaks(cli.runs, [key]);
    } finally {
      await emulator.close();
    }
  });

  it("an error's docs is the guide's name: `See latchkey help accounts` on stderr, docs: accounts in --json", async () => {
    const cli = await session();
    const text = await cli.run(['auth', 'status', '--provider', 'nanogpt', '--account', 'nobody'], opts);
    expectExit(text, 4);
    expect(text.stderr).toContain("latchkey: No NanoGPT account named 'nobody' is stored.");
    expect(text.stderr.trimEnd().split('\n').at(-1)).toBe('  See `latchkey help accounts`.');
    const json = await cli.run(
      ['auth', 'status', '--provider', 'nanogpt', '--account', 'nobody', '--json'],
      opts,
    );
    expectExit(json, 4);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 4,
      error: { code: 'ACCOUNT_NOT_FOUND', docs: 'accounts' },
    });
    const guide = await cli.run(['help', 'accounts'], opts);
    expectExit(guide, 0);
  });
});
