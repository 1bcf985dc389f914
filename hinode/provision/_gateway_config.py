"""The ready-to-copy gateway YAML of a provisioned gateway, validated by the edge's own loader."""

from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from edge.config import parse_gateway_config
from messages import ConfigError

DEFAULT_FILES_DIR = "/etc/hinode"
DEFAULT_OUTBOX = "/var/lib/hinode/outbox.sqlite"


def load_devices(path: Path) -> list[Any]:
    """The ``devices`` list of a gateway YAML file (or a file that is just such a list)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror or exc}"
        raise ConfigError(msg) from None
    except yaml.YAMLError as exc:
        msg = f"{path}: bad YAML: {exc}"
        raise ConfigError(msg) from None
    devices = data.get("devices", []) if isinstance(data, dict) else data
    if not isinstance(devices, list):
        msg = f"{path}: expected a list of devices (or a gateway config with `devices:`)"
        raise ConfigError(msg)
    return devices


def gateway_yaml(
    *,
    site: str,
    gateway: str,
    broker_url: str,
    files_dir: str,
    outbox_path: str,
    username: str | None = None,
    password: str | None = None,
    devices: list[Any] | None = None,
) -> str:
    """The gateway config text; with no *password* it authenticates by client certificate."""
    files = PurePosixPath(files_dir)
    tls: dict[str, str] = {"ca": str(files / "ca.crt")}
    if password is None:
        tls |= {"cert": str(files / "gateway.crt"), "key": str(files / "gateway.key")}
    broker: dict[str, Any] = {"url": broker_url, "tls": tls}
    if password is not None:
        broker |= {"username": username or gateway, "password": password}
    document = {
        "site": site,
        "gateway": gateway,
        "broker": broker,
        "outbox": {"path": outbox_path},
        "devices": devices or [],
    }
    header = (
        f"# Gateway {gateway} at site {site}, made by `hinode provision gateway`.\n"
        f"# Copy this directory to {files_dir} on the gateway; keep the 0600 files 0600.\n"
        "# Add the installed devices under `devices:` (see docs/technician.md), then run\n"
        f"# `hinode edge check {files / 'gateway.yaml'}`.\n"
    )
    text = header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    parse_gateway_config(text, source=f"gateway config of {gateway}")
    return text
