/** Colour on the human streams: only where a person sees it, as NO_COLOR and FORCE_COLOR say. */
import { describe, expect, it } from 'vitest';
import { fakeHost } from '../testing/fake-host.js';
import { colours, colourWanted, paintMarks } from './colour.js';

describe('colourWanted', () => {
  it.each([
    ['a terminal', {}, true, true],
    ['a pipe', {}, false, false],
    ['NO_COLOR in a terminal', { NO_COLOR: '1' }, true, false],
    ['NO_COLOR beats FORCE_COLOR', { NO_COLOR: '1', FORCE_COLOR: '1' }, true, false],
    ['FORCE_COLOR on a pipe', { FORCE_COLOR: '1' }, false, true],
    ['FORCE_COLOR=0 in a terminal', { FORCE_COLOR: '0' }, true, false],
    ['TERM=dumb', { TERM: 'dumb' }, true, false],
    ['an empty NO_COLOR is unset', { NO_COLOR: '' }, true, true],
  ])('%s', (_name, env, isTTY, wanted) => {
    expect(colourWanted(env, isTTY)).toBe(wanted);
  });
});

describe('paintMarks', () => {
  const on = colours(true);
  it('colours the leading mark only: ✓ green, ! and ? yellow, ✗ red', () => {
    expect(paintMarks('✓ Logged in to Acme as ada', on)).toBe('\x1b[32m✓\x1b[39m Logged in to Acme as ada');
    expect(paintMarks('! Careful: a ✓ inside', on)).toBe('\x1b[33m!\x1b[39m Careful: a ✓ inside');
    expect(paintMarks('Acme (acme)\n  ✗ ada: rejected\n  ? bob: could not be checked\n', on)).toBe(
      'Acme (acme)\n  \x1b[31m✗\x1b[39m ada: rejected\n  \x1b[33m?\x1b[39m bob: could not be checked\n',
    );
  });
  it('colour off: the bytes are unchanged', () => {
    expect(paintMarks('✓ done\n! careful', colours(false))).toBe('✓ done\n! careful');
  });
});

describe('the runtime output boundary', () => {
  it('in a terminal: marks coloured on stderr; server text cannot add its own sequences', async () => {
    const h = await fakeHost({ interactive: true, env: { FORCE_COLOR: '1' } });
    try {
      h.runtime.say('✓ Logged in\x1b[31m as ada');
      h.runtime.warn('careful');
      expect(h.stderr()).toBe('\x1b[32m✓\x1b[39m Logged in as ada\n\x1b[33m!\x1b[39m careful\n');
    } finally {
      await h.dispose();
    }
  });
  it('colour turned off after start-up (as `--json` does): plain bytes from then on', async () => {
    const h = await fakeHost({ interactive: true, env: { FORCE_COLOR: '1' } });
    try {
      h.runtime.colours = { stdout: colours(false), stderr: colours(false) };
      h.runtime.say('✓ Logged in');
      h.runtime.warn('careful');
      expect(h.stderr()).toBe('✓ Logged in\n! careful\n');
    } finally {
      await h.dispose();
    }
  });

  it('NO_COLOR, or a pipe: plain bytes', async () => {
    const h = await fakeHost({ interactive: true });
    try {
      h.runtime.say('✓ Logged in');
      h.runtime.out('  ✓ ada: valid\n');
      expect(h.stderr()).toBe('✓ Logged in\n');
      expect(h.stdout()).toBe('  ✓ ada: valid\n');
    } finally {
      await h.dispose();
    }
  });
});
