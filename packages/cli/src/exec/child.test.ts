import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runChild, terminalSentIt } from './child.js';
import { CONCEALED } from './mask.js';
import { parseEnvAssignment } from './environment.js';
import { parseExecArgs } from '../fast/fast-exec.js';

function sink(): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _e, done) {
      chunks.push(chunk);
      done();
    },
  });
  return Object.assign(stream, { text: () => Buffer.concat(chunks).toString() });
}

function sh(
  script: string,
  options: { mask?: string[]; signals?: EventEmitter; fromTerminal?: () => boolean } = {},
) {
  const stdout = sink();
  const stderr = sink();
  const signals = options.signals ?? new EventEmitter();
  const done = runChild({
    command: 'sh',
    args: ['-c', script],
    env: { ...process.env, SECRET: 'tok-abcdef123456' },
    mask: options.mask,
    stdout,
    stderr,
    signals: signals as never,
    ...(options.fromTerminal && { fromTerminal: options.fromTerminal }),
  });
  return { done, stdout, stderr, signals };
}

describe('runChild', () => {
  it("returns the child's exit code and masks both streams", async () => {
    const run = sh('echo "out $SECRET"; echo "err $SECRET" >&2; exit 3', { mask: ['tok-abcdef123456'] });
    expect(await run.done).toEqual({ kind: 'exited', exitCode: 3 });
    expect(run.stdout.text()).toBe(`out ${CONCEALED}\n`);
    expect(run.stderr.text()).toBe(`err ${CONCEALED}\n`);
  });

  it('128+N when signal N ended the child', async () => {
    expect(await sh('kill -TERM $$').done).toEqual({ kind: 'exited', exitCode: 143 });
    expect(await sh('kill -INT $$').done).toEqual({ kind: 'exited', exitCode: 130 });
  });

  it('forwards a signal that reaches latchkey, and stops listening when the child ends', async () => {
    const run = sh('trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.05; done', {
      mask: [],
    });
    const ready = async () => {
      for (let i = 0; i < 400 && !run.stdout.text().includes('ready'); i++)
        await new Promise((r) => setTimeout(r, 10));
    };
    await ready();
    run.signals.emit('SIGTERM', 'SIGTERM');
    expect(await run.done).toEqual({ kind: 'exited', exitCode: 7 });
    expect(run.stdout.text()).toBe('ready\ngot TERM\n');
    expect(run.signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('SIGINT and SIGQUIT the terminal sent the whole group are not passed on again; SIGTERM is', async () => {
    const run = sh(
      'trap "echo got INT" INT; trap "echo got QUIT" QUIT; trap "echo got TERM; exit 9" TERM; echo ready; while :; do sleep 0.05; done',
      { mask: [], fromTerminal: () => true },
    );
    for (let i = 0; i < 400 && !run.stdout.text().includes('ready'); i++)
      await new Promise((r) => setTimeout(r, 10));
    run.signals.emit('SIGINT', 'SIGINT');
    run.signals.emit('SIGQUIT', 'SIGQUIT');
    run.signals.emit('SIGTERM', 'SIGTERM');
    expect(await run.done).toEqual({ kind: 'exited', exitCode: 9 });
    expect(run.stdout.text()).toBe('ready\ngot TERM\n');
  });

  it('SIGINT and SIGQUIT sent to latchkey alone are passed on', async () => {
    const run = sh(
      'trap "echo got QUIT" QUIT; trap "echo got INT; exit 5" INT; echo ready; while :; do sleep 0.05; done',
      {
        mask: [],
        fromTerminal: () => false,
      },
    );
    for (let i = 0; i < 400 && !run.stdout.text().includes('ready'); i++)
      await new Promise((r) => setTimeout(r, 10));
    run.signals.emit('SIGQUIT', 'SIGQUIT');
    for (let i = 0; i < 400 && !run.stdout.text().includes('QUIT'); i++)
      await new Promise((r) => setTimeout(r, 10));
    run.signals.emit('SIGINT', 'SIGINT');
    expect(await run.done).toEqual({ kind: 'exited', exitCode: 5 });
    expect(run.stdout.text()).toBe('ready\ngot QUIT\ngot INT\n');
  });

  it('a reader that is gone (EPIPE) ends the child with SIGPIPE, as a pipe would: 141, no reset error', async () => {
    const stderr = sink();
    let writes = 0;
    // latchkey's stdout after `| head -2` has read its lines and exited.
    const stdout = new Writable({
      write(_chunk, _e, done) {
        writes += 1;
        done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const outcome = await runChild({
      command: 'yes',
      args: [],
      env: process.env,
      mask: ['tok-abcdef123456'],
      stdout,
      stderr,
      signals: new EventEmitter() as never,
    });
    expect(outcome).toEqual({ kind: 'exited', exitCode: 141 });
    expect(writes).toBe(1);
    // Not "yes: standard output: Connection reset by peer" (the socket's reset, before the fix).
    expect(stderr.text()).toBe('');
  });

  it('a missing command is 127; a directory is 126', async () => {
    const io = {
      args: [],
      env: process.env,
      stdout: sink(),
      stderr: sink(),
      signals: new EventEmitter() as never,
    };
    expect(await runChild({ ...io, command: 'latchkey-no-such-command' })).toEqual({
      kind: 'not-found',
      exitCode: 127,
    });
    expect(await runChild({ ...io, command: '/' })).toMatchObject({ exitCode: 126 });
  });
});

describe('terminalSentIt: did the terminal send this SIGINT to the whole group?', () => {
  // /proc/<pid>/stat: pid (comm) state ppid pgrp session tty_nr tpgid ...
  const stat = (pgrp: number, tpgid: number) => `41 (a (weird) name) S 1 ${pgrp} 1 34816 ${tpgid} 0`;
  const proc =
    (own: string, child?: string) =>
    (path: string): string => {
      if (path === '/proc/self/stat') return own;
      if (path === '/proc/42/stat' && child !== undefined) return child;
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    };
  const noTty = () => false;

  it('yes when latchkey is in the foreground group of its terminal and the child is in that group', () => {
    expect(terminalSentIt(42, proc(stat(100, 100), stat(100, 100)), noTty)).toBe(true);
  });

  it('no in a background job, without a controlling terminal, or for a child in a group of its own', () => {
    expect(terminalSentIt(42, proc(stat(100, 200), stat(100, 200)), noTty)).toBe(false);
    expect(terminalSentIt(42, proc(stat(100, -1), stat(100, -1)), () => true)).toBe(false);
    expect(terminalSentIt(42, proc(stat(100, 100), stat(42, 100)), noTty)).toBe(false);
    expect(terminalSentIt(42, proc('garbage'), noTty)).toBe(false);
  });

  it('a child that is gone: nothing to pass on, so yes', () => {
    expect(terminalSentIt(42, proc(stat(100, 100)), noTty)).toBe(true);
  });

  it('without /proc, a terminal on stdin or stderr means yes', () => {
    const noProc = (): string => {
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    };
    expect(terminalSentIt(42, noProc, (fd) => fd === 2)).toBe(true);
    expect(terminalSentIt(42, noProc, (fd) => fd === 0)).toBe(true);
    expect(terminalSentIt(42, noProc, noTty)).toBe(false);
  });
});

describe('exec arguments', () => {
  it('parses the plain forms and hands over everything else', () => {
    expect(
      parseExecArgs([
        '-p',
        'a',
        '--provider',
        'b',
        '--env',
        'X=latchkey://a',
        '--no-masking',
        '--',
        'cmd',
        '--provider',
        'x',
      ]),
    ).toEqual({
      providers: ['a', 'b'],
      account: undefined,
      env: ['X=latchkey://a'],
      masking: false,
      command: 'cmd',
      args: ['--provider', 'x'],
    });
    expect(parseExecArgs(['--provider', 'a', 'cmd'])).toBeUndefined(); // no --
    expect(parseExecArgs(['--provider', 'a', '--'])).toBeUndefined(); // no command
    expect(parseExecArgs(['--help', '--', 'cmd'])).toBeUndefined();
    expect(parseExecArgs(['--provider', '', '--', 'cmd'])).toBeUndefined();
  });

  it('--env needs NAME=latchkey://...; a raw value is never repeated back', () => {
    expect(parseEnvAssignment('OPENAI_API_KEY=latchkey://nanogpt#base-url')).toEqual({
      name: 'OPENAI_API_KEY',
      ref: 'latchkey://nanogpt#base-url',
    });
    for (const bad of ['NOEQUALS', '1X=latchkey://a', '=latchkey://a']) {
      expect(() => parseEnvAssignment(bad)).toThrow(expect.objectContaining({ exitCode: 2 }));
    }
    try {
      parseEnvAssignment('K=sk-nano-rawsecret');
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('rawsecret');
      expect(error).toMatchObject({ exitCode: 2 });
    }
  });
});
