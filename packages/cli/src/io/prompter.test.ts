import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { rejection } from '../testing/fake-host.js';
import { inquirerPrompter } from './prompter.js';

describe('inquirerPrompter', () => {
  it('Ctrl-C (the command signal aborted) at a prompt is CANCELLED, exit 130, for both kinds', async () => {
    const prompter = inquirerPrompter(new PassThrough(), AbortSignal.abort());
    for (const asked of [
      prompter.password('Token:'),
      prompter.select('Which?', [{ name: 'A', value: 'a' }]),
    ]) {
      expect(await rejection(asked)).toMatchObject({ code: 'CANCELLED', exitCode: 130 });
    }
  });
});
