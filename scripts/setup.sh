#!/usr/bin/env bash
# Fresh-machine set-up: toolchain (Node >= 22.14, pinned pnpm), dependencies, build. Idempotent and quick when
# everything is already in place. Nothing is fetched from outside the npm registry.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/toolchain.sh

# pnpm keeps a copy of the lockfile it installed (node_modules/.pnpm/lock.yaml): when it is the same as
# pnpm-lock.yaml and every workspace package has its node_modules, there is nothing to install, so
# `npm test` after `npm run demo` (each runs this script) does not install twice.
installed() {
  cmp -s pnpm-lock.yaml node_modules/.pnpm/lock.yaml || return 1
  for manifest in packages/*/package.json plugins/*/package.json examples/*/package.json; do
    [ -d "$(dirname "$manifest")/node_modules" ] || return 1
  done
}
if ! installed; then
  pnpm install --frozen-lockfile --prefer-offline --reporter=silent >&2 || pnpm install --frozen-lockfile >&2
fi
# Built once; turbo's cache makes the builds `test` depends on (turbo.json) cache hits.
pnpm exec turbo run build --output-logs=errors-only >&2
