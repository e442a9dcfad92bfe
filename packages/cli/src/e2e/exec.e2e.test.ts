/**
 * `latchkey exec` through the built binary: a NanoGPT key stored for real (validated by the emulator on
 * 127.0.0.1, which is then closed: exec makes no network call), then children that print it, in one write
 * or one byte at a time (masked), exit codes and signals passed through, a real terminal with
 * `--no-masking` (tmux), `ps` while a child sleeps, a missing command, and references that cannot be
 * resolved (COMMAND never starts).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startNanoGptEmulator } from '@latchkey/testkit';
import {
  RUN_TIMEOUT_MS,
  expectFastPath,
  expectSecretNotOnDisk,
  moduleRecorder,
  hasTmux,
  tmuxPerTest,
} from './harness.js';

const bin = resolve(import.meta.dirname, '../../bin/run.cjs');
const node = process.execPath;
const concealed = '<concealed by latchkey>';
const key = `sk-nano-${randomUUID()}`;
const secondKey = `sk-nano-${randomUUID()}`;
let dir: string;
let env: NodeJS.ProcessEnv;
const outputs: string[] = [];

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function latchkey(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Ran {
  const r = spawnSync(node, [bin, ...args], {
    env: options.env ?? env,
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: RUN_TIMEOUT_MS,
  });
  outputs.push(r.stdout, r.stderr);
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function latchkeyAsync(args: string[], input: string): Promise<number | null> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(node, [bin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`latchkey ${args.join(' ')} did not end in ${RUN_TIMEOUT_MS / 1000} s: ${output}`));
    }, RUN_TIMEOUT_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      outputs.push(output);
      resolvePromise(code);
    });
    child.stdin.end(input);
  });
}

/** A Python child that counts the SIGINTs it gets over 1.5 s after the first, then exits 42. */
const countsInterrupts = `
import signal, sys, time
count = 0
def on_int(number, frame):
    global count
    count += 1
    print('INT', count, flush=True)
signal.signal(signal.SIGINT, on_int)
print('ready', flush=True)
for _ in range(600):
    if count:
        break
    time.sleep(0.05)
time.sleep(1.5)
print('done', count, flush=True)
sys.exit(42)
`;

/** A Python child whose Ctrl-C clean-up takes 1.5 s; a second SIGINT meanwhile would cut it short. */
const cleansUpSlowly = `
import sys, time
print('ready', flush=True)
try:
    time.sleep(60)
except KeyboardInterrupt:
    time.sleep(1.5)
    print('cleaned up', flush=True)
    sys.exit(42)
`;

