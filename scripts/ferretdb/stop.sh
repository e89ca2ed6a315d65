#!/usr/bin/env bash
# Stops a FerretDB started by scripts/ferretdb/start.sh.
#
# Usage: scripts/ferretdb/stop.sh <data-dir>
#
# Sends SIGTERM to the pid in <data-dir>/ferretdb.pid, waits up to 5 s, then SIGKILL.
# Exits 0 when the process is gone (or was not running), non-zero otherwise.
set -euo pipefail

[[ $# -eq 1 && -n "$1" ]] || {
  echo "usage: $0 <data-dir>" >&2
  exit 2
}

pid_file="$1/ferretdb.pid"
if [[ ! -f "$pid_file" ]]; then
  echo "ferretdb: not running (no $pid_file)"
  exit 0
fi

pid="$(cat "$pid_file" 2>/dev/null || true)"
if [[ ! "$pid" =~ ^[0-9]+$ ]]; then
  echo "stop.sh: bad pid file $pid_file" >&2
  rm -f "$pid_file"
  exit 1
fi

alive() {
  kill -0 "$pid" 2>/dev/null || return 1
  # a zombie (exited, not yet reaped by its parent) counts as gone
  local state
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  [[ "$state" != "Z" ]]
}

if ! alive; then
  echo "ferretdb: not running (stale pid $pid)"
  rm -f "$pid_file"
  exit 0
fi

# Do not kill an unrelated process that reused the pid.
if [[ -r "/proc/$pid/cmdline" ]] && ! grep -qa ferretdb "/proc/$pid/cmdline"; then
  echo "ferretdb: pid $pid is not FerretDB; removing stale $pid_file"
  rm -f "$pid_file"
  exit 0
fi

kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 1 50); do
  alive || break
  sleep 0.1
done

how="SIGTERM"
if alive; then
  how="SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do
    alive || break
    sleep 0.1
  done
fi

if alive; then
  echo "stop.sh: pid $pid still alive after SIGKILL" >&2
  exit 1
fi

rm -f "$pid_file"
echo "ferretdb: stopped (pid $pid, $how)"
