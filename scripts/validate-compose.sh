#!/usr/bin/env bash
# Validates docker-compose.yml and the Prometheus config offline (no Docker engine
# needed). Installs nothing: it expects `docker-compose` (Debian's package, v1 or v2)
# or the `docker compose` plugin, and uses `promtool` (Debian's `prometheus` package)
# when present. Prints one line per check; exits non-zero if any check fails.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

failures=0
ok() { printf 'ok    %s\n' "$1"; }
skip() { printf 'skip  %s\n' "$1"; }
fail() {
  printf 'FAIL  %s\n' "$1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/      /'
  failures=$((failures + 1))
}
# check NAME CMD...: runs CMD, reports ok or FAIL with its output.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$name"; else fail "$name" "$out"; fi
}

# Dummy keys standing in for the .env that scripts/dev-keys.ts writes (multi-line,
# like real PEM). Exported values win over any .env in the repo.
JWT_PRIVATE_KEY=$'-----BEGIN PRIVATE KEY-----\ndummy\n-----END PRIVATE KEY-----'
JWT_PUBLIC_KEY=$'-----BEGIN PUBLIC KEY-----\ndummy\n-----END PUBLIC KEY-----'
export JWT_PRIVATE_KEY JWT_PUBLIC_KEY

compose=()
if command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
elif command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
fi

if [ ${#compose[@]} -eq 0 ]; then
  fail "compose: docker-compose not found (apt-get install docker-compose)"
else
  check "compose: docker-compose.yml is valid ($("${compose[@]}" version --short 2>/dev/null || echo '?'))" \
    "${compose[@]}" -f docker-compose.yml config -q

  # The JWT keys are required: without them (and without a .env) interpolation must fail.
  empty_env=$(mktemp)
  trap 'rm -f "$empty_env"' EXIT
  if out=$(env -u JWT_PRIVATE_KEY -u JWT_PUBLIC_KEY "${compose[@]}" --env-file "$empty_env" \
    -f docker-compose.yml config -q 2>&1); then
    fail "compose: missing JWT keys are rejected" "config succeeded without JWT_PRIVATE_KEY/JWT_PUBLIC_KEY"
  elif grep -q 'JWT_P' <<<"$out"; then
    ok "compose: missing JWT keys are rejected"
  else
    fail "compose: missing JWT keys are rejected" "$out"
  fi

  # Every app service (one with SERVICES set) is scraped by Prometheus.
  if services=$("${compose[@]}" -f docker-compose.yml config 2>&1); then
    app_services=$(awk '
      /^services:/ { in_s = 1; next }
      /^[^ ]/ { in_s = 0 }
      in_s && /^  [A-Za-z0-9_.-]+:$/ { name = $1; sub(/:$/, "", name) }
      in_s && /^ +SERVICES:/ { print name }
    ' <<<"$services" | sort -u | tr '\n' ' ')
    app_services=${app_services% }
    missing=()
    for svc in $app_services; do # word-splitting intended: service names have no spaces
      grep -Eq "^[[:space:]]*-[[:space:]]*\"?${svc}:9100\"?[[:space:]]*$" grafana/prometheus/prometheus.yml ||
        missing+=("$svc")
    done
    if [ -z "$app_services" ]; then
      fail "compose: app services found" "no service with SERVICES set"
    elif [ ${#missing[@]} -gt 0 ]; then
      fail "prometheus: scrapes every app service (${app_services})" "missing targets: ${missing[*]/%/:9100}"
    else
      ok "prometheus: scrapes every app service (${app_services})"
    fi
  else
    fail "compose: render config" "$services"
  fi
fi

if command -v promtool >/dev/null 2>&1; then
  check "promtool: check config grafana/prometheus/prometheus.yml" \
    promtool check config grafana/prometheus/prometheus.yml
  check "promtool: check rules grafana/prometheus/rules/*.yml" \
    promtool check rules grafana/prometheus/rules/*.yml
else
  skip "promtool: not installed (apt-get install prometheus)"
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
