import { Flags } from '@oclif/core';
import { LatchkeyCommand } from '../base-command.js';
import { runInject } from '../secrets/inject.js';

export default class Inject extends LatchkeyCommand {
  static summary = 'Fill in a template: {{ latchkey://<provider> }} references become the credentials.';
  static description =
    'Reads a template (standard input, or -i FILE; at most 1 MiB) and replaces each {{ latchkey://<provider>[/<account>][#token|#base-url] }} with its value, the account chosen as for `auth token`. Writes standard output, or -o FILE (mode 0600, written atomically; an existing FILE only with --force). Every reference is resolved first: one that cannot be writes nothing (exit 4 not signed in, exit 2 malformed or an unknown provider). No network call.';
  static examples = [
    {
      command: "echo 'API_KEY={{ latchkey://<id> }}' | <%= config.bin %> inject",
      description: 'Print the filled-in text.',
    },
    {
      command: '<%= config.bin %> inject -i .env.tpl -o .env --force',
      description: 'Write a 0600 file, replacing the one there.',
    },
  ];
  static flags = {
    'in-file': Flags.string({ char: 'i', description: 'The template file; default: standard input.' }),
    'out-file': Flags.string({
      char: 'o',
      description: 'Write here (mode 0600) instead of standard output.',
    }),
    force: Flags.boolean({ description: 'Replace the -o file when it exists.', default: false }),
  };
  /** The output is the filled-in template: no `--json`. */
  static enableJsonFlag = false;

  async run(): Promise<void> {
    const { flags } = await this.parse(Inject);
    await runInject(this.runtime, {
      input: flags['in-file'],
      output: flags['out-file'],
      force: flags.force,
      cwd: process.cwd(),
    });
  }
}
