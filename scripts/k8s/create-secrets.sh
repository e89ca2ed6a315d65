#!/usr/bin/env bash
# Prints the Secret `goal-tracker-secrets` that the manifests reference but never contain: a fresh
# ES256 key pair (P-256, PKCS#8 private / SPKI public PEM, as shared/auth/keys.ts generates) and,
# when given, SMTP_URL. Pipe it to kubectl; nothing is written to disk outside a private temp dir.
#
#   scripts/k8s/create-secrets.sh goal-tracker-dev | kubectl apply -f -
#   scripts/k8s/create-secrets.sh goal-tracker 'smtp://user:pass@mail.example.com:587' | kubectl apply -f -
#
# Replacing the pair logs every user out within the access-token lifetime (<= 15 min); refresh
# tokens are opaque and keep working. In production prefer your secret store (External Secrets,
# Sealed Secrets, ...) with the same name and keys.
set -euo pipefail

namespace=${1:?usage: create-secrets.sh NAMESPACE [SMTP_URL]}
smtp_url=${2:-}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/private.pem" 2>/dev/null
openssl pkey -in "$tmp/private.pem" -pubout -out "$tmp/public.pem" 2>/dev/null

block() { sed 's/^/    /' "$1"; }
# A YAML single-quoted scalar: the only escape is '' for '.
quote() { printf "'%s'" "${1//\'/\'\'}"; }

cat <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: goal-tracker-secrets
  namespace: $namespace
  labels:
    app.kubernetes.io/name: goal-tracker
    app.kubernetes.io/part-of: goal-tracker
type: Opaque
stringData:
  JWT_PRIVATE_KEY: |
$(block "$tmp/private.pem")
  JWT_PUBLIC_KEY: |
$(block "$tmp/public.pem")
YAML
if [ -n "$smtp_url" ]; then
  printf '  SMTP_URL: %s\n' "$(quote "$smtp_url")"
fi
