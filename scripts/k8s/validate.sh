#!/usr/bin/env bash
# Validates the Kubernetes manifests offline:
#   1. builds kustomize and the validator into .cache/bin if needed (scripts/k8s/build-tools.sh);
#   2. renders k8s/base, k8s/overlays/dev and k8s/overlays/prod with kustomize;
#   3. runs scripts/k8s/validate on each render: strict decoding of every object into its Go type
#      (unknown fields, kinds, apiVersions, bad quantities fail), then policy and reference checks;
#      and runs each Deployment's environment through the app's own loader (shared/config.ts);
#   4. checks the NATS Helm values (k8s/nats);
#   5. proves the validator is not vacuous: broken copies of the dev render must be rejected.
# Prints one line per check; exits non-zero if any failed. Needs Go and the Go module proxy only.
#
#   K8S_DIR=/tmp/copy/k8s scripts/k8s/validate.sh    validates another copy of k8s/ (default: the repo's)
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1

failures=0
ok() { printf 'ok    %s\n' "$1"; }
fail() {
  printf 'FAIL  %s\n' "$1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/      /'
  failures=$((failures + 1))
}

if ! out=$(bash scripts/k8s/build-tools.sh 2>&1); then
  fail "tools: kustomize and k8s-validate build" "$out"
  exit 1
fi
ok "tools: $(printf '%s' "$out" | tr '\n' ';' | sed 's/;$//; s/;/; /g')"

kustomize=$PWD/.cache/bin/kustomize
validator=$PWD/.cache/bin/k8s-validate
k8s=${K8S_DIR:-k8s}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Secrets that are created outside the manifests (k8s/README.md says how).
declare -A args=(
  [base]="-env base -external-secrets goal-tracker-secrets,goal-tracker-mongo"
  [dev]="-env dev -namespace goal-tracker-dev -external-secrets goal-tracker-secrets"
  [prod]="-env prod -namespace goal-tracker -require-digest -external-secrets goal-tracker-secrets,goal-tracker-mongo-password"
)
declare -A dirs=([base]=$k8s/base [dev]=$k8s/overlays/dev [prod]=$k8s/overlays/prod)

for env in base dev prod; do
  if ! out=$("$kustomize" build "${dirs[$env]}" 2>&1 >"$work/$env.yaml"); then
    fail "$env: kustomize build ${dirs[$env]}" "$out"
    continue
  fi
  ok "$env: kustomize build ${dirs[$env]} ($(grep -c '^kind:' "$work/$env.yaml") objects)"
  # shellcheck disable=SC2086 # word splitting of the flags is intended
  "$validator" ${args[$env]} -env-json "$work/$env.env.json" "$work/$env.yaml" || failures=$((failures + 1))
  # The app's own config loader judges each Deployment's environment (needs npm ci for Node 24).
  if [ ! -s "$work/$env.env.json" ]; then
    :
  elif [ -x node_modules/.bin/node ]; then
    node_modules/.bin/node scripts/k8s/check-config.ts "$work/$env.env.json" "$env" || failures=$((failures + 1))
  else
    printf 'skip  %s: app config through shared/config.ts (no node_modules: run npm ci)\n' "$env"
  fi
done

# The Secret that create-secrets.sh prints completes the dev render: nothing is external any more, so
# every key the Deployments read must be in it and match shared/config.ts's patterns (PEM, smtp://).
if [ -s "$work/dev.yaml" ]; then
  if out=$(bash scripts/k8s/create-secrets.sh goal-tracker-dev 'smtp://user:secret@mail.example.com:587' 2>&1 >"$work/secret.yaml"); then
    cat "$work/dev.yaml" - "$work/secret.yaml" <<<'---' >"$work/dev-with-secret.yaml"
    "$validator" -env dev+secret -namespace goal-tracker-dev "$work/dev-with-secret.yaml" || failures=$((failures + 1))
  else
    fail "dev+secret: scripts/k8s/create-secrets.sh" "$out"
  fi
fi

"$validator" -env nats -nats-values "$k8s/nats/values.yaml" || failures=$((failures + 1))
"$validator" -env nats-dev -nats-values "$k8s/nats/values.yaml,$k8s/nats/values-dev.yaml" -nats-min-replicas 1 ||
  failures=$((failures + 1))

# Self-test: each broken copy of the dev render must fail validation with the expected message.
# expect_rejected NAME PATTERN SED-EXPRESSION
expect_rejected() {
  local name=$1 pattern=$2 expr=$3 broken="$work/broken.yaml" out
  sed "$expr" "$work/dev.yaml" >"$broken"
  if cmp -s "$work/dev.yaml" "$broken"; then
    fail "selftest: $name" "the sed expression changed nothing: $expr"
    return
  fi
  # shellcheck disable=SC2086
  if out=$("$validator" ${args[dev]} "$broken" 2>&1); then
    fail "selftest: $name is rejected" "the validator accepted it"
  elif grep -q -- "$pattern" <<<"$out"; then
    ok "selftest: $name is rejected"
  else
    fail "selftest: $name is rejected with \"$pattern\"" "$out"
  fi
}
if [ -s "$work/dev.yaml" ]; then
  expect_rejected "an unknown field" 'unknown field "spec.revisionHistoryLimits"' \
    '0,/revisionHistoryLimit: 5/s//revisionHistoryLimits: 5/'
  expect_rejected "an unknown apiVersion" 'unknown apiVersion/kind apps/v2 Deployment' \
    '0,/^apiVersion: apps\/v1$/s//apiVersion: apps\/v2/'
  expect_rejected "an invalid quantity" 'quantities must match' '0,/memory: 256Mi/s//memory: 256MB!/'
  expect_rejected "a duplicate key" 'already set in map' '0,/^kind: Deployment$/s//kind: Deployment\nkind: Deployment/'
  expect_rejected "the latest tag" 'uses tag "latest"' '0,/image: goal-tracker:dev/s//image: goal-tracker:latest/'
  expect_rejected "a writable root filesystem" 'readOnlyRootFilesystem is not true' \
    '0,/readOnlyRootFilesystem: true/s//readOnlyRootFilesystem: false/'
  expect_rejected "a readiness probe on the wrong path" 'readinessProbe path "/health", want "/ready"' \
    '0,/path: \/ready/s//path: \/health/'
  expect_rejected "a Deployment running the wrong service" 'SERVICES="streak", want "activity"' \
    '0,/value: activity/s//value: streak/'
  expect_rejected "a reference to an unknown Secret" 'Secret goal-tracker-secret is neither rendered' \
    '0,/name: goal-tracker-secrets$/s//name: goal-tracker-secret/'
  expect_rejected "the gateway opened to another namespace" 'port 3000 is open to default' \
    '0,/kubernetes.io\/metadata.name: ingress-nginx/s//kubernetes.io\/metadata.name: default/'
fi

if [ "$failures" -gt 0 ]; then
  printf '\nk8s: FAILED (%d step(s) with failures)\n' "$failures"
  exit 1
fi
printf '\nk8s: all checks passed\n'
