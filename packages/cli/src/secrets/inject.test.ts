/**
 * `latchkey inject` with fakes: the template engine (which `{{ }}` are references, where they are, what
 * replaces them), reading a bounded template, and the whole run against a real store on a temp dir (stdout,
 * a 0600 file, --force, and nothing written when a reference cannot be resolved). No provider code runs.
 */
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { timeBound } from '@latchkey/conformance/tools';
import { fakeHosts, fakeProvider, rejection } from '../testing/fake-host.js';
import {
  findReferences,
  maxTemplateBytes,
  readTemplateFile,
  readTemplateStream,
  renderTemplate,
  runInject,
} from './inject.js';

describe('findReferences and renderTemplate', () => {
  it.each([
    ['{{ latchkey://acme }}', ['latchkey://acme']],
    ['{{latchkey://acme}}', ['latchkey://acme']],
    ['{{\tlatchkey://acme/ada%40x.io#base-url   }}', ['latchkey://acme/ada%40x.io#base-url']],
    ['a={{latchkey://acme}} b={{ latchkey://beta#token }}\n', ['latchkey://acme', 'latchkey://beta#token']],
    ['{{ name }} and {{ other://x }} and { latchkey://acme } are left alone', []],
    ['no references at all', []],
    ['', []],
  ])('%j', (template, refs) => {
    expect(findReferences(template).map((r) => r.ref)).toEqual(refs);
  });

  it('renders values in place and keeps every other byte', () => {
    const template =
      'KEY={{ latchkey://acme }}\r\nURL={{latchkey://acme#base-url}}/v1\n{{ keep }}\n\u00e9 {{latchkey://acme}}}';
    const refs = findReferences(template);
    expect(refs.map((r) => r.line)).toEqual([1, 2, 4]);
    expect(renderTemplate(template, refs, ['T', 'https://x', 'T'])).toBe(
      'KEY=T\r\nURL=https://x/v1\n{{ keep }}\n\u00e9 T}',
    );
  });

  it.each([
    ['x\n{{ latchkey://acme', 'stdin line 2: a reference is not closed'],
    ['{{ latchkey://acme }\n}}', 'stdin line 1: a reference is not closed'],
    ['{{ latchkey://nano gpt }}', 'stdin line 1: a reference is not closed, or has a space in it'],
    [`{{ latchkey://${'a'.repeat(2000)} }}`, 'stdin line 1: a reference is not closed'],
    ['ok\n\n{{ latchkey://acme#password }}', 'stdin line 3: Malformed reference "latchkey://acme#password"'],
    ['{{ latchkey://Acme }}', 'stdin line 1: Malformed reference'],
  ])('%j is a usage error naming the line', (template, message) => {
    let error: unknown;
    try {
      findReferences(template, 'stdin');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'USAGE', exitCode: 2 });
    expect((error as Error).message.startsWith(message)).toBe(true);
  });

  it('scans a large template without references quickly (no backtracking blow-up)', () => {
    const template = '{{ latchkey://a'.repeat(1) + `${'{{ x '.repeat(100_000)}`;
    const started = performance.now();
    expect(() => findReferences(template)).toThrow('not closed');
    expect(findReferences('{{ x '.repeat(200_000))).toEqual([]);
    // Many references on many lines: line numbers counted once, not from the top for each.
    const many = findReferences('{{latchkey://acme}}\n'.repeat(50_000));
    expect(many).toHaveLength(50_000);
    expect(many.at(-1)!.line).toBe(50_000);
    expect(performance.now() - started).toBeLessThan(timeBound(2000));
  });
});

describe('reading the template', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('stdin: all of it up to the limit, then a usage error that stops reading', async () => {
    const ok = new PassThrough();
    ok.end('a'.repeat(10));
    expect(await readTemplateStream(ok, 10)).toBe('a'.repeat(10));
    const big = new PassThrough();
    big.write('a'.repeat(8));
    big.end('b'.repeat(8));
    const error = await rejection(readTemplateStream(big, 10));
    expect(error).toMatchObject({ code: 'USAGE', exitCode: 2 });
    expect(error.message).toContain('The template on standard input is larger than');
    expect(big.destroyed).toBe(true);
  });

  it('stdin that is a terminal is a usage error pointing to -i', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    const error = await rejection(readTemplateStream(tty));
    expect(error.exitCode).toBe(2);
    expect(error.action).toContain('-i FILE');
  });

  it('a file: up to the limit; past it, missing, or a directory: a usage error naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-tpl-'));
    dirs.push(dir);
    await writeFile(join(dir, 'ok'), 'x'.repeat(10));
    await writeFile(join(dir, 'big'), 'x'.repeat(11));
    expect(await readTemplateFile(join(dir, 'ok'), 10)).toBe('x'.repeat(10));
    expect((await rejection(readTemplateFile(join(dir, 'big'), 10))).message).toContain('is larger than');
    const missing = await rejection(readTemplateFile(join(dir, 'nope')));
    expect(missing).toMatchObject({ exitCode: 2 });
    expect(missing.message).toBe(
      `Cannot read the template ${JSON.stringify(join(dir, 'nope'))}: it does not exist.`,
    );
    expect((await rejection(readTemplateFile(dir))).message).toContain('it is a directory');
    expect(maxTemplateBytes).toBe(1024 * 1024);
  });
});

