#!/usr/bin/env bash
# demo.sh — the README's main job. Grows with each command that lands:
# demo SoftHSMv2 token -> inventory -> plan -> move -> verify.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
go build -o craton .
./craton version

DEMO=${DEMO_DIR:-$(mktemp -d /tmp/craton-demo.XXXXXX)}
eval "$(scripts/demo-token.sh "$DEMO/softhsm")"
echo "demo SoftHSMv2 token in $DEMO/softhsm (SOFTHSM2_CONF=$SOFTHSM2_CONF)"
