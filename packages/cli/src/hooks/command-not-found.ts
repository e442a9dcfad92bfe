import type { Hook } from '@oclif/core';
import { closestCommand, unknownCommand } from '../terminal/suggest.js';
import { reportError } from '../render-error.js';

/**
 * `latchkey auth lgin`: one usage error in latchkey's own style (exit 2, the envelope under --json) that
 * suggests the nearest command with spaces, never oclif's `auth:lgin` form and never a prompt.
 */
const hook: Hook<'command_not_found'> = async function ({ id, argv, config }) {
  const names = [...config.commands, ...config.topics.map((t) => ({ id: t.name, hidden: t.hidden }))];
  const { typed, suggestion } = closestCommand(id, names, new Set(config.topics.map((t) => t.name)));
  const error = unknownCommand(typed, suggestion, config.bin);
  process.exitCode = reportError(error, {
    json: (argv ?? []).includes('--json'),
    compact: false,
    warnings: [],
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
  });
};

export default hook;
