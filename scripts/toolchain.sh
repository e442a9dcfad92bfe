#!/usr/bin/env bash
# Puts the project's toolchain on PATH: Node >= 22.14 (the npm package node@22 in .tools/ when the system
# Node is older; the build uses 22.14's module.findPackageJSON, latchkey itself runs on any Node 22) and the pnpm version pinned in package.json's "packageManager". Only the npm registry is
# used. Source it (`. scripts/toolchain.sh`) or run a command through it (`scripts/toolchain.sh pnpm test`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
need_major=22

new_enough() {
  "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 14) ? 0 : 1)' 2>/dev/null
}

if [ -x "$tools/node/bin/node" ] && new_enough "$tools/node/bin/node"; then
  export PATH="$tools/node/bin:$PATH"
elif ! command -v node >/dev/null || ! new_enough node; then
  echo "latchkey setup: system Node is $(node --version 2>/dev/null || echo missing); installing node@$need_major into .tools/node" >&2
  rm -rf "$tools/node" # one from before 22.14 was needed
  # node@22 installs its platform binary from a postinstall script; when several installs share the npm
  # cache at once that step can fail, so a failed install is cleaned up and tried once more.
  npm install --global --prefix "$tools/node" --no-audit --no-fund --loglevel=error "node@$need_major" >&2 ||
    { rm -rf "$tools/node"; sleep 2; npm install --global --prefix "$tools/node" --no-audit --no-fund --loglevel=error "node@$need_major" >&2; }
  export PATH="$tools/node/bin:$PATH"
fi

pnpm_version="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$root/package.json")"
if [ ! -x "$tools/pnpm/bin/pnpm" ] || [ "$("$tools/pnpm/bin/pnpm" --version 2>/dev/null)" != "$pnpm_version" ]; then
  echo "latchkey setup: installing pnpm@$pnpm_version into .tools/pnpm" >&2
  npm install --global --prefix "$tools/pnpm" --no-audit --no-fund --loglevel=error "pnpm@$pnpm_version" >&2 ||
    { rm -rf "$tools/pnpm"; sleep 2; npm install --global --prefix "$tools/pnpm" --no-audit --no-fund --loglevel=error "pnpm@$pnpm_version" >&2; }
fi
export PATH="$tools/pnpm/bin:$PATH"
# The mirror strips signatures; pnpm must not try to switch itself to another version.
export npm_config_manage_package_manager_versions=false
# turbo: no telemetry (nor its first-run notice) and no update check on each run.
export TURBO_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1 DO_NOT_TRACK=1

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then
  exec "$@"
fi
