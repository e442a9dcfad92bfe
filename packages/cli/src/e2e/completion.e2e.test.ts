/**
 * Shell completion, suggestions and the provider as an argument, through the built `latchkey` binary:
 * `latchkey autocomplete bash` writes its scripts under the session's XDG cache (never the real HOME),
 * and bash itself, sourcing them, completes commands, flags, provider ids and account names;
 * `latchkey auth lgin` suggests `auth login` in latchkey's own error style; `auth token kaneo` is
 * `auth token --provider kaneo`, on the fast path.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCliSession, type CliSession } from '@latchkey/conformance/tools';
import { startNanoTermEmulator } from '@latchkey/testkit';
import { RUN_TIMEOUT_MS, expectExit, moduleRecorder } from './harness.js';

const sessions: CliSession[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
});

async function session(): Promise<CliSession> {
  const created = await createCliSession();
  sessions.push(created);
  return created;
}

/** What bash completes for `words` (the last one is being typed), with the generated setup sourced. */
function complete(home: string, words: string[]): string[] {
  const script = [
    'source "$HOME/.cache/latchkey/autocomplete/bash_setup"',
    'COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=()',
    // Whatever function the setup registered for latchkey, as bash would call it on <TAB>.
    'fn=$(complete -p latchkey | sed -E "s/.* -F ([^ ]+) .*/\\1/")',
    '"$fn" latchkey "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"',
    'printf "%s\\n" "${COMPREPLY[@]}" | sort -u',
  ].join('\n');
  const run = spawnSync('bash', ['--norc', '--noprofile', '-c', script, 'bash', ...words], {
    env: { PATH: process.env.PATH, HOME: home },
    encoding: 'utf8',
    timeout: RUN_TIMEOUT_MS,
  });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split('\n').filter((w) => w !== '');
}

/** The real home's autocomplete cache, to show a run leaves it as it was. */
function realCacheState(): string {
  const dir = join(homedir(), '.cache', 'latchkey', 'autocomplete');
  return existsSync(dir) ? `exists ${statSync(dir).mtimeMs}` : 'absent';
}

describe('latchkey autocomplete', () => {
  it('writes bash, zsh and PowerShell scripts in the session cache that complete commands, flags and provider ids', async () => {
    const cli = await session();
    const before = realCacheState();
    const run = await cli.run(['autocomplete', 'bash'], { timeoutMs: RUN_TIMEOUT_MS });
    expectExit(run, 0);
    expect(run.stdout).toContain('latchkey autocomplete script bash');
    expect(realCacheState()).toBe(before);

    const home = cli.homeDir;
    expect(complete(home, ['latchkey', 'auth', 'lo'])).toEqual(['login', 'logout']);
    expect(complete(home, ['latchkey', 'auth', 'login', '--with'])).toEqual(['--with-token']);
    expect(complete(home, ['latchkey', 'auth', 'login', '--provider', 'na'])).toEqual([
      'nanoctl',
      'nanogpt',
      'nanoterm',
    ]);
    expect(complete(home, ['latchkey', 'auth', 'login', 'na'])).toEqual(['nanoctl', 'nanogpt', 'nanoterm']);
    expect(complete(home, ['latchkey', 'auth', 'token', 'k'])).toEqual(['kaneo']);
    expect(complete(home, ['latchkey', 'exec', '-p', 'nanot'])).toEqual(['nanoterm']);

    const zsh = await readFile(join(home, '.cache/latchkey/autocomplete/functions/zsh/_latchkey'), 'utf8');
    expect(zsh).toContain('provider options:(kaneo nanoctl nanogpt nanoterm)');
    const ps1 = await readFile(
      join(home, '.cache/latchkey/autocomplete/functions/powershell/latchkey.ps1'),
      'utf8',
    );
    expect(ps1).toContain('login');
  });

  it('a provider from a plugin linked later is completed: the scripts are rebuilt after `plugins link`', async () => {
    const cli = await session();
    expectExit(await cli.run(['autocomplete', 'bash'], { timeoutMs: RUN_TIMEOUT_MS }), 0);
    expect(complete(cli.homeDir, ['latchkey', 'auth', 'login', 'ac'])).toEqual([]);
    const acme = join(import.meta.dirname, '../../../../examples/acme');
    expectExit(await cli.run(['plugins', 'link', acme, '--no-install'], { timeoutMs: RUN_TIMEOUT_MS }), 0);
    expect(complete(cli.homeDir, ['latchkey', 'auth', 'login', '--provider', 'ac'])).toEqual(['acme']);
    expectExit(
      await cli.run(['plugins', 'unlink', 'latchkey-plugin-acme'], { timeoutMs: RUN_TIMEOUT_MS }),
      0,
    );
    expect(complete(cli.homeDir, ['latchkey', 'auth', 'login', '--provider', 'ac'])).toEqual([]);
  });

  it('completes stored account names after --account once the cache is refreshed', async () => {
    const emulator = await startNanoTermEmulator();
    try {
      const cli = await session();
      const key = emulator.createKey({ name: 'work' }).key;
      const login = await cli.run(
        ['auth', 'login', 'nanoterm', '--with-token', '--name', 'work', '--base-url', emulator.url],
        { input: `${key}\n`, timeoutMs: RUN_TIMEOUT_MS },
      );
      expectExit(login, 0);
      expectExit(await cli.run(['autocomplete', '--refresh-cache'], { timeoutMs: RUN_TIMEOUT_MS }), 0);
      expect(complete(cli.homeDir, ['latchkey', 'auth', 'token', 'nanoterm', '--account', 'w'])).toEqual([
        'work',
      ]);
      // The secret itself is in no completion file.
      const bash = await readFile(
        join(cli.homeDir, '.cache/latchkey/autocomplete/functions/bash/latchkey.bash'),
        'utf8',
      );
      expect(bash).not.toContain(key);
    } finally {
      await emulator.close();
    }
  });
});

