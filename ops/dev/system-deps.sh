#!/usr/bin/env bash
# Installs the servers the test suite starts for itself (Mosquitto, InfluxDB 1.x) when missing.
# Debian/Ubuntu only; needs root (or sudo). PostgreSQL is expected to be running already.
set -euo pipefail

missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v influxd >/dev/null 2>&1 || [ -x /usr/bin/influxd ] || missing+=(influxdb)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "installing system packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# Package scripts may try to start services; the tests start their own instances.
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
