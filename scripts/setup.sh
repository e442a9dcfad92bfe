#!/usr/bin/env bash
# Fresh-machine set-up: toolchain (Node >= 22, pinned pnpm), dependencies, build. Idempotent and quick when
# everything is already in place. Nothing is fetched from outside the npm registry.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/toolchain.sh
pnpm install --frozen-lockfile --prefer-offline --reporter=silent >&2 || pnpm install --frozen-lockfile >&2
pnpm exec turbo run build --output-logs=errors-only >&2
