"""The collector's configuration file (YAML), validated into a frozen model."""

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from cloud._mqtt import BrokerTls
from messages import ConfigError

ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
GroupName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class CollectorConfig(BaseModel):
    """``hinode cloud run CONFIG``. Relative paths are relative to the file's directory.

    Example::

        broker: mqtt://127.0.0.1:1883
        # tls: {ca: ca.crt, cert: collector.crt, key: collector.key}
        client_id: collector-1
        data_dir: /var/lib/hinode
        # store: influx://influxdb:8086?org=hinode&bucket=hinode&token=...
        # state: postgresql://hinode@postgres:5432/hinode
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    broker: str = "mqtt://127.0.0.1:1883"
    #: A private CA and a client certificate; given, the connection uses TLS.
    tls: BrokerTls | None = None
    client_id: ClientId
    shared_group: GroupName | None = "hinode"
    protocol: Literal["auto", "v5", "v311"] = "auto"
    data_dir: Path = Path("data")
    store: str | None = None
    state: str | None = None
    batch_max: int = Field(default=1000, ge=1, le=100_000)
    batch_age_s: float = Field(default=0.2, gt=0, le=60)
    log_level: Literal["debug", "info", "warning", "error"] = "info"


def load_config(path: Path) -> CollectorConfig:
    """Read and validate *path*; a ConfigError names the file, the place in it and the problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror or exc}"
        raise ConfigError(msg) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        msg = f"{path}:{where} not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise ConfigError(msg) from None
    if not isinstance(raw, dict):
        msg = f"{path}: expected a mapping of settings, got {type(raw).__name__}"
        raise ConfigError(msg)
    try:
        config = CollectorConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        msg = f"{path}: {where}: {first['msg']}"
        raise ConfigError(msg) from None
    if not config.data_dir.is_absolute():
        config = config.model_copy(update={"data_dir": path.parent / config.data_dir})
    if config.tls is not None:
        files = {
            name: path.parent / value
            for name, value in config.tls.model_dump().items()
            if value is not None
        }
        config = config.model_copy(update={"tls": config.tls.model_copy(update=files)})
    return config
