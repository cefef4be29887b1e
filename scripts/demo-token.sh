#!/usr/bin/env bash
# demo-token.sh DIR — build a demo SoftHSMv2 source token under DIR with its
# own softhsm2.conf: RSA/EC/Ed25519 key pairs (extractable and not), AES and
# generic secrets, a certificate bound to its key by CKA_ID, a data object.
# Demo-only PINs are written to DIR/so.pin and DIR/user.pin (mode 0600).
# Prints the line to eval last:  export SOFTHSM2_CONF=DIR/softhsm2.conf
set -euo pipefail
DIR=${1:?usage: demo-token.sh DIR}
MODULE=${MODULE:-/usr/lib/softhsm/libsofthsm2.so}
LABEL=${DEMO_LABEL:-Demo-Token}

mkdir -p "$DIR" && DIR=$(cd "$DIR" && pwd)
rm -rf "$DIR/tokens" "$DIR/work" && mkdir -p "$DIR/tokens" "$DIR/work"
umask 077
printf '12345678\n' >"$DIR/so.pin"
printf '1234\n' >"$DIR/user.pin"
SO_PIN=$(head -n1 "$DIR/so.pin"); PIN=$(head -n1 "$DIR/user.pin")
export SOFTHSM2_CONF="$DIR/softhsm2.conf"
cat >"$SOFTHSM2_CONF" <<CONF
directories.tokendir = $DIR/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
slots.mechanisms = ALL
library.reset_on_fork = false
CONF
softhsm2-util --init-token --free --label "$LABEL" --so-pin "$SO_PIN" --pin "$PIN" >/dev/null

W=$DIR/work
p11() { pkcs11-tool --module "$MODULE" --token-label "$LABEL" --login --pin "$PIN" "$@" >/dev/null 2>"$W/err" \
          || { cat "$W/err" >&2; exit 1; }; }
say() { echo "[demo-token] $*" >&2; }

say "key pairs"
p11 --keypairgen --key-type rsa:2048 --id 01 --label app-signing-key --usage-sign --extractable
p11 --keypairgen --key-type EC:prime256v1 --id 02 --label tls-ec-key --usage-sign --extractable
p11 --keypairgen --key-type rsa:2048 --id 04 --label legacy-nx-key --usage-sign --sensitive

say "certificate for app-signing-key (id 01), signed by the token key"
cat >"$W/engine.cnf" <<CNF
openssl_conf = init
[init]
engines = eng
[eng]
pkcs11 = p11
[p11]
engine_id = pkcs11
MODULE_PATH = $MODULE
PIN = $PIN
init = 0
CNF
# The engine reads the PIN from engine.cnf (mode 0600, deleted below), never from argv.
if OPENSSL_CONF="$W/engine.cnf" openssl req -new -x509 -days 825 -engine pkcs11 -keyform engine \
     -key "pkcs11:token=$LABEL;id=%01;type=private" \
     -subj "/CN=app.example.internal/O=Demo" -out "$W/cert.pem" >/dev/null 2>"$W/err"; then
  openssl x509 -in "$W/cert.pem" -outform DER -out "$W/cert.der"
  p11 --write-object "$W/cert.der" --type cert --id 01 --label app-signing-key
else
  say "libp11 engine unusable ($(head -n1 "$W/err")); continuing without a certificate"
fi

say "Ed25519 (SoftHSMv2 2.6.1 cannot wrap it: the plan regenerates it)"
p11 --keypairgen --key-type EC:edwards25519 --id 03 --label ssh-ed25519 --usage-sign --extractable

say "secret keys and a data object"
p11 --keygen --key-type AES:32 --id 10 --label data-aes256 --extractable --private
p11 --keygen --key-type GENERIC:20 --id 11 --label api-hmac20 --extractable --usage-sign --private
p11 --keygen --key-type AES:32 --id 12 --label vault-aes-nx --sensitive --private
printf 'demo application settings\n' >"$W/data.txt"
p11 --write-object "$W/data.txt" --type data --label app-config --application-label demo-app --private
rm -rf "$W"
say "done: token '$LABEL' in $DIR/tokens"
echo "export SOFTHSM2_CONF=$SOFTHSM2_CONF"
