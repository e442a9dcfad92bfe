/**
 * Shell completion, suggestions and the provider as an argument, through the built `latchkey` binary:
 * `latchkey autocomplete bash|zsh` writes its scripts under the session's XDG cache (never the real HOME);
 * a real bash and a real zsh in tmux, set up as the printed instructions say, are typed into and pressed
 * <TAB> in, and the screen is read: commands, flags after other flags and arguments, provider ids, and the
 * chosen provider's accounts as stored at that moment. `latchkey auth lgin` suggests `auth login` in
 * latchkey's own error style; `auth token kaneo` is `auth token --provider kaneo`, on the fast path.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { appendFile, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCliSession, defaultCliBin, timeBound, type CliSession } from '@latchkey/conformance/tools';
import { startNanoGptEmulator, startNanoTermEmulator } from '@latchkey/testkit';
import {
  RUN_TIMEOUT_MS,
  endTmuxServer,
  expectExit,
  expectFastPath,
  moduleRecorder,
  newKey,
} from './harness.js';

const sessions: CliSession[] = [];
/** Ends the tmux servers (whose sockets are in the sessions' homes) and waits for their shells to exit. */
const disposers: Array<() => Promise<void>> = [];
afterAll(async () => {
  try {
    await Promise.all(disposers.map((dispose) => dispose()));
  } finally {
    await Promise.all(sessions.map((s) => s.dispose()));
  }
});

async function session(): Promise<CliSession> {
  const created = await createCliSession();
  sessions.push(created);
  return created;
}

const hasShells = ['tmux', 'bash', 'zsh'].every((tool) => spawnSync(tool, ['--version']).error === undefined);
const inCi = Boolean(process.env.CI && process.env.CI !== 'false');

/** The real home's autocomplete cache, to show a run leaves it as it was. */
function realCacheState(): string {
  const dir = join(homedir(), '.cache', 'latchkey', 'autocomplete');
  return existsSync(dir) ? `exists ${statSync(dir).mtimeMs}` : 'absent';
}

/**
 * An interactive bash or zsh in tmux with the session's environment, `latchkey` on its PATH, and the
 * completion set up as `latchkey autocomplete <shell>` tells a user to (the `autocomplete script` line in
 * the start-up file). Its tmux server is ended after the file's tests, before the sessions are removed.
 */
