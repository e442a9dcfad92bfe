import { Flags } from '@oclif/core';
import { resolveConfigDir, STORAGE_PREFERENCES } from '@latchkey/storage';
import { providerArg, providerArgument } from '../../providers/provider-argument.js';
import { LatchkeyCommand, jsonFlag } from '../../base-command.js';
import { describeLogin, login, type LoginOutcome } from '../../auth/login.js';
import { readLine, readStdin } from '../../terminal/stdin.js';

export default class AuthLogin extends LatchkeyCommand {
  static summary = 'Sign in to a provider and store the credential.';
  static description =
    "Runs the provider's sign-in and stores the credential in the system keychain, or, when no keychain is available, in a file protected by its permissions (its key sits beside it; see --storage for stronger choices). Providers with a browser sign-in (authorization code + PKCE on a loopback redirect) and a device flow use the browser where one can be opened here and the device flow otherwise; --web and --device choose. Use --with-token to store a token from standard input, or --token to only check one.";
  static examples = [
    {
      command: '<%= config.bin %> auth login --provider <id>',
      description: 'Sign in in the browser (`auth providers` lists the ids).',
    },
    {
      command: 'echo "$API_KEY" | <%= config.bin %> auth login --provider <id> --with-token',
      description: 'Store an existing key.',
    },
    {
      command: 'echo "$WORK_KEY" | <%= config.bin %> auth login --provider <id> --with-token --name work',
      description: 'Store a second key under a name you choose.',
    },
    {
      command: '<%= config.bin %> auth login --provider <id> --web --paste',
      description:
        'Sign in with a browser on another machine: open the URL there, then paste the address it ended on.',
    },
    {
      command: '<%= config.bin %> auth login --provider <id> --no-browser --base-url http://127.0.0.1:8080',
      description: 'Sign in against a local server, printing the URL instead of opening it.',
    },
  ];
  static args = { provider: providerArg };
  static flags = {
    json: jsonFlag,
    provider: Flags.string({ char: 'p', description: 'Provider id (see `latchkey auth providers`).' }),
    'base-url': Flags.string({
      description:
        "The provider's server; https://, or http:// for loopback only. Env: LATCHKEY_<ID>_BASE_URL.",
    }),
    'with-token': Flags.boolean({
      description: 'Read a token from standard input, validate it and store it.',
    }),
    token: Flags.string({
      char: 't',
      description: 'Validate this token and report; not stored (visible in shell history).',
    }),
    web: Flags.boolean({
      description:
        'Sign in in the browser: authorization code + PKCE, the browser sent back to 127.0.0.1 (default where a browser can be opened here).',
    }),
    device: Flags.boolean({
      description: 'Sign in with the device flow: a code you approve in a browser anywhere.',
    }),
    paste: Flags.boolean({
      description:
        'With --web, for a browser on another machine: paste the address the browser ended on instead of waiting for it here.',
    }),
    browser: Flags.boolean({
      default: true,
      allowNo: true,
      description:
        'Open the browser (--no-browser only prints the URL and code; the default flow is then the device flow).',
    }),
    qr: Flags.boolean({
      default: true,
      allowNo: true,
      description: 'Show a QR code of the sign-in URL in a terminal (--no-qr hides it).',
    }),
    clipboard: Flags.boolean({
      description:
        'Copy the device-login code to the clipboard (in a terminal; OSC 52 and wl-copy/xclip/pbcopy).',
    }),
    'client-name': Flags.string({
      description: 'Device-flow client name, for providers that declare it (see `auth providers --json`).',
    }),
    'client-id': Flags.string({ description: 'Device-flow client id, for providers that declare it.' }),
    option: Flags.string({
      multiple: true,
      description:
        'A login option the provider declares, as name=value (repeatable); `auth providers --json` lists them.',
    }),
    name: Flags.string({
      description:
        'The stored account name (e.g. work), for credentials the provider names by key only. Use it later with --account.',
    }),
    storage: Flags.string({
      options: [...STORAGE_PREFERENCES],
      description:
        'Where to keep the secret. Env: LATCHKEY_STORAGE. auto = keychain, else a file protected by its permissions (the key beside it); passphrase = a file whose key comes from LATCHKEY_FILE_PASSPHRASE or a prompt.',
    }),
  };

  async run(): Promise<LoginOutcome> {
    const { args, flags } = await this.parse(AuthLogin);
    const outcome = await login(this.runtime, {
      provider: providerArgument(args.provider, flags.provider),
      baseUrl: flags['base-url'],
      withToken: flags['with-token'],
      token: flags.token,
      browser: flags.browser,
      ...(flags.web && flags.device
        ? { flow: 'both' as const }
        : flags.web
          ? { flow: 'web' as const }
          : flags.device
            ? { flow: 'device' as const }
            : {}),
      paste: flags.paste,
      readRedirect: (signal) => readLine(process.stdin, signal),
      qr: flags.qr,
      clipboard: flags.clipboard,
      json: this.jsonEnabled(),
      loginOptions: {
        flags: { 'client-name': flags['client-name'], 'client-id': flags['client-id'] },
        ...(flags.option !== undefined ? { option: flags.option } : {}),
      },
      storage: flags.storage,
      ...(flags.name !== undefined ? { name: flags.name } : {}),
      readStdin,
      onSilent: () => {
        this.compactErrors = true;
      },
    });
    // describeLogin already tells people about a fallback; scripts get it as a warning.
    if (outcome.keychainNotice !== undefined) this.warnings.push(outcome.keychainNotice);
    const terminal = this.runtime.stderr.isTTY;
    for (const line of describeLogin(outcome, resolveConfigDir(this.runtime.env), { terminal }))
      this.runtime.say(line);
    return outcome;
  }
}