describe('runInject', () => {
  const start = fakeHosts();
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  async function setup() {
    const h = await start({
      providers: [
        fakeProvider({ id: 'acme', baseUrlEnvVars: ['ACME_API_URL'] }),
        fakeProvider({ id: 'beta' }),
      ],
    });
    await h.store.save({
      provider: 'acme',
      account: 'ada',
      secret: 'acme-secret-1',
      baseUrl: 'https://acme.self.example',
    });
    await h.store.save({ provider: 'beta', account: 'ci', secret: 'beta-secret-2' });
    const cwd = await mkdtemp(join(tmpdir(), 'latchkey-inject-'));
    dirs.push(cwd);
    return { h, cwd };
  }
  const stdin = (text: string) => {
    const s = new PassThrough();
    s.end(text);
    return s;
  };
  const template = 'A={{ latchkey://acme }}\nB={{latchkey://beta}}\nU={{ latchkey://acme#base-url }}/v1\n';
  const filled = 'A=acme-secret-1\nB=beta-secret-2\nU=https://acme.self.example/v1\n';

  it('stdin to stdout: the values, nothing on stderr', async () => {
    const { h, cwd } = await setup();
    await runInject(h.runtime, { force: false, cwd }, stdin(template));
    expect(h.stdout()).toBe(filled);
    expect(h.stderr()).toBe('');
  });

  it('-i to -o: a 0600 file, relative to the working directory, nothing on stdout', async () => {
    const { h, cwd } = await setup();
    await writeFile(join(cwd, 'app.env.tpl'), template);
    await runInject(h.runtime, { input: 'app.env.tpl', output: 'app.env', force: false, cwd });
    expect(await readFile(join(cwd, 'app.env'), 'utf8')).toBe(filled);
    expect((await stat(join(cwd, 'app.env'))).mode & 0o777).toBe(0o600);
    expect(h.stdout()).toBe('');
  });

  it('an existing -o file: refused (exit 2, unchanged) without --force, replaced (0600) with it', async () => {
    const { h, cwd } = await setup();
    const out = join(cwd, 'app.env');
    await writeFile(out, 'old\n', { mode: 0o644 });
    const error = await rejection(runInject(h.runtime, { output: out, force: false, cwd }, stdin(template)));
    expect(error).toMatchObject({ code: 'USAGE', exitCode: 2 });
    expect(error.message).toBe(`${JSON.stringify(out)} already exists; latchkey inject wrote nothing.`);
    expect(error.action).toContain('--force');
    expect(await readFile(out, 'utf8')).toBe('old\n');
    await runInject(h.runtime, { output: out, force: true, cwd }, stdin(template));
    expect(await readFile(out, 'utf8')).toBe(filled);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect((await readdir(cwd)).sort()).toEqual(['app.env']);
  });

  it('one reference not signed in: exit 4 naming it, nothing written, no value anywhere', async () => {
    const { h, cwd } = await setup();
    await h.store.remove('beta', 'ci');
    const error = await rejection(
      runInject(h.runtime, { output: 'app.env', force: false, cwd }, stdin(template)),
    );
    expect(error).toMatchObject({ code: 'NOT_SIGNED_IN', exitCode: 4 });
    expect(error.message).toBe('stdin line 2 ("latchkey://beta"): Not signed in to Beta.');
    expect(`${error.message}${error.action}`).not.toContain('acme-secret-1');
    expect(await readdir(cwd)).toEqual([]);
    expect(h.stdout()).toBe('');
  });

  it('an unknown provider or a malformed reference: exit 2, nothing on stdout', async () => {
    const { h, cwd } = await setup();
    const unknown = await rejection(
      runInject(h.runtime, { force: false, cwd }, stdin(`${template}{{ latchkey://nope }}`)),
    );
    expect(unknown.exitCode).toBe(2);
    expect(unknown.message).toBe('stdin line 4 ("latchkey://nope"): Unknown provider "nope".');
    await writeFile(join(cwd, 't'), '{{ latchkey://acme#pw }}');
    const bad = await rejection(runInject(h.runtime, { input: 't', force: false, cwd }));
    expect(bad.exitCode).toBe(2);
    expect(bad.message).toMatch(/^"t" line 1: Malformed reference/);
    expect(h.stdout()).toBe('');
  });

  it('many references to the same credential: one lookup each, not one per reference', async () => {
    const { h, cwd } = await setup();
    const many = '{{ latchkey://acme }} {{ latchkey://acme#base-url }}\n'.repeat(5_000);
    const started = performance.now();
    await runInject(h.runtime, { force: false, cwd }, stdin(many));
    expect(h.stdout()).toBe('acme-secret-1 https://acme.self.example\n'.repeat(5_000));
    expect(performance.now() - started).toBeLessThan(timeBound(3000));
  });

  it('a template without references passes through unchanged', async () => {
    const { h, cwd } = await setup();
    await runInject(h.runtime, { force: false, cwd }, stdin('plain {{ text }}\n'));
    expect(h.stdout()).toBe('plain {{ text }}\n');
  });
});
