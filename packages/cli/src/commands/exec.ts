import { usageError } from '@latchkey/errors';
import { LatchkeyCommand } from '../base-command.js';
import { execFlags } from '../command-flags.js';
import { oclifFlags } from '../oclif-flags.js';
import { runExec } from '../exec/run.js';
import { passphraseAsker } from '../runtime/runtime.js';
import { allStaticProviders, loadProviders } from '../providers/providers.js';
import { tokenRefresher } from '../token/refresher.js';

export default class Exec extends LatchkeyCommand {
  static summary = 'Run a command with credentials in its environment, masked in its output.';
  static description =
    "Sets each --provider's own variables (the ones its manifest declares) and each --env NAME=latchkey://<provider>[/<account>][#base-url], and resolves any inherited variable whose value is a latchkey:// reference. Everything is resolved before COMMAND starts (exit 4 not signed in, exit 2 malformed). COMMAND's stdout and stderr go through a filter that replaces every credential by <concealed by latchkey>; --no-masking connects it straight to the terminal. Signals are passed on (a Ctrl-C the terminal already gave COMMAND is not sent again); the exit code is COMMAND's (128+N for signal N, 127 when it is not found). No network call, except to refresh a stored OAuth token that is due (as `auth token`). See `latchkey help exec`.";
  static usage =
    'exec [--provider ID]... [--account NAME] [--env NAME=REF]... [--no-masking] -- COMMAND [ARGS...]';
  static examples = [
    {
      command: '<%= config.bin %> exec --provider <id> -- ./script.sh',
      description: "Run a script with a provider's own variables set (`auth providers` lists the ids).",
    },
    {
      command:
        '<%= config.bin %> exec --env OPENAI_API_KEY=latchkey://<id> --env OPENAI_BASE_URL=latchkey://<id>#base-url -- python app.py',
      description: "Give a program a provider's key and server under the names it expects.",
    },
  ];
  // Defined once, in command-flags.ts: the fast path (src/fast/fast-exec.ts) reads the same list.
  static flags = oclifFlags(execFlags);
  static strict = false;
  static enableJsonFlag = false;
  protected cancelOnSignal = false;

  async run(): Promise<void> {
    const split = this.argv.indexOf('--');
    const [command, ...args] = split === -1 ? [] : this.argv.slice(split + 1);
    const { flags } = await this.parse(Exec, split === -1 ? this.argv : this.argv.slice(0, split));
    if (command === undefined) {
      throw usageError(
        'exec needs a command after --.',
        'Run `latchkey exec [--provider ID] [--env NAME=REF] -- COMMAND [ARGS...]`.',
      );
    }
    const env = this.runtime.env;
    const providers = await allStaticProviders(this.config, env);
    const missing = (flags.provider ?? []).filter((id) => !providers.has(id));
    // `--account` alone: the provider that has it may be one without a static manifest too.
    const accountAlone = flags.account !== undefined && missing.length === 0 && !flags.provider?.length;
    if (missing.length > 0 || accountAlone) {
      // A plugin without a static manifest: ask its hook (no network, no login code).
      const found = (await loadProviders(this.config, env)).providers;
      for (const [id, entry] of found) {
        if ((accountAlone || missing.includes(id)) && !providers.has(id))
          providers.set(id, { manifest: entry.provider, plugin: entry.plugin });
      }
    }
    process.exitCode =
      (await runExec(
        {
          providers: flags.provider ?? [],
          account: flags.account,
          env: flags.env ?? [],
          masking: flags.masking,
          command,
          args,
        },
        providers,
        {
          env,
          cwd: process.cwd(),
          stdout: process.stdout,
          stderr: process.stderr,
          refresher: tokenRefresher(this.runtime),
          askPassphrase: passphraseAsker(this.runtime),
        },
      )) ?? 1;
  }
}
