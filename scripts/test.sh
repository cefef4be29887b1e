#!/usr/bin/env bash
# test.sh — the README's test command: installs missing system packages,
# then runs every Go test under the race detector, including the
# integration tests against real SoftHSMv2 tokens, the real engine store
# and real clients loading libcraton_hsm.so. A skipped test is a failure:
# real-token tests must run. internal/testreport prints per-package lines,
# the real-module tests that ran, the full output of any failed or skipped
# test, and "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

report=$(mktemp -d)
trap 'rm -rf "$report"' EXIT
go build -o "$report/testreport" ./internal/testreport
status=0
CGO_ENABLED=1 go test -race -count=1 -json -timeout 25m ./... 2>&1 | "$report/testreport" || status=$?
exit "$status"
