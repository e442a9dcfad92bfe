/**
 * `auth login`'s flow with fakes only: every branch of the method choice, the environment credential,
 * --token and --with-token, storage and its fallback, the prompt and its retries, the provider choice.
 * Each case asserts what a user notices: the outcome, stderr, what is stored, what the provider received.
 */
import { describe, expect, it } from 'vitest';
import { fakeHosts, fakeProvider, rejection, unavailableKeychain } from '../testing/fake-host.js';
import { describeLogin, login, type LoginRequest } from './login.js';

const ada = { account: 'ada', name: 'Ada Lovelace' };

/** A token-only provider (nanoterm-like) and a device provider (nanogpt-like). */
const tokenProvider = () =>
  fakeProvider(
    { id: 'acme', title: 'Acme', tokenUrl: 'https://acme.example/keys' },
    { accounts: { 'acme-good': ada } },
  );
const deviceProvider = () =>
  fakeProvider(
    { id: 'devco', title: 'DevCo' },
    { device: { token: 'dev-issued', identity: { account: 'grace' } }, accounts: { 'dev-good': ada } },
  );
/** A provider whose environment token makes `auth login` a silent check (nanoctl-like). */
const envCheckProvider = () =>
  fakeProvider(
    { id: 'envy', title: 'Envy', envVars: ['ENVY_TOKEN'], envLogin: 'verify' },
    { accounts: { 'env-good': ada, 'stdin-good': { account: 'stdin' } } },
  );

const start = fakeHosts();

function request(overrides: Partial<LoginRequest> = {}, stdin = ''): LoginRequest {
  return { withToken: false, browser: false, readStdin: async () => stdin, ...overrides };
}

describe('auth login: how the credential is obtained', () => {
  const cases: Array<{
    name: string;
    provider: () => ReturnType<typeof fakeProvider>;
    interactive?: boolean;
    answers?: string[];
    request: Partial<LoginRequest>;
    stdin?: string;
    method: string;
    stored: boolean;
    account: string;
    sent: string[];
  }> = [
    {
      name: '--with-token stores the token read from stdin (trimmed)',
      provider: tokenProvider,
      request: { provider: 'acme', withToken: true },
      stdin: '  acme-good\n',
      method: 'token',
      stored: true,
      account: 'ada',
      sent: ['verify acme-good'],
    },
    {
      name: '--token only checks the token: nothing stored',
      provider: tokenProvider,
      request: { provider: 'acme', token: 'acme-good' },
      method: 'token',
      stored: false,
      account: 'ada',
      sent: ['verify acme-good'],
    },
    {
      name: "a device provider's default is its device login, even in a terminal",
      provider: deviceProvider,
      interactive: true,
      request: { provider: 'devco' },
      method: 'device',
      stored: true,
      account: 'grace',
      sent: ['login'],
    },
    {
      name: 'a device provider still takes --with-token',
      provider: deviceProvider,
      request: { provider: 'devco', withToken: true },
      stdin: 'dev-good',
      method: 'token',
      stored: true,
      account: 'ada',
      sent: ['verify dev-good'],
    },
    {
      name: 'a token provider in a terminal asks with a masked prompt',
      provider: tokenProvider,
      interactive: true,
      answers: ['acme-good'],
      request: { provider: 'acme' },
      method: 'prompt',
      stored: true,
      account: 'ada',
      sent: ['verify acme-good'],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const provider = c.provider();
      const h = await start({ providers: [provider], interactive: c.interactive, answers: c.answers });
      const outcome = await login(h.runtime, request(c.request, c.stdin));
      expect(outcome).toMatchObject({ method: c.method, stored: c.stored, account: c.account });
      expect(provider.calls.map((x) => [x.call, x.token].filter(Boolean).join(' '))).toEqual(c.sent);
      const stored = await h.store.list();
      expect(stored.map((r) => [r.provider, r.account, r.method])).toEqual(
        c.stored ? [[provider.id, c.account, c.method]] : [],
      );
      if (c.stored) expect((await h.store.get(provider.id))?.record.backend).toBe('file');
      expect(h.stdout()).toBe('');
    });
  }

  it('--token warns that the token is visible in shell history, and says it was not stored', async () => {
    const h = await start({ providers: [tokenProvider()] });
    const outcome = await login(h.runtime, request({ provider: 'acme', token: 'acme-good' }));
    expect(h.stderr()).toContain('! A token passed with --token is visible in your shell history');
    expect(describeLogin(outcome, h.configDir)).toEqual([
      '✓ The token is valid for Acme as Ada Lovelace',
      '  Not stored (--token). Use --with-token to store it.',
    ]);
  });

  it('a device login shows nothing from the flow itself and stores what the provider returned', async () => {
    const h = await start({ providers: [deviceProvider()] });
    await login(h.runtime, request({ provider: 'devco' }));
    expect((await h.store.get('devco'))?.secret).toBe('dev-issued');
  });
});

