/**
 * Wall-clock bounds for tests that must also pass on a busy machine. A bound written for a quiet machine
 * with four or more cores is stretched by how few cores this one has and by how oversubscribed they are
 * right now (the 1-minute load average per core), so a test still tells a hang or a needless wait (an
 * order of magnitude slower) from a machine that is merely busy. `atMost` keeps a bound below the time the
 * bug it catches would take, however loaded the machine is.
 */
import { availableParallelism, loadavg } from 'node:os';

/** Cores a bound written for a "quiet machine" assumes; fewer cores stretch it. */
const QUIET_CORES = 4;
/** Past this a machine is too loaded for any timing to mean much; a hang still shows as one. */
const MAX_SCALE = 8;

/**
 * How many times longer than on a quiet 4-core machine a step that needs the CPU may take here, now:
 * `max(1, 4 / cores) × max(1, load / cores)`, from 1 to 8. `LATCHKEY_TEST_TIME_SCALE=<n>` (n ≥ 1) sets it,
 * for a machine whose load average says little (a container that sees its host's load, Windows's zero).
 */
export function timeScale(): number {
  const forced = Number(process.env.LATCHKEY_TEST_TIME_SCALE);
  if (Number.isFinite(forced) && forced >= 1) return forced;
  const cores = Math.max(1, availableParallelism());
  const fewCores = Math.max(1, QUIET_CORES / cores);
  const oversubscribed = Math.max(1, (loadavg()[0] ?? 0) / cores);
  return Math.min(MAX_SCALE, fewCores * oversubscribed);
}

/**
 * `ms` (what the step takes, with room, on a quiet 4-core machine) times `timeScale()`, rounded up to a
 * millisecond. `atMost`: the bound never passes it (the time the bug this bound catches would take).
 * Read it after the step, when the load average has seen the step's own load.
 */
export function timeBound(ms: number, options: { atMost?: number } = {}): number {
  const bound = Math.ceil(ms * timeScale());
  return options.atMost === undefined ? bound : Math.min(bound, options.atMost);
}

/**
 * How many CPU-bound tasks (e.g. child processes) a test should run at once on this machine: the cores
 * available to this process, at least 1. `perCore` > 1 for tasks that mostly wait.
 */
export function tasksAtOnce(perCore = 1): number {
  return Math.max(1, Math.floor(availableParallelism() * perCore));
}