/** A node child script, run through `latchkey exec`. */
const script = (code: string) => ['--', node, '-e', code];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-exec-'));
  env = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(LATCHKEY_|NANOGPT_|NANOTERM_|KANEO_)/.test(name)) delete env[name];
  delete env.CI;
  // A home of its own: the interactive bash of the Ctrl-C tests writes ~/.bash_history when it exits.
  await mkdir(join(dir, 'home'));
  Object.assign(env, {
    HOME: join(dir, 'home'),
    LATCHKEY_CONFIG_DIR: join(dir, 'config'),
    LATCHKEY_CACHE_DIR: join(dir, 'cache'),
    LATCHKEY_DATA_DIR: join(dir, 'data'),
    LATCHKEY_STORAGE: 'file',
  });
  const emulator = await startNanoGptEmulator({ keys: [key, secondKey], rateLimits: false });
  try {
    const login = ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url];
    // Asynchronously: the emulator answers from this process.
    expect(await latchkeyAsync(login, `${key}\n`)).toBe(0);
    expect(await latchkeyAsync([...login, '--name', 'second'], `${secondKey}\n`)).toBe(0);
  } finally {
    await emulator.close();
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('latchkey exec: the environment, masked output', () => {
  it("sets the provider's variables for a child that prints its environment; the output is masked", () => {
    const r = latchkey([
      'exec',
      '--provider',
      'nanogpt',
      '--env',
      'OPENAI_API_KEY=latchkey://nanogpt/second',
      '--env',
      'OPENAI_BASE_URL=latchkey://nanogpt#base-url',
      ...script(
        `const e = process.env; console.log(JSON.stringify({ n: e.NANOGPT_API_KEY, o: e.OPENAI_API_KEY, u: e.OPENAI_BASE_URL, same: e.NANOGPT_API_KEY === ${JSON.stringify(key)}, second: e.OPENAI_API_KEY === ${JSON.stringify(secondKey)} })); console.error('err ' + e.NANOGPT_API_KEY);`,
      ),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const shown = JSON.parse(r.stdout) as Record<string, unknown>;
    // The child had the real values (it compared them itself); what reached us is concealed.
    expect(shown).toMatchObject({ n: concealed, o: concealed, same: true, second: true });
    expect(shown.u).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/); // a base URL is no secret
    expect(r.stderr).toBe(`err ${concealed}\n`);
  });

  it('resolves an inherited variable whose value is a reference (like op run)', () => {
    const r = latchkey(['exec', ...script(`console.log(process.env.MY_KEY.length, process.env.MY_KEY)`)], {
      env: { ...env, MY_KEY: 'latchkey://nanogpt' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${key.length} ${concealed}\n`);
  });

  it('masks a secret the child writes one byte at a time', () => {
    const r = latchkey([
      'exec',
      '--provider',
      'nanogpt',
      ...script(
        `const fs = require('node:fs'); for (const c of 'key=' + process.env.NANOGPT_API_KEY + ';end\\n') fs.writeSync(1, c);`,
      ),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`key=${concealed};end\n`);
  });

  it('--no-masking passes the output through untouched', () => {
    const r = latchkey([
      'exec',
      '--provider',
      'nanogpt',
      '--no-masking',
      ...script('console.log(process.env.NANOGPT_API_KEY)'),
    ]);
    outputs.pop(); // this run prints the key on purpose
    outputs.pop();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${key}\n`);
  });
});

describe('latchkey exec: exit codes and signals', () => {
  it.each([
    ['exit 0', 0],
    ['exit 3', 3],
    ['kill -INT $$', 130],
    ['kill -TERM $$', 143],
  ])('`sh -c "%s"` ends latchkey with %i', (code, expected) => {
    const r = latchkey(['exec', '--provider', 'nanogpt', '--', 'sh', '-c', code]);
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(expected);
  });

  it('forwards SIGTERM to a child that traps it; the exit code is the one the child chose', async () => {
    const child = spawn(
      node,
      [
        bin,
        'exec',
        '--provider',
        'nanogpt',
        ...script(
          `process.on('SIGTERM', () => { console.log('child got SIGTERM'); process.exit(7); }); console.log('ready'); setTimeout(() => {}, 20000);`,
        ),
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const { stdout, code } = await untilReadyThen(child, () => child.kill('SIGTERM'));
    expect(stdout).toBe('ready\nchild got SIGTERM\n');
    expect(code).toBe(7);
  });

  it('forwards `kill -INT <latchkey pid>` to the child once when there is no terminal', async () => {
    const child = spawn(
      node,
      [bin, 'exec', '--provider', 'nanogpt', '--', 'python3', '-c', countsInterrupts],
      // A session of its own: no controlling terminal, whatever terminal runs the tests.
      { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    const { stdout, code } = await untilReadyThen(child, () => child.kill('SIGINT'));
    expect(stdout).toBe('ready\nINT 1\ndone 1\n');
    expect(code).toBe(42);
  });

  it('no secret on any command line: ps sampled while the child sleeps', async () => {
    const child = spawn(
      node,
      [bin, 'exec', '--provider', 'nanogpt', ...script(`console.log('ready'); setTimeout(() => {}, 20000);`)],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let table = '';
    const { code } = await untilReadyThen(child, () => {
      table = execFileSync('ps', ['-eww', '-o', 'pid=,args='], { encoding: 'utf8' });
      child.kill('SIGTERM');
    });
    expect(table).toContain('setTimeout'); // the child was there
    expect(table).not.toContain(key);
    expect(table).not.toContain(key.slice('sk-nano-'.length));
    expect(code).toBe(143);
  });

  it.each([[[]], [['--no-masking']]])(
    '`exec %j -- yes | head -2` in bash: the child dies of SIGPIPE, latchkey exits 141 as a shell would',
    (flags) => {
      const quoted = [node, bin, 'exec', '--provider', 'nanogpt', ...flags, '--', 'yes']
        .map((word) => `'${word}'`)
        .join(' ');
      const r = spawnSync('bash', ['-c', `${quoted} | head -2; echo "status \${PIPESTATUS[*]}"`], {
        env,
        input: '',
        encoding: 'utf8',
        timeout: RUN_TIMEOUT_MS,
      });
      expect(r.status, r.stderr).toBe(0);
      // head got its two lines; latchkey left with 128+13 (the child's SIGPIPE), head with 0.
      expect(r.stdout).toBe('y\ny\nstatus 141 0\n');
      // Not "yes: standard output: Connection reset by peer" (or "Broken pipe"): the child was not told by
      // an error, it was ended by the signal, as in `yes | head -2`.
      expect(r.stderr).toBe('');
    },
  );

  it('a missing command is exit 127 with a clear message', () => {
    const r = latchkey(['exec', '--provider', 'nanogpt', '--', 'latchkey-no-such-command']);
    expect(r.code).toBe(127);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^latchkey: latchkey-no-such-command not found\n/);
  });
});

describe('latchkey exec: references that cannot be resolved', () => {
  it('exits 4 before the child starts, naming the variable and never a value', async () => {
    const marker = join(dir, 'started');
    const r = latchkey([
      'exec',
      '--provider',
      'nanoterm',
      ...script(`require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x')`),
    ]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('NANOTERM_API_KEY');
    expect(existsSync(marker)).toBe(false);
    const account = latchkey(['exec', '--env', 'K=latchkey://nanogpt/nobody', ...script('0')]);
    expect(account.code).toBe(4);
    expect(account.stderr).toMatch(/^latchkey: K /);
  });

  it('a malformed reference exits 2', () => {
    const r = latchkey(['exec', '--env', 'K=latchkey://nanogpt#password', ...script('0')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^latchkey: K /);
  });
});

describe('latchkey exec: the fast path', () => {
  it('runs without oclif, plugin code, the plugin-kit index or an HTTP client', async () => {
    latchkey(['exec', '--provider', 'nanogpt', ...script('0')]); // the cache is fresh after any run
    const recorder = await moduleRecorder(dir);
    const r = spawnSync(
      node,
      [...recorder.importArgs, bin, 'exec', '--provider', 'nanogpt', ...script('console.log(1)')],
      { env, encoding: 'utf8', timeout: RUN_TIMEOUT_MS },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('1\n');
    expectFastPath(await recorder.modules(), 'fast-exec.cjs');
  });
});

describe('latchkey exec: the full CLI', () => {
  it('hands COMMAND the environment it was given: no setting latchkey made for oclif (OCLIF_DISABLE_ENGINE_WARNING)', async () => {
    // A plugin list over the fast path's 1 MiB limit (oclif reads it: no plugins): exec --env goes to oclif.
    const data = join(dir, 'data-large');
    await mkdir(data, { recursive: true });
    await writeFile(
      join(data, 'package.json'),
      JSON.stringify({ name: 'x', padding: 'x'.repeat(1_100_000) }),
    );
    const recorder = await moduleRecorder(dir);
    const printEnv = `console.log(JSON.stringify(Object.keys(process.env).filter((k) => k.startsWith('OCLIF')).concat(process.env.K ? 'K' : [])))`;
    const run = (extra: NodeJS.ProcessEnv) =>
      spawnSync(
        node,
        [...recorder.importArgs, bin, 'exec', '--env', 'K=latchkey://nanogpt', ...script(printEnv)],
        { env: { ...env, LATCHKEY_DATA_DIR: data, ...extra }, encoding: 'utf8', timeout: RUN_TIMEOUT_MS },
      );
    const r = run({});
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('["K"]\n');
    expect(
      (await recorder.modules()).some((url) => /@oclif[/+]core/.test(url)),
      'ran through oclif',
    ).toBe(true);
    // One the user set is passed on as it was.
    const given = run({ OCLIF_DISABLE_ENGINE_WARNING: 'false' });
    expect(given.status, given.stderr).toBe(0);
    expect(given.stdout).toBe('["OCLIF_DISABLE_ENGINE_WARNING","K"]\n');
  });
});

const inCi = Boolean(process.env.CI && process.env.CI !== 'false');
const { tmux, next: nextTmuxServer } = tmuxPerTest('exec');

describe.runIf(hasTmux || inCi)('latchkey exec in a real terminal (tmux)', () => {
  afterEach(async () => {
    await nextTmuxServer();
  });

  it('--no-masking gives the child the terminal; masking gives it pipes', async () => {
    const probe = `console.log('TTY', Boolean(process.stdin.isTTY), Boolean(process.stdout.isTTY), Boolean(process.stderr.isTTY))`;
    const file = join(dir, 'tty.sh');
    const exports = Object.entries(env)
      .filter(([k]) => /^(LATCHKEY_|PATH$|HOME$)/.test(k))
      .map(([k, v]) => `export ${k}='${v}'`)
      .join('\n');
    const run = (flag: string) =>
      `'${node}' '${bin}' exec --provider nanogpt ${flag} -- '${node}' -e "${probe}"`;
    await writeFile(
      file,
      `#!/bin/sh\nunset CI\n${exports}\n${run('--no-masking')}\n${run('')}\necho "EXIT=$?"\nsleep 30\n`,
    );
    await chmod(file, 0o755);
    tmux('new-session', '-d', '-s', 'exec', '-x', '160', '-y', '20', file);
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    let screen = '';
    while (!screen.includes('EXIT=')) {
      if (Date.now() > deadline) throw new Error(`timed out; the screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
      screen = tmux('capture-pane', '-p', '-t', 'exec');
    }
    const lines = screen.split('\n').filter((l) => l.startsWith('TTY'));
    expect(lines).toEqual(['TTY true true true', 'TTY true false false']);
    expect(screen).toContain('EXIT=0');
  });

  it.each([
    ['masked', ''],
    ['--no-masking', '--no-masking'],
  ])(
    "one Ctrl-C (%s): the child's clean-up runs once, uninterrupted, and its exit code is latchkey's",
    async (_name, flag) => {
      const child = join(dir, 'cleanup.py');
      await writeFile(child, cleansUpSlowly);
      const shell = join(dir, 'shell.sh');
      const exports = Object.entries(env)
        .filter(([k]) => /^(LATCHKEY_|PATH$|HOME$)/.test(k))
        .map(([k, v]) => `export ${k}='${v}'`)
        .join('\n');
      // An interactive shell with job control, as a person has: latchkey runs as its foreground job.
      await writeFile(
        shell,
        `#!/bin/sh\nunset CI\n${exports}\nexport PS1='$ '\nexec bash --norc --noprofile -i\n`,
      );
      await chmod(shell, 0o755);
      tmux('new-session', '-d', '-s', 'ctrlc', '-x', '160', '-y', '30', shell);
      tmux(
        'send-keys',
        '-t',
        'ctrlc',
        `'${node}' '${bin}' exec --provider nanogpt ${flag} -- python3 '${child}'; echo "EXIT=$?"`,
        'Enter',
      );
      const screenWith = async (text: string) => {
        const deadline = Date.now() + RUN_TIMEOUT_MS;
        let screen = '';
        while (!screen.split('\n').some((line) => line.startsWith(text))) {
          if (Date.now() > deadline) throw new Error(`no ${text} in time; the screen:\n${screen}`);
          await new Promise((r) => setTimeout(r, 100));
          screen = tmux('capture-pane', '-p', '-t', 'ctrlc');
        }
        return screen;
      };
      await screenWith('ready');
      tmux('send-keys', '-t', 'ctrlc', 'C-c');
      const screen = await screenWith('EXIT=');
      const lines = screen.split('\n');
      // The terminal may echo ^C before the child's line.
      const cleanups = lines.filter((line) => line.includes('cleaned up'));
      expect(
        cleanups.map((line) => line.replace(/^\^C/, '')),
        screen,
      ).toEqual(['cleaned up']);
      expect(screen).not.toContain('Traceback');
      expect(lines.filter((line) => line.startsWith('EXIT='))).toEqual(['EXIT=42']);
    },
  );
});

describe('latchkey exec: nothing leaked', () => {
  it('no run printed a key (except --no-masking, on purpose), and no file holds one in the clear', async () => {
    for (const text of outputs) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(secondKey);
    }
    await expectSecretNotOnDisk(dir, key);
    await expectSecretNotOnDisk(dir, secondKey);
  });
});

/** Waits (bounded) for the child's `ready` line, runs `then`, and resolves with its output and exit. */
function untilReadyThen(
  child: ChildProcess,
  then: () => void,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    let fired = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no 'ready' in ${RUN_TIMEOUT_MS / 1000} s; stderr: ${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (!fired && stdout.includes('ready\n')) {
        fired = true;
        then();
      }
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      outputs.push(stdout, stderr);
      resolvePromise({ stdout, stderr, code });
    });
  });
}