describe('auth login: refusals before any request', () => {
  const cases: Array<{
    name: string;
    provider: () => ReturnType<typeof fakeProvider>;
    request: Partial<LoginRequest>;
    stdin?: string;
    exitCode: number;
    message: RegExp;
    action?: RegExp;
  }> = [
    {
      name: '--token and --with-token together',
      provider: tokenProvider,
      request: { provider: 'acme', token: 'acme-good', withToken: true },
      exitCode: 2,
      message: /^--with-token and --token cannot be used together\.$/,
    },
    {
      name: '--with-token with nothing on stdin',
      provider: tokenProvider,
      request: { provider: 'acme', withToken: true },
      stdin: '  \n',
      exitCode: 2,
      message: /^No token was given on standard input\.$/,
    },
    {
      name: 'a token for a provider that takes none',
      provider: () =>
        fakeProvider(
          { id: 'devonly', methods: ['device'] },
          { device: { token: 't', identity: { account: 'a' } } },
        ),
      request: { provider: 'devonly', token: 'x' },
      exitCode: 2,
      message: /does not accept tokens/,
    },
    {
      name: 'no terminal and no token for a token provider: every way in is named',
      provider: tokenProvider,
      request: { provider: 'acme' },
      exitCode: 2,
      message: /^Acme signs in with a token, and there is no terminal to ask for one\.$/,
      action: /--with-token.*--token TOKEN.*set ACME_API_KEY.*run this in a terminal/,
    },
    {
      name: 'an unknown --provider',
      provider: tokenProvider,
      request: { provider: 'nope' },
      exitCode: 2,
      message: /^Unknown provider "nope"\.$/,
      action: /Choose one of: acme;/,
    },
    {
      name: 'an http --base-url that is not loopback',
      provider: tokenProvider,
      request: { provider: 'acme', token: 'acme-good', baseUrl: 'http://acme.example' },
      exitCode: 2,
      message: /--base-url/,
    },
    {
      name: 'a bad --storage value',
      provider: tokenProvider,
      request: { provider: 'acme', withToken: true, storage: 'floppy' },
      stdin: 'acme-good',
      exitCode: 2,
      message: /storage/i,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const provider = c.provider();
      const h = await start({ providers: [provider] });
      const error = await rejection(login(h.runtime, request(c.request, c.stdin)));
      expect(error.exitCode).toBe(c.exitCode);
      expect(error.message).toMatch(c.message);
      if (c.action) expect(error.action).toMatch(c.action);
      expect(provider.calls).toEqual([]);
      expect(await h.store.list()).toEqual([]);
    });
  }

  it('a rejected token: exit 4 and nothing stored', async () => {
    const h = await start({ providers: [tokenProvider()] });
    const error = await rejection(
      login(h.runtime, request({ provider: 'acme', withToken: true }, 'acme-bad')),
    );
    expect(error.exitCode).toBe(4);
    expect(await h.store.list()).toEqual([]);
  });
});

