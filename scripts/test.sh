#!/usr/bin/env bash
# test.sh — the README's test command: installs missing system packages,
# then runs every Go test under the race detector, including the
# integration tests against real SoftHSMv2 tokens and the real engine store.
# A skipped test is a failure: real-token tests must run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
CGO_ENABLED=1 go test -race -count=1 -v -timeout 20m ./... >"$log" 2>&1 || status=$?

# Per-package results and every top-level test that touched a real module.
grep -E '^(ok|FAIL|---|panic:)|^\s+--- FAIL' "$log" | grep -vE '^--- PASS' || true
echo
echo "Real-module tests run (SoftHSMv2 tokens, engine store, pkcs11-tool):"
grep -E '^--- PASS: Test[A-Za-z0-9_]*(SoftHSM|Softhsm|Fixture|Store|Engine|Real|PKCS11Tool|Interop)' "$log" | sed 's/^/  /' || true

passed=$(grep -cE '^\s*--- PASS' "$log" || true)
failed=$(grep -cE '^\s*--- FAIL' "$log" || true)
skipped=$(grep -cE '^\s*--- SKIP' "$log" || true)
if ((skipped > 0)); then
  echo
  echo "Skipped tests (not allowed: real-token tests must run):"
  grep -E '^\s*--- SKIP' -A2 "$log" || true
  status=1
fi
if ((status != 0)); then
  echo
  echo "Failures (full log follows the summary):"
  grep -nE '^\s*--- FAIL|^panic:|^FAIL' "$log" || true
  tail -n 200 "$log"
fi
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
