#!/usr/bin/env bash
# Installs everything the build, the tests and the benchmarks need on a fresh Debian machine with
# Swift installed. Idempotent. Run as root, or as a user with sudo.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(
  pkg-config
  libssl-dev          # libcrypto: HMAC key schedule, AES, RNG
  liboath-dev         # liboath: the reference the benchmark measures against
  oathtool            # reference generator for differential tests
  valgrind            # constant-time proof (memcheck client requests, <valgrind/memcheck.h>)
  python3
  libpcsclite-dev     # PC/SC client library
  pcscd               # the PC/SC daemon the tests talk to
  vsmartcard-vpcd     # pcscd's virtual reader driver, for the virtual OATH card
  yubikey-manager     # ykman: independent YKOATH client for cross-checks
  libsqlite3-dev      # SQLite for GRDB (the embedded store)
  libgoogle-perftools-dev # TCMalloc (libtcmalloc_minimal), linked into mfactl in place of glibc malloc
  postgresql          # the shared store's server, for the PostgreSQL conformance tests
  libqrencode-dev     # QR codes of otpauth URIs
  zbar-tools          # zbarimg: decodes our QR PNGs back in tests
  curl                # HTTP checks in tests
  wrk                 # the HTTP load generator of scripts/bench-service.sh (its doc example runs in the tests)
  libxml2-dev         # libxml2's pull parser: PSKC seed files
  python3-pskc        # python-pskc: the reference PSKC writer of the import tests
  libusb-1.0-0-dev    # libusb: USB tokens (YubiKey OTP HID interface)
  umockdev            # emulated USB devices for the libusb tests (libumockdev-preload)
  gir1.2-umockdev-1.0 # umockdev's GObject introspection data: the Python virtual YubiKey
  python3-gi          # PyGObject, to load UMockdev from Python
  python3-cryptography # AES for the virtual YubiKey's Yubico OTPs
  openssl             # openssl dgst -hmac: independent HMAC-SHA1 for challenge-response tests
  systemd             # systemd-analyze: checks Docs/deploy/mfa-bridge.service in the tests (nothing is started)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# pyotp: reference generator for differential tests (PyPI).
if ! python3 -c 'import pyotp' 2>/dev/null; then
  echo "setup: installing pyotp"
  python3 -m pip install -q pyotp 2>/dev/null || python3 -m pip install -q --break-system-packages pyotp
fi
# schemathesis: checks the live API against Docs/openapi.yaml (PyPI).
if ! python3 -c 'import schemathesis' 2>/dev/null; then
  echo "setup: installing schemathesis"
  python3 -m pip install -q schemathesis 2>/dev/null || python3 -m pip install -q --break-system-packages schemathesis
fi
echo "setup: ready"
