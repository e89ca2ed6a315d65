#!/usr/bin/env bash
# Builds the local FerretDB v1.24.2 wrapper (scripts/ferretdb/main.go) to
# .cache/ferretdb/ferretdb, only when the binary is missing or main.go, go.mod,
# go.sum (or the Go version) changed since the last build.
#
# Usage: scripts/ferretdb/build.sh        (from any directory)
# Prints one line saying what it did; exits non-zero on failure.
# Needs Go >= 1.24 and the Go module proxy (go.sum pins every module).
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
out_dir="$repo_root/.cache/ferretdb"
bin="$out_dir/ferretdb"
stamp="$out_dir/ferretdb.stamp"

go_cmd="$(command -v go || true)"
if [[ -z "$go_cmd" && -x /usr/local/go/bin/go ]]; then
  go_cmd=/usr/local/go/bin/go
fi
if [[ -z "$go_cmd" ]]; then
  echo "build.sh: go not found (install Go >= 1.24 or put it on PATH)" >&2
  exit 1
fi

mkdir -p "$out_dir"

# Serialise concurrent builds (e.g. several test workers starting at once).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$out_dir/build.lock"
  flock 9
fi

want="$(
  cd "$script_dir"
  {
    sha256sum main.go go.mod go.sum
    "$go_cmd" env GOVERSION GOOS GOARCH
  } | sha256sum | cut -d' ' -f1
)"

if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "ferretdb: up to date ($bin)"
  exit 0
fi

start=$SECONDS
tmp="$bin.tmp.$$"
trap 'rm -f "$tmp"' EXIT

# -mod=readonly: go.sum is committed and complete, so a fresh clone needs only
# the module proxy. CGO is not needed (the SQLite driver is pure Go).
if ! (cd "$script_dir" &&
  CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
    "$go_cmd" build -trimpath -ldflags="-s -w" -o "$tmp" .); then
  echo "build.sh: go build of scripts/ferretdb failed" >&2
  exit 1
fi

mv -f "$tmp" "$bin"
printf '%s\n' "$want" >"$stamp"
echo "ferretdb: built $bin in $((SECONDS - start))s"
