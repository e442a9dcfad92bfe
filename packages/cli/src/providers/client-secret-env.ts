// `auth providers add --client-secret-env NAME`: which variables may hold a configured provider's client
// secret. The variable is read each time the secret is needed and the value is sent to the provider's token
// endpoint, so it may not be one that holds something else: another provider's credential (it would go to
// this server), or a variable that changes how programs run or where they look (PATH, LD_*, NODE_OPTIONS...).
import { usageError, type LatchkeyError } from '@latchkey/errors';
import { latchkeyEnvName } from '@latchkey/plugin-kit/manifest';
import type { StaticProvider } from './provider-facts.js';

/** Upper-case letters, digits and `_`, starting with a letter. */
const namePattern = /^[A-Z][A-Z0-9_]{0,127}$/;

/** Names no client secret may be read from: the system's, the shell's, the loaders'. */
const deniedNames = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'PWD',
  'OLDPWD',
  'TERM',
  'LANG',
  'TZ',
  'TMPDIR',
  'TEMP',
  'TMP',
  'IFS',
  'ENV',
  'BASH_ENV',
  'CDPATH',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'BROWSER',
  'DISPLAY',
  'SSH_AUTH_SOCK',
  'CI',
]);

/** Prefixes of loader, runtime and tool settings (`LATCHKEY_`: latchkey's own, incl. `LATCHKEY_<ID>_TOKEN`). */
const deniedPrefixes = [
  'LATCHKEY_',
  'LD_',
  'DYLD_',
  'NODE_',
  'NPM_',
  'PYTHON',
  'PERL',
  'RUBY',
  'JAVA_',
  'GIT_',
  'SSL_',
  'XDG_',
  'LC_',
  'DBUS_',
  'SUDO_',
];

/**
 * Why `name` may not hold a client secret, or undefined when it may: it must match /^[A-Z][A-Z0-9_]*$/, not
 * be a system or loader variable (the names above, any `*PATH`, any `*_PROXY`), and not be any provider's
 * credential variable (its own `envVars` or `LATCHKEY_<ID>_TOKEN`).
 */
export function clientSecretEnvProblem(
  name: string,
  providers: Iterable<StaticProvider>,
): string | undefined {
  if (!namePattern.test(name))
    return 'it is not an upper-case variable name (A-Z, 0-9, _, starting with a letter)';
  for (const { manifest } of providers) {
    if (manifest.envVars.includes(name) || name === latchkeyEnvName(manifest.id, 'TOKEN'))
      return `it holds ${manifest.title}'s credential`;
  }
  if (
    deniedNames.has(name) ||
    name.endsWith('PATH') ||
    name.endsWith('_PROXY') ||
    deniedPrefixes.some((prefix) => name.startsWith(prefix))
  )
    return "it is a system, loader or latchkey variable, not one for a client's secret";
  return undefined;
}

/** The usage error (exit 2) for a variable `clientSecretEnvProblem` refuses; the value is never shown. */
export function clientSecretEnvRefused(name: string, problem: string, source: string): LatchkeyError {
  return usageError(
    `${source} may not name ${JSON.stringify(name.slice(0, 40))}: ${problem}.`,
    'Name a variable of its own for the client secret, such as ACME_CLIENT_SECRET (see `latchkey help oauth`).',
  );
}
