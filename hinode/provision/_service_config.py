"""The ready-to-use files of a collector or controller that authenticates by client certificate."""

import shlex
from pathlib import PurePosixPath

import yaml
from pydantic import ValidationError

from cloud import CollectorConfig
from messages import ConfigError

#: File names inside a service's bundle directory (``OUT/NAME/``), as a gateway bundle has them.
CA_FILE = "ca.crt"
COLLECTOR_CERT = "collector.crt"
COLLECTOR_KEY = "collector.key"
COLLECTOR_CONFIG = "collector.yaml"
CONTROLLER_CERT = "controller.crt"
CONTROLLER_KEY = "controller.key"
CONTROLLER_ENV = "controller.env"
DEFAULT_SERVICE_DIR = "/etc/hinode"
DEFAULT_DATA_DIR = "/var/lib/hinode"


def collector_yaml(*, name: str, broker_url: str, data_dir: str = DEFAULT_DATA_DIR) -> str:
    """A whole ``hinode cloud run`` config, checked by the collector's own model.

    The TLS files are named relative to the YAML file (the collector resolves them so), so the
    bundle works wherever it is copied, as long as it stays together.
    """
    document = {
        "broker": broker_url,
        "tls": {"ca": CA_FILE, "cert": COLLECTOR_CERT, "key": COLLECTOR_KEY},
        "client_id": name,
        "shared_group": "hinode",
        "data_dir": data_dir,
    }
    header = (
        f"# Collector {name}, made by `hinode provision collector --auth cert`.\n"
        f"# It connects with the client certificate {COLLECTOR_CERT} (CN {name}). Keep\n"
        f"# {COLLECTOR_KEY} 0600 and the files together (paths are relative to this file).\n"
        "# For InfluxDB and PostgreSQL add `store:` and `state:` URLs (docs/storage.md), then\n"
        f"# run `hinode cloud run {COLLECTOR_CONFIG}`.\n"
    )
    text = header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    try:
        CollectorConfig.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        msg = f"collector config of {name}: {where}: {first['msg']}"
        raise ConfigError(msg) from None
    return text


def controller_options(*, broker_url: str, files_dir: str) -> list[str]:
    """The broker options of ``hinode energy run`` and ``hinode mobility run`` for the bundle."""
    files = PurePosixPath(files_dir)
    return [
        "--broker",
        broker_url,
        "--ca-file",
        str(files / CA_FILE),
        "--cert-file",
        str(files / CONTROLLER_CERT),
        "--key-file",
        str(files / CONTROLLER_KEY),
    ]


def controller_env(*, name: str, broker_url: str, files_dir: str) -> str:
    """An environment file (systemd ``EnvironmentFile=`` or ``.`` in a shell) with the options.

    Every value is quoted for the shell, which systemd also accepts.
    """
    files = PurePosixPath(files_dir)
    options = shlex.join(controller_options(broker_url=broker_url, files_dir=files_dir))
    values = {
        "HINODE_BROKER": broker_url,
        "HINODE_CA_FILE": str(files / CA_FILE),
        "HINODE_CERT_FILE": str(files / CONTROLLER_CERT),
        "HINODE_KEY_FILE": str(files / CONTROLLER_KEY),
    }
    lines = [
        f"# Controller {name}, made by `hinode provision controller --auth cert`.",
        f"# Copy this directory to {files} on the controller's host (keep {CONTROLLER_KEY} 0600);",
        "# then run `hinode energy run` or `hinode mobility run` with these options:",
        f"#   {options}",
        "# or, with this file loaded (`. ./controller.env`, or systemd EnvironmentFile=):",
        '#   --broker "$HINODE_BROKER" --ca-file "$HINODE_CA_FILE" \\',
        '#   --cert-file "$HINODE_CERT_FILE" --key-file "$HINODE_KEY_FILE"',
        *(f"{key}={shlex.quote(value)}" for key, value in values.items()),
    ]
    return "\n".join(lines) + "\n"
