#!/usr/bin/env bash
# Install the Hinode gateway agent on 64-bit Raspberry Pi OS (Debian 12 "bookworm", Python 3.11).
#
#   sudo ops/pi/install.sh [SOURCE]      SOURCE: a hinode wheel (uv build) or a source checkout;
#                                        default: the checkout this script is in
#   sudo ops/pi/install.sh --dry-run     print what would be done, change nothing
#
# What it does: system packages (BlueZ for BLE), a `hinode` system user in the dialout and
# bluetooth groups, a virtual environment in /opt/hinode/.venv (with uv when present, else pip),
# /etc/hinode for the provisioned bundle (0750, root:hinode), the outbox under /var/lib/hinode
# (systemd's StateDirectory), the systemd unit from ops/systemd plus the Pi drop-in from here,
# and a journald size cap. It does not start the agent: copy the bundle from
# `hinode provision gateway` to /etc/hinode first, run `hinode edge check`, then
# `systemctl enable --now hinode-edge`. docs/technician.md walks through it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
prefix=/opt/hinode
dry_run=0
source_path=""

for argument in "$@"; do
    case "$argument" in
    --dry-run) dry_run=1 ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) source_path="$argument" ;;
    esac
done
source_path="${source_path:-$repo}"

run() {
    echo "+ $*"
    if [ "$dry_run" -eq 0 ]; then
        "$@"
    fi
}

fail() {
    echo "error: $*" >&2
    exit 1
}

# -- checks -------------------------------------------------------------------------------------
if [ "$(uname -m)" != "aarch64" ]; then
    [ "$dry_run" -eq 1 ] || fail "64-bit Raspberry Pi OS (aarch64) expected, this is $(uname -m)"
    echo "note: not aarch64 ($(uname -m)); continuing because of --dry-run"
fi
if [ "$dry_run" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
    fail "run as root (sudo)"
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || fail "Python 3.11 or newer expected (Raspberry Pi OS bookworm ships 3.11)"
[ -e "$source_path" ] || fail "no such wheel or source directory: $source_path"

# -- system -------------------------------------------------------------------------------------
run apt-get update
run apt-get install -y --no-install-recommends python3-venv bluez ca-certificates
if ! id hinode >/dev/null 2>&1; then
    run useradd --system --home-dir /var/lib/hinode --no-create-home \
        --shell /usr/sbin/nologin --groups dialout,bluetooth hinode
fi

# -- the agent ----------------------------------------------------------------------------------
run install -d -m 0755 "$prefix"
if command -v uv >/dev/null 2>&1; then
    run uv venv --python python3 "$prefix/.venv"
    run uv pip install --python "$prefix/.venv/bin/python" "$source_path"
else
    run python3 -m venv "$prefix/.venv"
    run "$prefix/.venv/bin/pip" install --upgrade pip
    run "$prefix/.venv/bin/pip" install "$source_path"
fi
run ln -sf "$prefix/.venv/bin/hinode" /usr/local/bin/hinode

# -- configuration, state, service --------------------------------------------------------------
run install -d -m 0750 -o root -g hinode /etc/hinode
run install -d -m 0750 -o hinode -g hinode /var/lib/hinode
run install -m 0644 "$repo/ops/systemd/hinode-edge.service" /etc/systemd/system/hinode-edge.service
run install -d -m 0755 /etc/systemd/system/hinode-edge.service.d
run install -m 0644 "$here/hinode-edge.service.d/pi.conf" /etc/systemd/system/hinode-edge.service.d/pi.conf
run install -d -m 0755 /etc/systemd/journald.conf.d
run install -m 0644 "$here/journald-hinode.conf" /etc/systemd/journald.conf.d/hinode.conf
run systemctl daemon-reload
run systemctl restart systemd-journald

cat <<'NEXT'
Installed. Next:
  1. copy the bundle from `hinode provision gateway` to /etc/hinode
     and give it to the agent: chown -R hinode:hinode /etc/hinode (secrets stay 0600)
  2. sudo -u hinode hinode edge check /etc/hinode/gateway.yaml
  3. systemctl enable --now hinode-edge && journalctl -u hinode-edge -f
NEXT
