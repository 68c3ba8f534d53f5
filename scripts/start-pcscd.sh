#!/usr/bin/env bash
# Starts pcscd with the vsmartcard vpcd driver (readers "Virtual PCD 00 00" and "00 01", listening on
# 127.0.0.1-reachable ports 35963/35964) unless it already runs, and waits until the readers exist.
# Works without systemd (CI containers): pcscd runs in the foreground, in the background of this shell.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ ! -f /etc/reader.conf.d/vpcd ]; then
  echo "start-pcscd: /etc/reader.conf.d/vpcd is missing: install vsmartcard-vpcd (scripts/setup.sh)" >&2
  exit 1
fi

if ! pgrep -x pcscd >/dev/null 2>&1; then
  echo "start-pcscd: starting pcscd"
  # -f: foreground (no daemon fork, so no pid-file games); never -x (auto-exit after 60 s idle).
  $SUDO sh -c 'nohup pcscd -f >/tmp/pcscd.log 2>&1 &'
fi

for _ in $(seq 1 100); do
  # vpcd listens on port 35963 (0x8C7B) once pcscd has loaded the driver.
  if [ -S /run/pcscd/pcscd.comm ] && grep -qi ':8C7B 00000000:0000 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
    echo "start-pcscd: pcscd is up with the vpcd readers"
    exit 0
  fi
  sleep 0.1
done
echo "start-pcscd: pcscd did not come up; its log:" >&2
cat /tmp/pcscd.log >&2 || true
exit 1
