#!/usr/bin/env bash
# Starts a local FerretDB v1.24.2 (SQLite backend) in the background for tests.
#
# Usage: scripts/ferretdb/start.sh <data-dir> [port]
#
#   <data-dir>  created if missing; SQLite files go to <data-dir>/sqlite/,
#               the pid to <data-dir>/ferretdb.pid, the log to <data-dir>/ferretdb.log
#   [port]      TCP port on 127.0.0.1; when omitted a free port is picked
#               (FerretDB binds port 0 and the chosen port is read back)
#
# On success prints exactly one line on stdout:  mongodb://127.0.0.1:<port>/
# (append a database name, e.g. mongodb://127.0.0.1:<port>/goaltracker_test).
# Everything else goes to stderr. Stop it with scripts/ferretdb/stop.sh <data-dir>.
# Env: FERRETDB_LOG_LEVEL (debug|info|warn|error, default error).
set -euo pipefail

usage() {
  echo "usage: $0 <data-dir> [port]" >&2
  exit 2
}

[[ $# -ge 1 && $# -le 2 && -n "$1" ]] || usage
port="${2:-0}"
[[ "$port" =~ ^[0-9]+$ && "$port" -le 65535 ]] || {
  echo "start.sh: invalid port '$port'" >&2
  exit 2
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
bin="$repo_root/.cache/ferretdb/ferretdb"

"$script_dir/build.sh" >&2

mkdir -p "$1"
data_dir="$(cd "$1" && pwd)"
mkdir -p "$data_dir/sqlite"
pid_file="$data_dir/ferretdb.pid"
log_file="$data_dir/ferretdb.log"

# Refuse to start a second instance on the same data dir.
if [[ -f "$pid_file" ]]; then
  old_pid="$(cat "$pid_file" 2>/dev/null || true)"
  if [[ "$old_pid" =~ ^[0-9]+$ ]] && kill -0 "$old_pid" 2>/dev/null &&
    grep -qa ferretdb "/proc/$old_pid/cmdline" 2>/dev/null; then
    echo "start.sh: FerretDB already running for $data_dir (pid $old_pid); stop it with $script_dir/stop.sh $data_dir" >&2
    exit 1
  fi
  rm -f "$pid_file"
fi

: >"$log_file"
"$bin" \
  --handler=sqlite \
  --sqlite-url="file:$data_dir/sqlite/" \
  --listen-addr="127.0.0.1:$port" \
  --log-level="${FERRETDB_LOG_LEVEL:-error}" \
  </dev/null >>"$log_file" 2>&1 &
pid=$!
echo "$pid" >"$pid_file"

fail() {
  echo "start.sh: $1" >&2
  echo "---- last lines of $log_file ----" >&2
  tail -n 30 "$log_file" >&2 || true
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
  exit 1
}

port_open() {
  # bash's /dev/tcp: succeeds once something accepts connections on the port
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

deadline=$((SECONDS + 30))
actual_port=""
while :; do
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null && rc=0 || rc=$?
    fail "FerretDB exited during startup (exit code $rc)"
  fi
  if [[ -z "$actual_port" ]]; then
    # main.go prints: ferretdb listening on mongodb://127.0.0.1:<port>/ (handler sqlite)
    line="$(grep -m1 -o 'listening on mongodb://[^ ]*' "$log_file" 2>/dev/null || true)"
    if [[ -n "$line" ]]; then
      actual_port="${line##*:}"
      actual_port="${actual_port%%/*}"
    fi
  fi
  if [[ -n "$actual_port" ]] && port_open "$actual_port"; then
    break
  fi
  if ((SECONDS >= deadline)); then
    fail "FerretDB did not accept connections within 30 s"
  fi
  sleep 0.2
done

echo "mongodb://127.0.0.1:$actual_port/"
