#!/usr/bin/env bash
# fuzz.sh — run every fuzz target for FUZZTIME each (default 30s).
# A crasher is written by go test under <package>/testdata/fuzz/<Target>/;
# commit it: it then runs as a regression test in every ./scripts/test.sh.
#   FUZZTIME=5m ./scripts/fuzz.sh          # long runs (make fuzz)
#   ./scripts/fuzz.sh FuzzReadPlan         # one target
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
targets=(
  "./capi FuzzDecode"              # C ABI: templates, mechanism parameters, length idioms
  "./hsm FuzzCreateObject"         # attribute templates into the engine
  "./hsm/store FuzzUnseal"         # store record codec
  "./hsm/mech FuzzUnwrap"          # KW/KWP unwrap and the PKCS#8 parser
  "./inventory FuzzReadCSV"        # inventory CSV reader
  "./wrapmove FuzzReadPlan"        # plan YAML reader
)
status=0
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  if (($# > 0)) && [[ " $* " != *" $name "* ]]; then continue; fi
  echo "== $name ($pkg, $FUZZTIME)"
  if ! CGO_ENABLED=1 go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME"; then
    echo "FAIL: $name — see the crasher under $pkg/testdata/fuzz/$name/"
    status=1
  fi
done
exit "$status"
