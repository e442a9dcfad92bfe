#!/usr/bin/env bash
# Runs a command with a real, unlocked Secret Service (gnome-keyring) on a private D-Bus session bus, so
# the keychain tests of @latchkey/storage exercise the real thing on headless Linux and in CI.
#
#   scripts/with-secret-service.sh CMD [ARGS...]
#
# When `dbus-run-session` and `gnome-keyring-daemon` are installed (apt: gnome-keyring libsecret-tools
# dbus dbus-x11), CMD runs inside `dbus-run-session` with a freshly created keyring, unlocked with a
# throw-away password, stored in a temporary directory (the user's own keyrings are never touched), and
# with LATCHKEY_SECRET_SERVICE=1 exported. Otherwise CMD runs directly, without that variable, and the
# keychain tests skip (or fail when CI is set). Already inside such a session: CMD runs directly.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

if [ "${LATCHKEY_SECRET_SERVICE:-}" = "1" ]; then
  exec "$@"
fi

if ! command -v dbus-run-session >/dev/null 2>&1 || ! command -v gnome-keyring-daemon >/dev/null 2>&1; then
  echo "with-secret-service: dbus-run-session or gnome-keyring-daemon not found; running without a Secret Service" >&2
  exec "$@"
fi

keyring_home="$(mktemp -d "${TMPDIR:-/tmp}/latchkey-keyring.XXXXXX")"
# gnome-keyring-daemon daemonizes and can outlive the bus. At exit, stop the processes this run started:
# they are the ones whose environment carries LATCHKEY_KEYRING_HOME=<this run's directory>.
cleanup() {
  local marker="LATCHKEY_KEYRING_HOME=$keyring_home" env_file pid pids=() tries alive state
  for env_file in /proc/[0-9]*/environ; do
    pid="${env_file#/proc/}"
    pid="${pid%/environ}"
    [ "$pid" = "$$" ] && continue
    if { tr '\0' '\n' <"$env_file"; } 2>/dev/null | grep -qxF "$marker"; then
      kill "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  # They write into $keyring_home until they have exited (bounded: 10 s, then it is removed anyway).
  for ((tries = 0; tries < 100; tries++)); do
    alive=0
    for pid in "${pids[@]}"; do
      # Gone, or a zombie (exited; its parent has not reaped it yet): the state after "(name) ".
      state="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" || state=""
      [ -n "$state" ] && [ "$state" != Z ] && alive=1
    done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  rm -rf "$keyring_home"
}
trap cleanup EXIT
# Stopped (Ctrl-C, SIGTERM, a hang-up): exit through the EXIT trap too, so the daemons go with the run.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The inner script gets the command as "$@" (after the `sh` placeholder for $0), so arguments with spaces,
# quotes or globs reach the command unchanged. The keyring password comes on stdin, never on a command line.
# The daemon keeps its keyring files under $keyring_home (XDG_DATA_HOME only for the daemon).
# dbus-daemon and the keyring's prompter (which can't open a display here) write noise to stderr: their
# stderr goes to /dev/null while the command keeps the real one (fd 3). LATCHKEY_DEBUG=1 keeps the noise.
if [ -n "${LATCHKEY_DEBUG:-}" ]; then noise=/dev/stderr; else noise=/dev/null; fi
# The bus's socket goes in $keyring_home too (the stock session.conf puts it in /tmp, where a killed run
# would leave it): the stock session bus otherwise, with its own listen address.
cat >"$keyring_home/session.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:dir=$keyring_home</listen>
  <auth>EXTERNAL</auth>
  <standard_session_servicedirs/>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
status=0
LATCHKEY_KEYRING_HOME="$keyring_home" dbus-run-session --config-file="$keyring_home/session.conf" -- sh -c '
  printf %s latchkey-test-keyring |
    XDG_DATA_HOME="$LATCHKEY_KEYRING_HOME" gnome-keyring-daemon --unlock --components=secrets \
      >/dev/null 2>"$LATCHKEY_KEYRING_HOME/daemon.log" 3>&- || {
      echo "with-secret-service: gnome-keyring-daemon failed to start:" >&3
      cat "$LATCHKEY_KEYRING_HOME/daemon.log" >&3
      exit 1
    }
  unset LATCHKEY_KEYRING_HOME
  LATCHKEY_SECRET_SERVICE=1
  export LATCHKEY_SECRET_SERVICE
  "$@" 2>&3 3>&-
' sh "$@" 3>&2 2>"$noise" || status=$?
exit "$status"
