import { readFileSync } from 'node:fs';
import { Help } from '@oclif/core';
import { GUIDES, findGuide, wrapGuide, type Guide } from './help/guides.js';
import { page } from './io/pager.js';

const examples = `EXAMPLES
  What can I sign in to (the ids, login methods and variables of every installed provider):

    $ latchkey auth providers

  Sign in, in the browser (the URL and code are printed on stderr):

    $ latchkey auth login --provider <id>

  Use the key in a script: auth token prints exactly the token and a newline.

    $ curl -H "Authorization: Bearer $(latchkey auth token --provider <id>)" \\
        https://api.example.com/v1/models

  Who am I signed in as, checked live with each server:

    $ latchkey auth status

ENVIRONMENT
  LATCHKEY_CONFIG_DIR       config and credentials (default $XDG_CONFIG_HOME/latchkey)
  LATCHKEY_STORAGE          auto | keychain | file | passphrase | pass
  LATCHKEY_FILE_PASSPHRASE  the passphrase file's passphrase, for CI (else asked in a terminal)
  LATCHKEY_<ID>_TOKEN       a credential for provider <ID>, used instead of the stored one
  LATCHKEY_<ID>_BASE_URL    the provider's server
  LATCHKEY_DEBUG=1          request lines on stderr, secrets redacted
  each provider's own variables, e.g. <PROVIDER>_API_KEY (see latchkey auth providers)

EXIT CODES
  0 success  1 failure  2 usage error  4 not signed in or rejected  130 cancelled`;

const guides = `GUIDES
${GUIDES.map((guide) => `  latchkey help ${guide.topic.padEnd(12)} ${guide.summary}`).join('\n')}`;

/**
 * oclif's help, with examples, environment, exit codes and the guides on the root page; `latchkey help
 * <topic>` prints a guide (shipped in the package, wrapped to the terminal, paged only on a terminal).
 */
export default class LatchkeyHelp extends Help {
  override formatRoot(): string {
    return `${super.formatRoot()}\n\n${examples}\n\n${guides}`;
  }

  override async showHelp(argv: string[]): Promise<void> {
    const guide = argv.length === 1 ? findGuide(argv[0]!) : undefined;
    if (!guide) return super.showHelp(argv);
    const width = process.stdout.isTTY ? process.stdout.columns : 80;
    await page(wrapGuide(readGuide(guide), width), process.stdout, process.env);
  }
}

/** A guide's text as shipped (dist/help/<topic>.txt, written by scripts/help-pages.mjs). */
function readGuide(guide: Guide): string {
  return readFileSync(new URL(`./help/${guide.topic}.txt`, import.meta.url), 'utf8');
}