describe('suggestions for mistyped commands', () => {
  it('`auth lgin` suggests `auth login` on one error line, exit 2, never the colon form', async () => {
    const cli = await session();
    const run = await cli.run(['auth', 'lgin', '--provider', 'nanogpt']);
    expectExit(run, 2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'latchkey: "auth lgin" is not a latchkey command.\n' + '  Did you mean `auth login`?\n',
    );
    // The provider as an argument after the typo: still `auth lgin` -> `auth login`.
    const positional = await cli.run(['auth', 'lgin', 'nanogpt']);
    expectExit(positional, 2);
    expect(positional.stderr).toBe(
      'latchkey: "auth lgin" is not a latchkey command.\n' + '  Did you mean `auth login`?\n',
    );
  });

  it('--json gives the failure envelope on stdout', async () => {
    const cli = await session();
    const run = await cli.run(['atuh', 'status', '--json']);
    expectExit(run, 2);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      status: 2,
      error: {
        code: 'UNKNOWN_COMMAND',
        message: '"atuh status" is not a latchkey command.',
        action: 'Did you mean `auth status`?',
        retryable: false,
      },
      warnings: [],
    });
  });

  it('says so plainly when nothing is close', async () => {
    const cli = await session();
    const run = await cli.run(['deploy-everything']);
    expectExit(run, 2);
    expect(run.stderr).toBe(
      'latchkey: "deploy-everything" is not a latchkey command.\n  Run `latchkey --help` to see the commands.\n',
    );
  });
});

describe('the provider as the first argument', () => {
  it('`auth token kaneo` is `auth token --provider kaneo`, on the fast path', async () => {
    const cli = await session();
    const env = { KANEO_API_KEY: 'kaneo-positional-0123456789', CI: undefined };
    // The full CLI's form first (`--provider`), then the positional form on the fast path.
    expectExit(await cli.run(['auth', 'token', '--provider', 'kaneo'], { env }), 0);
    const recorder = await moduleRecorder(cli.homeDir);
    const run = spawnSync(
      process.execPath,
      [...recorder.importArgs, join(import.meta.dirname, '../../bin/run.cjs'), 'auth', 'token', 'kaneo'],
      {
        env: {
          PATH: process.env.PATH,
          HOME: cli.homeDir,
          XDG_CACHE_HOME: join(cli.homeDir, '.cache'),
          XDG_CONFIG_HOME: join(cli.homeDir, '.config'),
          LATCHKEY_CONFIG_DIR: cli.configDir,
          LATCHKEY_STORAGE: 'file',
          KANEO_API_KEY: env.KANEO_API_KEY,
        },
        encoding: 'utf8',
        timeout: RUN_TIMEOUT_MS,
      },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('kaneo-positional-0123456789\n');
    // Answered without starting oclif (the fast path's own module list is checked in fast-path-imports).
    const modules = await recorder.modules();
    expect(modules.some((url) => /\/fast-token\.cjs$/.test(url))).toBe(true);
    expect(modules.filter((url) => /@oclif[/+]core/.test(url))).toEqual([]);
  });

  it('login, status, switch and logout take it too; an argument and a different --provider is exit 2', async () => {
    const emulator = await startNanoTermEmulator();
    try {
      const cli = await session();
      const key = emulator.createKey({ name: 'ci' }).key;
      const login = await cli.run(['auth', 'login', 'nanoterm', '--with-token', '--base-url', emulator.url], {
        input: `${key}\n`,
        timeoutMs: RUN_TIMEOUT_MS,
      });
      expectExit(login, 0);
      const status = await cli.run(['auth', 'status', 'nanoterm', '--json'], { timeoutMs: RUN_TIMEOUT_MS });
      expectExit(status, 0);
      expect(
        (
          JSON.parse(status.stdout) as { result: { credentials: Array<{ provider: string }> } }
        ).result.credentials.map((c) => c.provider),
      ).toEqual(['nanoterm']);

      const both = await cli.run(['auth', 'token', 'nanoterm', '--provider', 'nanogpt']);
      expectExit(both, 2);
      expect(both.stdout).toBe('');
      expect(both.stderr).toContain('Two providers were given: "nanoterm" as the argument and "nanogpt"');

      const second = emulator.createKey({ name: 'other' }).key;
      expectExit(
        await cli.run(
          ['auth', 'login', 'nanoterm', '--with-token', '--name', 'work', '--base-url', emulator.url],
          {
            input: `${second}\n`,
            timeoutMs: RUN_TIMEOUT_MS,
          },
        ),
        0,
      );
      const switched = await cli.run(['auth', 'switch', 'nanoterm', '--account', 'work', '--json'], {
        timeoutMs: RUN_TIMEOUT_MS,
      });
      expectExit(switched, 0);
      expect(JSON.parse(switched.stdout)).toMatchObject({ status: 0, result: { account: 'work' } });
      const current = await cli.run(['auth', 'token', 'nanoterm']);
      expect(current.stdout).toBe(`${second}\n`);

      const logout = await cli.run(['auth', 'logout', 'nanoterm', '--all'], { timeoutMs: RUN_TIMEOUT_MS });
      expectExit(logout, 0);
      const after = await cli.run(['auth', 'token', 'nanoterm']);
      expectExit(after, 4);
      expect(after.stdout).toBe('');
    } finally {
      await emulator.close();
    }
  });
});