async function shellFor(cli: CliSession, shell: 'bash' | 'zsh') {
  const home = cli.homeDir;
  const bin = join(home, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'latchkey'), `#!/bin/sh\nexec '${process.execPath}' '${defaultCliBin()}' "$@"\n`);
  await chmod(join(bin, 'latchkey'), 0o755);
  expectExit(await cli.run(['autocomplete', shell], { timeoutMs: RUN_TIMEOUT_MS }), 0);
  const script = await cli.run(['autocomplete', 'script', shell], { timeoutMs: RUN_TIMEOUT_MS });
  expectExit(script, 0);
  const env = {
    HOME: home,
    PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    LATCHKEY_CONFIG_DIR: cli.configDir,
    LATCHKEY_STORAGE: 'file',
    TERM: 'xterm-256color',
    ZDOTDIR: home,
  };
  const rc = join(home, shell === 'bash' ? '.bashrc' : '.zshrc');
  // Both shells list the choices on the first <TAB> even when it also inserts their common start (by
  // default only a second <TAB>, once nothing is left to insert, lists them).
  await writeFile(
    rc,
    shell === 'bash'
      ? "PS1='$ '\nbind 'set show-all-if-ambiguous on'\n"
      : "PROMPT='$ '\nunsetopt BEEP LIST_AMBIGUOUS\n",
  );
  await appendFile(rc, script.stdout);
  const start = join(home, 'shell.sh');
  const vars = Object.entries(env).map(([k, v]) => `'${k}=${v}'`);
  const command = shell === 'bash' ? `bash --noprofile --rcfile '${rc}' -i` : 'zsh -i';
  await writeFile(start, `#!/bin/sh\nexec env -i ${vars.join(' ')} ${command}\n`);
  await chmod(start, 0o755);

  // The server's socket in the session's home, so nothing of it stays behind in /tmp.
  const socket = join(home, 'tmux.sock');
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8' });
  tmux('new-session', '-d', '-s', 't', '-x', '200', '-y', '50', start);
  disposers.push(() => endTmuxServer(['-S', socket]));
  const screen = () => tmux('capture-pane', '-p', '-t', 't');
  /** Waits (bounded, scaled to the machine's load) until `check` holds for the screen. */
  const waitFor = async (check: (shown: string) => boolean, what: string): Promise<string> => {
    const bound = timeBound(10_000, { atMost: RUN_TIMEOUT_MS });
    for (const started = Date.now(); ;) {
      const shown = screen();
      if (check(shown)) return shown;
      if (Date.now() - started > bound)
        throw new Error(`timed out waiting for ${what}; the screen:\n${shown}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const lines = (shown: string) =>
    shown
      .split('\n')
      .map((l) => l.trimEnd())
      .filter((l) => l !== '');
  /** A clear screen with only the prompt. */
  const fresh = async () => {
    tmux('send-keys', '-t', 't', 'C-u');
    tmux('send-keys', '-t', 't', '-l', 'clear');
    tmux('send-keys', '-t', 't', 'Enter');
    await waitFor((shown) => lines(shown).join('\n') === '$', 'a clear screen');
  };
  await waitFor((shown) => lines(shown).at(-1) === '$', 'the prompt');
  return {
    /**
     * Types `text`, presses <TAB> `tabs` times, and returns the screen once `until` holds: the command line
     * (the last line) and what is listed above it.
     */
    async tab(
      text: string,
      tabs: number,
      until: (line: string, listed: string[]) => boolean,
    ): Promise<{ line: string; listed: string[] }> {
      await fresh();
      tmux('send-keys', '-t', 't', '-l', text);
      await waitFor((shown) => lines(shown).at(-1) === `$ ${text}`.trimEnd(), `"${text}" typed`);
      for (let i = 0; i < tabs; i += 1) tmux('send-keys', '-t', 't', 'Tab');
      // The command line is the last line starting with the prompt (bash lists above it, zsh below).
      const read = (shown: string) => {
        const all = lines(shown);
        const line = all.filter((l) => l.startsWith('$ ')).at(-1) ?? '';
        const listed = all
          .filter((l) => !l.startsWith('$ '))
          .join(' ')
          .split(/\s+/)
          .filter((w) => w !== '');
        return { line, listed };
      };
      const shown = await waitFor((s) => {
        const { line, listed } = read(s);
        return until(line, listed);
      }, `completion of "${text}"`);
      return read(shown);
    },
  };
}

/** What a shell lists: the candidate words (zsh prints `word  -- description` columns; the words are kept). */
function words(listed: string[]): string[] {
  return listed.filter((w) => /^(--)?[a-z]/.test(w) && w !== '--').sort();
}

describe.runIf(hasShells || inCi)('completion in a real bash and zsh (tmux)', () => {
  it('the tools are here (CI installs tmux, bash and zsh)', () => {
    expect(hasShells).toBe(true);
  });

  it('`latchkey autocomplete` writes its scripts in the session cache, never the real one', async () => {
    const cli = await session();
    const before = realCacheState();
    const run = await cli.run(['autocomplete', 'bash'], { timeoutMs: RUN_TIMEOUT_MS });
    expectExit(run, 0);
    expect(run.stdout).toContain('latchkey autocomplete script bash');
    expect(realCacheState()).toBe(before);
    const functions = join(cli.homeDir, '.cache/latchkey/autocomplete/functions');
    expect(await readFile(join(functions, 'bash/latchkey.bash'), 'utf8')).toContain('latchkey __complete --');
    expect(await readFile(join(functions, 'zsh/_latchkey'), 'utf8')).toContain('latchkey __complete --');
    expect(await readFile(join(functions, 'powershell/latchkey.ps1'), 'utf8')).toContain('login');
  });

  for (const shell of ['bash', 'zsh'] as const) {
    it(`${shell}: commands, flags after an argument and after a flag, provider ids, fresh per-provider accounts`, async () => {
      const gptKeys = [newKey(), newKey()];
      const nanogpt = await startNanoGptEmulator({ interval: 1, keys: gptKeys });
      const nanoterm = await startNanoTermEmulator();
      try {
        const cli = await session();
        for (const key of gptKeys) {
          const login = await cli.run(
            ['auth', 'login', 'nanogpt', '--with-token', '--base-url', nanogpt.url],
            {
              input: `${key}\n`,
              timeoutMs: RUN_TIMEOUT_MS,
            },
          );
          expectExit(login, 0);
        }
        const labels = gptKeys.map((k) => `sk-nano-...${k.slice(-4)}`).sort();
        for (const name of ['work', 'ci']) {
          const key = nanoterm.createKey({ name }).key;
          const login = await cli.run(
            ['auth', 'login', 'nanoterm', '--with-token', '--name', name, '--base-url', nanoterm.url],
            { input: `${key}\n`, timeoutMs: RUN_TIMEOUT_MS },
          );
          expectExit(login, 0);
        }
        const sh = await shellFor(cli, shell);
        const list = 1;
        const listed = (want: string[]) => (_line: string, shown: string[]) =>
          want.every((w) => shown.includes(w));

        // A command word, then a unique flag after a positional (where the old script stopped).
        expect((await sh.tab('latchkey auth tok', 1, (l) => l.endsWith('token'))).line).toBe(
          '$ latchkey auth token',
        );
        expect((await sh.tab('latchkey auth token nanogpt --', 1, (l) => l.includes('--account'))).line).toBe(
          '$ latchkey auth token nanogpt --account',
        );
        expect(
          (await sh.tab('latchkey auth token --provider nanoterm --acc', 1, (l) => l.includes('--account')))
            .line,
        ).toBe('$ latchkey auth token --provider nanoterm --account');

        // Provider ids after --provider.
        const providers = await sh.tab(
          'latchkey auth token --provider ',
          list,
          listed(['nanogpt', 'nanoterm']),
        );
        expect(words(providers.listed)).toEqual(['kaneo', 'nanoctl', 'nanogpt', 'nanoterm']);

        // The chosen provider's accounts: positional, then --provider.
        const gpt = await sh.tab('latchkey auth token nanogpt --account ', list, listed(labels));
        expect(gpt.listed.filter((w) => w.startsWith('sk-')).sort()).toEqual(labels);
        expect(gpt.listed).not.toContain('work');
        const term = await sh.tab(
          'latchkey auth token --provider nanoterm --account ',
          list,
          listed(['ci', 'work']),
        );
        expect(words(term.listed)).toEqual(['ci', 'work']);
        expect(term.listed.join(' ')).not.toContain('sk-nano');

        // A unique label completes whole, ASCII, as stored, and `auth token` takes it.
        const [one, other] = labels as [string, string];
        let typed = 'sk-nano-...'.length + 1;
        while (typed < one.length && other.startsWith(one.slice(0, typed))) typed += 1;
        const completed = await sh.tab(
          `latchkey auth token nanogpt --account ${one.slice(0, typed)}`,
          1,
          (l) => l.endsWith(one),
        );
        expect(completed.line).toBe(`$ latchkey auth token nanogpt --account ${one}`);

        // No provider chosen: every label.
        const all = await sh.tab('latchkey auth token --account ', list, listed(['ci', 'work', ...labels]));
        expect(all.listed.filter((w) => /^(ci|work|sk-nano-\.\.\.\w{4})$/.test(w)).sort()).toEqual(
          ['ci', 'work', ...labels].sort(),
        );

        // Signed in to another account: the next <TAB> offers it, no cache to refresh.
        const key = nanoterm.createKey({ name: 'later' }).key;
        expectExit(
          await cli.run(
            ['auth', 'login', 'nanoterm', '--with-token', '--name', 'later', '--base-url', nanoterm.url],
            {
              input: `${key}\n`,
              timeoutMs: RUN_TIMEOUT_MS,
            },
          ),
          0,
        );
        const after = await sh.tab(
          'latchkey auth token nanoterm --account ',
          list,
          listed(['ci', 'later', 'work']),
        );
        expect(words(after.listed)).toEqual(['ci', 'later', 'work']);
        // No secret is in the completion scripts.
        for (const file of ['bash/latchkey.bash', 'zsh/_latchkey']) {
          const text = await readFile(
            join(cli.homeDir, '.cache/latchkey/autocomplete/functions', file),
            'utf8',
          );
          for (const secret of [...gptKeys, key]) expect(text).not.toContain(secret);
        }
      } finally {
        await nanogpt.close();
        await nanoterm.close();
      }
    });
  }

  it('bash: --provider=<value> in one word, and a provider from a plugin linked later', async () => {
    const cli = await session();
    const sh = await shellFor(cli, 'bash');
    expect(
      (await sh.tab('latchkey auth login --provider=nanot', 1, (l) => l.endsWith('nanoterm'))).line,
    ).toBe('$ latchkey auth login --provider=nanoterm');
    expect((await sh.tab('latchkey exec -p nanot', 1, (l) => l.endsWith('nanoterm'))).line).toBe(
      '$ latchkey exec -p nanoterm',
    );
    const acme = join(import.meta.dirname, '../../../../examples/acme');
    expectExit(await cli.run(['plugins', 'link', acme, '--no-install'], { timeoutMs: RUN_TIMEOUT_MS }), 0);
    expect((await sh.tab('latchkey auth login ac', 1, (l) => l.endsWith('acme'))).line).toBe(
      '$ latchkey auth login acme',
    );
  });
});
describe('latchkey __complete (what the scripts ask at every <TAB>)', () => {
  it('answers without oclif, from the bundle alone, with the index read at that moment', async () => {
    const emulator = await startNanoTermEmulator();
    try {
      const cli = await session();
      const key = emulator.createKey({ name: 'work' }).key;
      const login = await cli.run(
        ['auth', 'login', 'nanoterm', '--with-token', '--name', 'work', '--base-url', emulator.url],
        { input: `${key}\n`, timeoutMs: RUN_TIMEOUT_MS },
      );
      expectExit(login, 0);
      const recorder = await moduleRecorder(cli.homeDir);
      const run = spawnSync(
        process.execPath,
        [
          ...recorder.importArgs,
          defaultCliBin(),
          '__complete',
          '--',
          'auth',
          'token',
          '-p',
          'nanoterm',
          '--account',
          '',
        ],
        {
          env: {
            PATH: process.env.PATH,
            HOME: cli.homeDir,
            XDG_CACHE_HOME: join(cli.homeDir, '.cache'),
            XDG_DATA_HOME: join(cli.homeDir, '.local', 'share'),
            XDG_CONFIG_HOME: join(cli.homeDir, '.config'),
            LATCHKEY_CONFIG_DIR: cli.configDir,
            LATCHKEY_STORAGE: 'file',
          },
          encoding: 'utf8',
          timeout: RUN_TIMEOUT_MS,
        },
      );
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toBe(':words\nwork\n');
      expect(run.stderr).toBe('');
      expectFastPath(await recorder.modules(), 'fast-complete.cjs');
      // The full CLI's hidden command gives the same answer (it answers when a plugin cannot be read plainly).
      const full = await cli.run(['__complete', 'auth', 'token', '-p', 'nanoterm', '--account', '']);
      expectExit(full, 0);
      expect(full.stdout).toBe(':words\nwork\n');
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
