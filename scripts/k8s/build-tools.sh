#!/usr/bin/env bash
# Builds the manifest tools into .cache/bin (gitignored), each only when missing or out of date:
#   .cache/bin/kustomize     sigs.k8s.io/kustomize/kustomize/v5 at $KUSTOMIZE_VERSION (go install)
#   .cache/bin/k8s-validate  scripts/k8s/validate (strict schema + policy checks; go.sum pins every module)
#
# Usage: scripts/k8s/build-tools.sh      (from any directory)
# Prints one line per tool; exits non-zero on failure. Needs Go >= 1.26 and the Go module proxy only.
set -euo pipefail

# v5.8.2 is the newest kustomize whose go.mod accepts Go 1.26 (v5.8.3 requires Go 1.27).
KUSTOMIZE_VERSION=v5.8.2

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
bin_dir="$repo_root/.cache/bin"

go_cmd="$(command -v go || true)"
if [[ -z "$go_cmd" && -x /usr/local/go/bin/go ]]; then
  go_cmd=/usr/local/go/bin/go
fi
if [[ -z "$go_cmd" ]]; then
  echo "build-tools.sh: go not found (install Go >= 1.26 or put it on PATH)" >&2
  exit 1
fi

mkdir -p "$bin_dir"

# Serialise concurrent builds.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$bin_dir/k8s-tools.lock"
  flock 9
fi

go_id="$("$go_cmd" env GOVERSION GOOS GOARCH | tr '\n' ' ')"

# --- kustomize -----------------------------------------------------------------------
stamp="$bin_dir/kustomize.stamp"
want="$KUSTOMIZE_VERSION $go_id"
if [[ -x "$bin_dir/kustomize" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "kustomize: up to date ($bin_dir/kustomize $KUSTOMIZE_VERSION)"
else
  start=$SECONDS
  # go install writes the binary atomically into GOBIN; a module-aware install at an exact
  # version ignores any go.mod around it.
  if ! (cd "$bin_dir" && GOBIN="$bin_dir" CGO_ENABLED=0 GOFLAGS="-buildvcs=false" \
    "$go_cmd" install -trimpath -ldflags="-s -w" "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"); then
    echo "build-tools.sh: go install of kustomize $KUSTOMIZE_VERSION failed" >&2
    exit 1
  fi
  printf '%s\n' "$want" >"$stamp"
  echo "kustomize: built $bin_dir/kustomize $KUSTOMIZE_VERSION in $((SECONDS - start))s"
fi

# --- k8s-validate --------------------------------------------------------------------
src="$script_dir/validate"
stamp="$bin_dir/k8s-validate.stamp"
want="$(
  cd "$src"
  {
    sha256sum go.mod go.sum ./*.go
    echo "$go_id"
  } | sha256sum | cut -d' ' -f1
)"
if [[ -x "$bin_dir/k8s-validate" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "k8s-validate: up to date ($bin_dir/k8s-validate)"
else
  start=$SECONDS
  tmp="$bin_dir/k8s-validate.tmp.$$"
  trap 'rm -f "$tmp"' EXIT
  # -mod=readonly: go.sum is committed and complete, so a fresh clone needs only the module proxy.
  if ! (cd "$src" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
    "$go_cmd" build -trimpath -ldflags="-s -w" -o "$tmp" .); then
    echo "build-tools.sh: go build of scripts/k8s/validate failed" >&2
    exit 1
  fi
  mv -f "$tmp" "$bin_dir/k8s-validate"
  printf '%s\n' "$want" >"$stamp"
  echo "k8s-validate: built $bin_dir/k8s-validate in $((SECONDS - start))s"
fi
