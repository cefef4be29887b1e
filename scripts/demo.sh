#!/usr/bin/env bash
# demo.sh — the README's main job: build a demo SoftHSMv2 token, then run the
# migration guide end to end into the embedded Craton HSM engine:
# inventory -> mechanisms -> plan (+ runbook) -> move -> regenerate -> rotate
# PINs -> verify (with a real application transaction through
# libcraton_hsm.so). Everything lives under one directory (DEMO_DIR, default
# a fresh /tmp/craton-demo.*); nothing outside it is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ROOT=$PWD
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "build craton and libcraton_hsm.so"
make -s build lib
CRATON=$ROOT/craton
$CRATON version

DEMO=${DEMO_DIR:-$(mktemp -d /tmp/craton-demo.XXXXXX)}
mkdir -p "$DEMO" && cd "$DEMO"
step "demo SoftHSMv2 source token in $DEMO/softhsm"
eval "$("$ROOT/scripts/demo-token.sh" "$DEMO/softhsm")"
SRC_PIN=$DEMO/softhsm/user.pin

# The target engine: its own store and audit log under $DEMO/craton.
# Demo-only PINs, random per run, in 0600 files (never on a command line).
umask 077
mkdir -p craton
cat > craton/craton_hsm.yaml <<CONF
token:
  storage_path: ./store
  persist_objects: true
audit:
  enabled: true
  log_path: ./audit.jsonl
CONF
export CRATON_HSM_CONFIG=$DEMO/craton/craton_hsm.yaml
pin() { printf '%s-%s\n' "$1" "$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"; }
pin So > craton/so.pin; pin User > craton/user.pin
pin So > craton/so-rotated.pin; pin User > craton/user-rotated.pin
FROM=(--from-token Demo-Token --from-pin-file "$SRC_PIN")

step "1. inventory of the source token (pre-migration record: inventory.csv)"
$CRATON migrate inventory "${FROM[@]}" --output csv --out inventory.csv
$CRATON migrate inventory "${FROM[@]}" --output table

step "2. mechanisms: source vs target, needs of the keys (--strict)"
$CRATON migrate mechanisms "${FROM[@]}" --strict --output csv --out mechanisms.csv
echo "written: $DEMO/mechanisms.csv"

step "3. move: initialise the target token with the source label, wrap/unwrap, prove each key"
$CRATON migrate move "${FROM[@]}" --init-target --to-so-pin-file craton/so.pin --to-pin-file craton/user.pin --output table

step "4. plan file and operator runbook (what was done, and what remains)"
TO=(--to-pin-file craton/user.pin)
$CRATON migrate plan "${FROM[@]}" "${TO[@]}" --output yaml --out plan.yaml
$CRATON migrate plan "${FROM[@]}" "${TO[@]}" --output markdown --out RUNBOOK.md
echo "written: $DEMO/plan.yaml, $DEMO/RUNBOOK.md"

step "5. regenerate what cannot leave SoftHSMv2, with CSRs"
$CRATON migrate regenerate "${FROM[@]}" "${TO[@]}" --plan plan.yaml --csr-dir csr --output table
for csr in csr/*.csr; do openssl req -verify -noout -in "$csr" 2>&1 | sed "s|^|$csr: |"; done

step "6. rotate the target PINs away from the migration values"
$CRATON token set-pin --token Demo-Token --pin-file craton/user.pin --new-pin-file craton/user-rotated.pin
$CRATON token set-pin --so --token Demo-Token --pin-file craton/so.pin --new-pin-file craton/so-rotated.pin

step "7. verify: the cutover checklist against both modules"
# The representative transaction: GnuTLS p11tool signs with the migrated key
# through libcraton_hsm.so, taking the PIN from GNUTLS_PIN (not argv).
cat > app-transaction.sh <<'APP'
#!/bin/sh
set -e
GNUTLS_PIN=$(cat "$APP_PIN_FILE") p11tool --provider "$PKCS11_MODULE_PATH" --login \
  --test-sign "pkcs11:token=$CRATON_TOKEN_LABEL;object=app-signing-key;type=private"
APP
chmod +x app-transaction.sh
export APP_PIN_FILE=$DEMO/craton/user-rotated.pin
$CRATON migrate verify "${FROM[@]}" --to-pin-file craton/user-rotated.pin --to-so-pin-file craton/so-rotated.pin \
  --inventory inventory.csv --plan plan.yaml --exec ./app-transaction.sh --exec-module-path "$ROOT/libcraton_hsm.so" \
  --output markdown --out cutover-report.md && status=0 || status=$?
cat cutover-report.md
$CRATON audit verify
echo
echo "demo directory: $DEMO (inventory.csv, plan.yaml, RUNBOOK.md, csr/, cutover-report.md, craton/)"
exit "$status"
