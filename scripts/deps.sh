#!/usr/bin/env bash
# deps.sh — install the system packages craton's demo and tests need, when
# missing. Safe to run repeatedly; needs root (or sudo) only if something is missing.
set -euo pipefail

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# Interop tests drive real clients: NSS tools and a JDK (SunPKCS11) too;
# libssl-dev builds the optional OpenSSL RSA backend (-tags openssl), time(1) measures peak RSS in make bench.
for p in softhsm2 opensc p11-kit p11-kit-modules gnutls-bin libengine-pkcs11-openssl openssl gcc libc6-dev \
         libnss3-tools openjdk-17-jdk-headless libssl-dev time; do
  have_pkg "$p" || need+=("$p")
done

if ((${#need[@]})); then
  echo "[deps] installing: ${need[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >&2
fi

if ! command -v go >/dev/null 2>&1; then
  if [[ -x /usr/local/go/bin/go ]]; then
    export PATH=/usr/local/go/bin:$PATH
  else
    echo "[deps] Go is not installed: install Go 1.26 (https://go.dev/doc/install) and re-run" >&2
    exit 1
  fi
fi
