import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function secretService(method: string, args: string[], busAddress?: string): string {
  return execFileSync(
    'gdbus',
    [
      'call',
      '--session',
      '--dest',
      'org.freedesktop.secrets',
      '--object-path',
      '/org/freedesktop/secrets',
      '--method',
      `org.freedesktop.Secret.Service.${method}`,
      ...args,
    ],
    {
      env: busAddress ? { ...process.env, DBUS_SESSION_BUS_ADDRESS: busAddress } : process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10_000,
    },
  ).toString();
}

function nameHasOwner(busAddress: string): boolean {
  const answer = execFileSync(
    'gdbus',
    [
      'call',
      '--session',
      '--dest',
      'org.freedesktop.DBus',
      '--object-path',
      '/org/freedesktop/DBus',
      '--method',
      'org.freedesktop.DBus.NameHasOwner',
      'org.freedesktop.secrets',
    ],
    {
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: busAddress },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10_000,
    },
  ).toString();
  return answer.includes('true');
}

function defaultCollection(busAddress?: string): string | undefined {
  const alias = secretService('ReadAlias', ['default'], busAddress);
  return /'(\/org\/freedesktop\/secrets\/collection\/[^']+)'/.exec(alias)?.[1];
}

/**
 * Locks the default collection of the Secret Service on a D-Bus session bus (this process's own, or
 * `busAddress`), the way a screen lock would. Nothing unlocks it again in that session: lock only a keyring
 * no other test uses (see `startPrivateSecretService`).
 */
export function lockDefaultKeyring(busAddress?: string): void {
  const collection = defaultCollection(busAddress);
  if (!collection) throw new Error('no default collection in the Secret Service');
  secretService('Lock', [`['${collection}']`], busAddress);
}

export interface PrivateSecretService {
  /** The environment that points a process at this Secret Service. */
  env: { DBUS_SESSION_BUS_ADDRESS: string };
  /** Locks its default keyring (only this service's: other tests keep an unlocked one). */
  lock(): void;
  stop(): Promise<void>;
}

/** The first line `child` writes to stdout, within `timeoutMs`. */
function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('dbus-daemon printed no address')), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const end = text.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(text.slice(0, end).trim());
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error('dbus-daemon exited'));
    });
  });
}

/** Asks `child` to stop (SIGTERM, SIGKILL after 3 s) and resolves once it has exited. */
function ended(child: ChildProcess): Promise<void> {
  // No pid: it never started.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * A Secret Service of its own: a private D-Bus session bus and gnome-keyring on it with a fresh, unlocked
 * keyring in a temporary directory. For a test that locks the keyring, so that tests running at the same
 * time on the shared one (scripts/with-secret-service.sh) are not locked out.
 */
export async function startPrivateSecretService(): Promise<PrivateSecretService> {
  const dir = await mkdtemp(join(tmpdir(), 'latchkey-private-keyring-'));
  // Its socket in the temporary directory too (the stock session config would put it in /tmp).
  const bus = spawn(
    'dbus-daemon',
    ['--session', `--address=unix:dir=${dir}`, '--print-address=1', '--nofork'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  let keyring: ChildProcess | undefined;
  // Both daemons use the directory (keyring files, sockets) until they have exited: removed only then.
  const stop = async () => {
    await Promise.all([keyring, bus].map((child) => child && ended(child)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const address = await firstLine(bus, 30_000);
    // Without the shared daemon's control socket in the environment, or --unlock would go to that one.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('GNOME_KEYRING')),
    );
    keyring = spawn('gnome-keyring-daemon', ['--unlock', '--components=secrets', '--foreground'], {
      env: { ...env, DBUS_SESSION_BUS_ADDRESS: address, XDG_DATA_HOME: dir, XDG_RUNTIME_DIR: dir },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    keyring.stdin!.end('latchkey-private-keyring');
    // Ready when it owns the service name and its default collection answers (bounded: 300 tries, 100 ms
    // apart, room for a loaded machine). The name is asked of the bus itself first: calling the service before it is there would make
    // the bus start another gnome-keyring (D-Bus activation) with a locked keyring.
    for (let attempt = 0; ; attempt += 1) {
      try {
        if (nameHasOwner(address) && defaultCollection(address)) break;
      } catch {
        // not on the bus yet
      }
      if (attempt >= 300) throw new Error('gnome-keyring did not come up on the private bus');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { env: { DBUS_SESSION_BUS_ADDRESS: address }, lock: () => lockDefaultKeyring(address), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
