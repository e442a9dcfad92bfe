import { execFileSync } from 'node:child_process';

function secretService(method: string, ...args: string[]): string {
  return execFileSync('gdbus', [
    'call',
    '--session',
    '--dest',
    'org.freedesktop.secrets',
    '--object-path',
    '/org/freedesktop/secrets',
    '--method',
    `org.freedesktop.Secret.Service.${method}`,
    ...args,
  ]).toString();
}

/**
 * Locks the default collection of the Secret Service on this D-Bus session (gnome-keyring under
 * scripts/with-secret-service.sh), the way a screen lock would. Nothing unlocks it again in that session.
 */
export function lockDefaultKeyring(): void {
  const alias = secretService('ReadAlias', 'default');
  const collection = /'(\/org\/freedesktop\/secrets\/collection\/[^']+)'/.exec(alias)?.[1];
  if (!collection) throw new Error(`no default collection in the Secret Service: ${alias}`);
  secretService('Lock', `['${collection}']`);
}
