import { describe, expect, it } from 'vitest';
import type { Provider } from '@latchkey/plugin-kit';
import { chooseFlow } from './credential-input.js';

const both = {
  id: 'corp',
  title: 'Corp',
  methods: ['browser', 'device', 'token'],
  login: async () => ({ token: 't', identity: { account: 'a' } }),
  browserLogin: async () => ({ token: 't', identity: { account: 'a' } }),
} as Pick<Provider, 'id' | 'title' | 'methods' | 'login' | 'browserLogin'>;

const here = (env: NodeJS.ProcessEnv, platform: NodeJS.Platform = 'linux', interactive = true) => ({
  env,
  platform,
  interactive,
});

describe('chooseFlow: which sign-in auth login runs', () => {
  it('without --web or --device: the browser where one can be opened here, else the device flow', () => {
    expect(chooseFlow(here({ DISPLAY: ':0' }), both, {})).toBe('browser');
    expect(chooseFlow(here({ WAYLAND_DISPLAY: 'wayland-0' }), both, {})).toBe('browser');
    expect(chooseFlow(here({}, 'darwin'), both, {})).toBe('browser');
    expect(chooseFlow(here({}, 'win32'), both, {})).toBe('browser');
    // No display, an SSH session (even with X forwarding), CI, no terminal, --no-browser: device.
    expect(chooseFlow(here({}), both, {})).toBe('device');
    expect(chooseFlow(here({ DISPLAY: 'localhost:10.0', SSH_CONNECTION: '1 2 3 4' }), both, {})).toBe(
      'device',
    );
    expect(chooseFlow(here({ SSH_TTY: '/dev/pts/1' }, 'darwin'), both, {})).toBe('device');
    expect(chooseFlow(here({ DISPLAY: ':0', CI: 'true' }), both, {})).toBe('device');
    expect(chooseFlow(here({ DISPLAY: ':0' }, 'linux', false), both, {})).toBe('device');
    expect(chooseFlow(here({ DISPLAY: ':0' }), both, { browser: false })).toBe('device');
    expect(chooseFlow(here({ DISPLAY: ':0', BROWSER: 'none' }), both, {})).toBe('device');
  });

  it('--web and --device choose, whatever the machine; a flow the provider lacks is a usage error', () => {
    expect(chooseFlow(here({}), both, { flow: 'web' })).toBe('browser');
    expect(chooseFlow(here({ DISPLAY: ':0' }), both, { flow: 'device' })).toBe('device');
    const deviceOnly = {
      ...both,
      methods: ['device', 'token'] as Provider['methods'],
      browserLogin: undefined,
    };
    expect(() => chooseFlow(here({}), deviceOnly, { flow: 'web' })).toThrow(/Corp has no browser sign-in/);
    expect(chooseFlow(here({ DISPLAY: ':0' }), deviceOnly, {})).toBe('device');
    const webOnly = { ...both, methods: ['browser', 'token'] as Provider['methods'], login: undefined };
    expect(() => chooseFlow(here({}), webOnly, { flow: 'device' })).toThrow(/Corp has no device flow/);
    expect(chooseFlow(here({}), webOnly, {})).toBe('browser');
  });

  it('a provider that lists token first prompts for a token unless a flow is asked for', () => {
    const tokenFirst = { ...both, methods: ['token', 'browser'] as Provider['methods'] };
    expect(chooseFlow(here({ DISPLAY: ':0' }), tokenFirst, {})).toBeUndefined();
    expect(chooseFlow(here({}), tokenFirst, { flow: 'web' })).toBe('browser');
  });
});