describe('auth login: the environment credential (envLogin: verify)', () => {
  it('with the variable set, login only checks it, silently, and stores nothing', async () => {
    const provider = envCheckProvider();
    const h = await start({ providers: [provider], env: { ENVY_TOKEN: 'env-good' } });
    let silent = false;
    const outcome = await login(h.runtime, request({ provider: 'envy', onSilent: () => (silent = true) }));
    expect(outcome).toMatchObject({ method: 'env', stored: false, silent: true, account: 'ada' });
    expect(silent).toBe(true);
    expect(provider.calls).toEqual([{ call: 'verify', token: 'env-good', baseUrl: 'https://envy.example/' }]);
    expect(describeLogin(outcome, h.configDir)).toEqual([]);
    expect(h.stderr()).toBe('');
    expect(await h.store.list()).toEqual([]);
    // A person at a terminal gets one line (the variable, who, the expiry in local time); a pipe nothing.
    expect(describeLogin(outcome, h.configDir, { terminal: true })).toEqual([
      'ENVY_TOKEN is valid for ada; nothing stored',
    ]);
    const tz = process.env.TZ;
    process.env.TZ = 'UTC';
    try {
      const expiring = {
        ...outcome,
        identity: { ...outcome.identity, expiresAt: '2027-03-01T00:00:00.000Z' },
      };
      expect(describeLogin(expiring, h.configDir, { terminal: true })).toEqual([
        'ENVY_TOKEN is valid for ada (expires 2027-03-01 00:00:00 +00:00); nothing stored',
      ]);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('a rejected environment token: exit 4, nothing stored', async () => {
    const h = await start({ providers: [envCheckProvider()], env: { ENVY_TOKEN: 'env-bad' } });
    expect((await rejection(login(h.runtime, request({ provider: 'envy' })))).exitCode).toBe(4);
    expect(await h.store.list()).toEqual([]);
  });

  it('--with-token wins over the variable: the stdin token is checked and stored', async () => {
    const provider = envCheckProvider();
    const h = await start({ providers: [provider], env: { ENVY_TOKEN: 'env-good' } });
    const outcome = await login(h.runtime, request({ provider: 'envy', withToken: true }, 'stdin-good'));
    expect(outcome).toMatchObject({ method: 'token', stored: true, account: 'stdin' });
    expect(provider.calls.map((c) => c.token)).toEqual(['stdin-good']);
  });

  it('a provider without envLogin ignores its variable at login', async () => {
    const provider = tokenProvider();
    const h = await start({ providers: [provider], env: { ACME_API_KEY: 'acme-good' } });
    expect((await rejection(login(h.runtime, request({ provider: 'acme' })))).exitCode).toBe(2);
    expect(provider.calls).toEqual([]);
  });
});

describe('auth login: storage', () => {
  it('falls back to the file backend without a keychain and says so in words, once per config dir', async () => {
    const h = await start({
      providers: [tokenProvider()],
      keychain: unavailableKeychain(),
      env: { LATCHKEY_DEBUG: '1' },
    });
    const outcome = await login(h.runtime, request({ provider: 'acme', withToken: true }, 'acme-good'));
    expect(outcome).toMatchObject({
      stored: true,
      backend: 'file',
      fallbackReason: 'No Secret Service is running.',
    });
    const notice =
      '! No system keychain is running here (no Secret Service on D-Bus). Stored in a file protected by its permissions instead (the key sits beside it); set LATCHKEY_STORAGE=file to make that the default.';
    expect(describeLogin(outcome, h.configDir)).toContain(notice);
    // The raw keychain error only in the debug output.
    expect(h.stderr()).toContain(
      '[debug] The system keychain could not be used: No Secret Service is running.\n',
    );
    expect(describeLogin(outcome, h.configDir).join('\n')).not.toContain('No Secret Service is running.');
    expect((await h.store.get('acme'))?.secret).toBe('acme-good');
    // The next login in this config dir does not say it again.
    const again = await login(h.runtime, request({ provider: 'acme', withToken: true }, 'acme-good'));
    expect(again.backend).toBe('file');
    expect(again.keychainNotice).toBeUndefined();
    expect(describeLogin(again, h.configDir).join('\n')).not.toContain('No system keychain');
    // Named for what it is, with the way to something stronger.
    expect(describeLogin(again, h.configDir).slice(-2)).toEqual([
      `  Stored in the file in ${h.configDir} protected by its permissions (the key sits beside it).`,
      '  Whoever can read that directory can read the secret: for more protection use a passphrase (--storage passphrase), pass (--storage pass) or a system keychain (--storage keychain); see `latchkey help storage`.',
    ]);
  });

  it('a locked keychain is said every time, with what to do', async () => {
    const h = await start({ providers: [tokenProvider()], keychain: unavailableKeychain('KEYCHAIN_LOCKED') });
    for (let i = 0; i < 2; i++) {
      const outcome = await login(h.runtime, request({ provider: 'acme', withToken: true }, 'acme-good'));
      expect(describeLogin(outcome, h.configDir)).toContain(
        '! The system keychain is locked. Stored in a file protected by its permissions instead (the key sits beside it); unlock the keychain to use it next time, or set LATCHKEY_STORAGE=file to make the file the default.',
      );
    }
    expect(h.stderr()).not.toContain('No Secret Service is running.');
  });

  it('--storage keychain never falls back: the keychain error, nothing stored', async () => {
    const h = await start({ providers: [tokenProvider()], keychain: unavailableKeychain() });
    const error = await rejection(
      login(h.runtime, request({ provider: 'acme', withToken: true, storage: 'keychain' }, 'acme-good')),
    );
    expect(error.code).toBe('KEYCHAIN_UNAVAILABLE');
    expect(await h.store.list()).toEqual([]);
  });

  it('LATCHKEY_<ID>_BASE_URL chooses the server, and the account keeps it', async () => {
    const provider = tokenProvider();
    const h = await start({
      providers: [provider],
      env: { LATCHKEY_ACME_BASE_URL: 'https://acme.internal' },
    });
    const outcome = await login(h.runtime, request({ provider: 'acme', withToken: true }, 'acme-good'));
    expect(provider.calls[0]!.baseUrl).toBe('https://acme.internal/');
    expect(outcome.baseUrl).toBe('https://acme.internal');
    expect((await h.store.list())[0]!.baseUrl).toBe('https://acme.internal');
  });
});

describe('auth login: the masked prompt', () => {
  it('names where to get a token', async () => {
    const h = await start({ providers: [tokenProvider()], interactive: true, answers: ['acme-good'] });
    await login(h.runtime, request({ provider: 'acme' }));
    expect(h.prompts).toEqual([
      { kind: 'password', message: 'Paste your Acme token (create one at https://acme.example/keys):' },
    ]);
  });

  it('an empty answer and a rejected token may be corrected without starting over', async () => {
    const provider = tokenProvider();
    const h = await start({
      providers: [provider],
      interactive: true,
      answers: ['', 'acme-bad', ' acme-good '],
    });
    const outcome = await login(h.runtime, request({ provider: 'acme' }));
    expect(outcome).toMatchObject({ method: 'prompt', stored: true });
    expect(h.prompts).toHaveLength(3);
    expect(provider.calls.map((c) => c.token)).toEqual(['acme-bad', 'acme-good']);
    expect(h.stderr()).toBe(
      '! Nothing was entered.\n! The server rejected the token. Sign in again.\nTry again, or press Ctrl-C to stop.\n',
    );
  });

  it('gives up after five rejected tokens with the last error (exit 4)', async () => {
    const provider = tokenProvider();
    const h = await start({ providers: [provider], interactive: true, answers: Array(6).fill('acme-bad') });
    const error = await rejection(login(h.runtime, request({ provider: 'acme' })));
    expect(error.exitCode).toBe(4);
    expect(h.prompts).toHaveLength(5);
    expect(await h.store.list()).toEqual([]);
  });

  it('gives up after five empty answers (exit 2), never loops for ever', async () => {
    const provider = tokenProvider();
    const h = await start({ providers: [provider], interactive: true, answers: Array(6).fill('') });
    const error = await rejection(login(h.runtime, request({ provider: 'acme' })));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('No token was entered.');
    expect(h.prompts).toHaveLength(5);
    expect(provider.calls).toEqual([]);
  });

  it('a malformed token at the prompt is refused before the provider sees it, and may be corrected', async () => {
    const provider = tokenProvider();
    const h = await start({
      providers: [provider],
      interactive: true,
      answers: ['bad\x01token', 'acme-good'],
    });
    await login(h.runtime, request({ provider: 'acme' }));
    expect(provider.calls.map((c) => c.token)).toEqual(['acme-good']);
    expect(h.stderr()).toMatch(/^! The token from the prompt contains a control character/);
  });
});

describe('auth login: which provider', () => {
  const two = () => [tokenProvider(), deviceProvider()];

  it('in a terminal, asks which provider, listing each by title and id', async () => {
    const h = await start({ providers: two(), interactive: true, answers: ['acme', 'acme-good'] });
    const outcome = await login(h.runtime, request());
    expect(outcome.provider).toBe('acme');
    expect(h.prompts[0]).toEqual({
      kind: 'select',
      message: 'Which provider to sign in to?',
      choices: ['Acme (acme)', 'DevCo (devco)'],
    });
  });

  it('the choices are in id order, whatever order the plugins answered in', async () => {
    const h = await start({
      plugins: [
        { name: 'zeta-plugin', providers: [fakeProvider({ id: 'zeta', title: 'Zeta' })] },
        { name: 'alpha-plugin', providers: [fakeProvider({ id: 'beta', title: 'Beta' }), tokenProvider()] },
      ],
      interactive: true,
      answers: ['acme', 'acme-good'],
    });
    await login(h.runtime, request());
    expect(h.prompts[0]!.choices).toEqual(['Acme (acme)', 'Beta (beta)', 'Zeta (zeta)']);
  });

  it('in a pipe, a usage error that lists the choices', async () => {
    const h = await start({ providers: two() });
    const error = await rejection(login(h.runtime, request({ withToken: true }, 'acme-good')));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('--provider is required: more than one provider applies to sign in to.');
    expect(error.action).toBe('Pass --provider with one of: acme, devco.');
  });

  it('the only provider needs no --provider', async () => {
    const h = await start({ providers: [tokenProvider()] });
    expect((await login(h.runtime, request({ withToken: true }, 'acme-good'))).provider).toBe('acme');
  });

  it('an id claimed by two plugins: the bundled one is used, with a warning', async () => {
    const bundled = tokenProvider();
    const other = fakeProvider({ id: 'acme', title: 'Fake Acme' }, { accounts: { 'acme-good': ada } });
    const h = await start({
      plugins: [
        { name: 'acme-impostor', type: 'user', providers: [other] },
        { name: '@latchkey/plugin-acme', type: 'core', providers: [bundled] },
      ],
    });
    await login(h.runtime, request({ provider: 'acme', token: 'acme-good' }));
    expect(bundled.calls).toHaveLength(1);
    expect(other.calls).toEqual([]);
    expect(h.stderr()).toContain(
      '! Provider id "acme" is claimed by @latchkey/plugin-acme and acme-impostor; using @latchkey/plugin-acme.',
    );
  });
});

describe('auth login: a device login in a terminal', () => {
  it("shows the code, opens the browser without any provider's credential variable, then stores", async () => {
    const provider = deviceProvider();
    provider.login = async (ctx) => {
      await ctx.ui.showVerification({
        userCode: 'WDJBMJHT',
        verificationUri: 'https://devco.example/device',
        verificationUriComplete: 'https://devco.example/device?code=WDJBMJHT',
        expiresAt: Date.parse('2026-01-01T00:05:00Z'),
      });
      return { token: 'dev-issued', identity: { account: 'grace' } };
    };
    const h = await start({
      providers: [provider, tokenProvider()],
      interactive: true,
      env: { DISPLAY: ':0', ACME_API_KEY: 'acme-secret', DEVCO_API_KEY: 'devco-secret' },
    });
    await login(h.runtime, request({ provider: 'devco', browser: true }));
    expect(h.launched.map((l) => [l.command, ...l.args])).toEqual([
      ['xdg-open', 'https://devco.example/device?code=WDJBMJHT'],
    ]);
    expect(h.launched[0]!.env).toEqual(expect.not.objectContaining({ ACME_API_KEY: expect.anything() }));
    expect(h.launched[0]!.env).toEqual(expect.not.objectContaining({ DEVCO_API_KEY: expect.anything() }));
    expect(h.stderr()).toContain('To sign in to DevCo, open this URL and approve the code WDJB-MJHT:\n');
    expect(h.stderr()).toContain('Opened your browser.\n');
    // The live line was cleared when the flow ended.
    expect(h.stderr().endsWith('\r\x1b[2K')).toBe(true);
    expect((await h.store.get('devco'))?.secret).toBe('dev-issued');
  });
});

describe('auth login: a second login is a choice', () => {
  /** Two people's keys and a key the provider knows no name for (named by its label). */
  const twoAccounts = () =>
    fakeProvider(
      { id: 'acme', title: 'Acme' },
      {
        accounts: {
          'acme-ada': ada,
          'acme-ada-new': ada,
          'acme-bob': { account: 'bob' },
          'acme-anon': { account: '…anon' },
        },
      },
    );
  const withToken = (token: string, extra: Partial<LoginRequest> = {}) =>
    request({ provider: 'acme', withToken: true, ...extra }, token);
  const defaults = async (h: Awaited<ReturnType<typeof start>>) =>
    (await h.store.list('acme')).map((r) => `${r.account}${r.active ? ' (default)' : ''}`).sort();

  it('the same identity again replaces its credential, says so, and keeps the default', async () => {
    const h = await start({ providers: [twoAccounts()] });
    await login(h.runtime, withToken('acme-bob'));
    await login(h.runtime, withToken('acme-ada'));
    const outcome = await login(h.runtime, withToken('acme-ada-new'));
    expect(outcome).toMatchObject({ account: 'ada', replaced: true, isDefault: false });
    expect(describeLogin(outcome, h.configDir)).toContain('  Replaced the stored credential for ada.');
    expect((await h.store.get('acme', 'ada'))?.secret).toBe('acme-ada-new');
    expect(await defaults(h)).toEqual(['ada', 'bob (default)']);
    expect(h.prompts).toEqual([]);
  });

  it('replacing the default account keeps it the default', async () => {
    const h = await start({ providers: [twoAccounts()] });
    await login(h.runtime, withToken('acme-ada'));
    const outcome = await login(h.runtime, withToken('acme-ada-new'));
    expect(outcome).toMatchObject({ replaced: true, isDefault: true });
    expect(describeLogin(outcome, h.configDir).join('\n')).not.toContain('auth switch');
  });

  it('without a terminal a new identity is added, not made the default, and the output says how to switch', async () => {
    const h = await start({ providers: [twoAccounts()] });
    const first = await login(h.runtime, withToken('acme-ada'));
    expect(first).toMatchObject({ replaced: false, isDefault: true });
    const outcome = await login(h.runtime, withToken('acme-bob'));
    expect(outcome).toMatchObject({
      account: 'bob',
      replaced: false,
      isDefault: false,
      defaultAccount: 'ada',
    });
    expect(describeLogin(outcome, h.configDir)).toContain(
      '  Stored as bob; the default stays ada. Use it with --account bob, or make it the default: latchkey auth switch --provider acme --account bob',
    );
    expect(await defaults(h)).toEqual(['ada (default)', 'bob']);
    expect(h.prompts).toEqual([]);
  });

  it.each([
    ['yes', ['ada', 'bob (default)']],
    ['no', ['ada (default)', 'bob']],
  ])(
    'in a terminal the user is asked whether a new identity becomes the default: %s',
    async (answer, after) => {
      const h = await start({ providers: [twoAccounts()], interactive: true, answers: [answer] });
      await login(h.runtime, withToken('acme-ada'));
      expect(h.prompts).toEqual([]); // the first account is the default without a question
      const outcome = await login(h.runtime, withToken('acme-bob'));
      expect(h.prompts).toEqual([
        {
          kind: 'select',
          message: 'Make bob the default Acme account?',
          choices: ['Yes, use bob by default', 'No, keep ada'],
        },
      ]);
      expect(outcome.isDefault).toBe(answer === 'yes');
      expect(await defaults(h)).toEqual(after);
    },
  );

  it('--name stores the account under the given name; later logins with the same name replace it', async () => {
    const h = await start({ providers: [twoAccounts()] });
    const first = await login(h.runtime, withToken('acme-anon', { name: ' work ' }));
    expect(first).toMatchObject({ account: 'work', stored: true, isDefault: true });
    expect(describeLogin(first, h.configDir)[0]).toBe('✓ Logged in to Acme as work');
    const again = await login(h.runtime, withToken('acme-bob', { name: 'work' }));
    expect(again).toMatchObject({ account: 'work', replaced: true });
    expect((await h.store.get('acme', 'work'))?.secret).toBe('acme-bob');
    expect(await defaults(h)).toEqual(['work (default)']);
  });

  it.each([[''], ['  '], ['two\nlines'], ['x'.repeat(257)]])(
    '--name %j is a usage error before any request',
    async (name) => {
      const provider = twoAccounts();
      const h = await start({ providers: [provider] });
      const error = await rejection(login(h.runtime, withToken('acme-ada', { name })));
      expect(error).toMatchObject({
        exitCode: 2,
        message: '--name must be 1 to 256 characters on one line.',
      });
      expect(provider.calls).toEqual([]);
    },
  );

  it('the switch hint quotes a name a shell would split', async () => {
    const h = await start({ providers: [twoAccounts()] });
    await login(h.runtime, withToken('acme-ada'));
    const outcome = await login(h.runtime, withToken('acme-bob', { name: "bob's key" }));
    expect(describeLogin(outcome, h.configDir).at(-1)).toContain(
      `--account 'bob'\\''s key', or make it the default: latchkey auth switch --provider acme --account 'bob'\\''s key'`,
    );
  });
});
