"""Gateway configuration: frozen models of a gateway's YAML file and its loader."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from messages import ConfigError
from messages.ids import Identifier

PositiveSeconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
ProfileName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,100}$")]
PointName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
UnitId = Annotated[int, Field(ge=0, le=247)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TlsConfig(_Model):
    """Files for a TLS connection; the client certificate and key come together or not at all."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    insecure_skip_verify: bool = False

    @model_validator(mode="after")
    def _cert_with_key(self) -> Self:
        if (self.cert is None) != (self.key is None):
            msg = "cert and key must be given together"
            raise ValueError(msg)
        return self


class BrokerConfig(_Model):
    """Where and how the gateway connects to its MQTT broker."""

    url: str
    protocol: Literal["auto", "v5", "v311"] = "auto"
    tls: TlsConfig | None = None
    username: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    password: Annotated[str, StringConstraints(max_length=500)] | None = None
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 30
    connect_timeout_s: PositiveSeconds = 10.0
    #: Unacknowledged QoS 1 messages at most; paho slows sharply beyond about a thousand.
    max_inflight: Annotated[int, Field(ge=1, le=10_000)] = 1000
    reconnect_min_s: PositiveSeconds = 0.5
    reconnect_max_s: PositiveSeconds = 60.0

    @field_validator("url")
    @classmethod
    def _broker_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts"):
            msg = f"broker url must start with mqtt:// or mqtts://, got {url!r}"
            raise ValueError(msg)
        if not parts.hostname:
            msg = f"broker url {url!r} has no host"
            raise ValueError(msg)
        try:
            _ = parts.port
        except ValueError:
            msg = f"broker url {url!r} has a bad port"
            raise ValueError(msg) from None
        if parts.path not in ("", "/"):
            msg = f"broker url {url!r} must not have a path"
            raise ValueError(msg)
        return url

    @model_validator(mode="after")
    def _password_needs_user(self) -> Self:
        if self.password is not None and self.username is None:
            msg = "a password needs a username"
            raise ValueError(msg)
        if self.reconnect_max_s < self.reconnect_min_s:
            msg = "reconnect_max_s must not be below reconnect_min_s"
            raise ValueError(msg)
        return self

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def uses_tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts" or self.tls is not None


class OutboxConfig(_Model):
    """The durable outbox: where it lives and how much it may hold before dropping the oldest."""

    path: Path
    max_rows: Annotated[int, Field(ge=10)] = 1_000_000
    max_bytes: Annotated[int, Field(ge=10_000)] = 1_000_000_000
    max_age_s: PositiveSeconds = 7 * 24 * 3600.0


class BatchingConfig(_Model):
    """How readings of one device are gathered into one telemetry message."""

    max_age_s: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.0
    #: A message may exceed this by one poll; the wire allows 10,000 readings per message.
    max_readings: Annotated[int, Field(ge=1, le=5_000)] = 500


class CommandsConfig(_Model):
    """Command handling; chargers fall back to their fail-safe current when the cloud is silent."""

    heartbeat_timeout_s: PositiveSeconds = 120.0


class PointLimit(_Model):
    """A narrower range for one writable point of one installed device (e.g. its fuse)."""

    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            msg = "min must not exceed max"
            raise ValueError(msg)
        return self


class _Device(_Model):
    id: Identifier
    profile: ProfileName
    poll_interval_s: PositiveSeconds = 1.0


class _ModbusDevice(_Device):
    unit: UnitId = 1
    timeout_s: PositiveSeconds = 1.0
    limits: Mapping[PointName, PointLimit] = {}


class ModbusTcpDevice(_ModbusDevice):
    """A Modbus device on TCP: Modbus/TCP framing, or RTU frames tunnelled over TCP."""

    kind: Literal["modbus_tcp"]
    host: Annotated[str, StringConstraints(min_length=1, max_length=253)]
    port: Annotated[int, Field(ge=1, le=65535)] = 502
    framer: Literal["socket", "rtu"] = "socket"


class ModbusRtuDevice(_ModbusDevice):
    """A Modbus device on an RS-485 line; devices sharing a serial port share one bus owner."""

    kind: Literal["modbus_rtu"]
    serial: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    baud: Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8


BleDeviceType = Literal[
    "blood_pressure", "pulse_oximeter", "glucose", "thermometer", "weight_scale", "heart_rate"
]
BLE_DEVICE_TYPES: tuple[str, ...] = get_args(BleDeviceType)


class BleDevice(_Device):
    """A Bluetooth LE vital-sign device, kept connected by one session of the gateway.

    *device_type* says which GATT service to use; when left out, *profile* must name one.
    """

    kind: Literal["ble"]
    address: Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")]
    device_type: BleDeviceType | None = None

    @model_validator(mode="after")
    def _known_type(self) -> Self:
        if self.device_type is None and self.profile not in BLE_DEVICE_TYPES:
            msg = (
                f"device_type missing and profile {self.profile!r} names no device type; "
                f"expected one of {', '.join(BLE_DEVICE_TYPES)}"
            )
            raise ValueError(msg)
        return self

    @property
    def ble_type(self) -> BleDeviceType:
        """The device type, given or taken from the profile name."""
        if self.device_type is not None:
            return self.device_type
        return self.profile  # type: ignore[return-value]  # checked by _known_type


class GnssDevice(_Device):
    """A GNSS receiver on a serial port; the device id is the vehicle id on the wire."""

    kind: Literal["gnss"]
    serial: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    baud: Literal[4800, 9600, 19200, 38400, 57600, 115200] = 9600
    #: What the receiver rides on; the kind of the vehicle state when its interface reports one.
    vehicle: Literal["shuttle", "scooter", "bike"] | None = None
    #: Fixes gathered into one ``position/{vehicle}`` message (the receiver sends one a second).
    publish_interval_s: Annotated[float, Field(ge=0.1, le=3600, allow_inf_nan=False)] = 5.0


#: Shorter keys make the pseudonym guessable from the (few) device addresses of a site.
MIN_PSEUDONYM_KEY_BYTES = 16
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"


class VitalsConfig(_Model):
    """How vital signs leave the gateway: the per-site pseudonym key and the devices' time zone.

    The key (hex, at least 16 bytes) is read from a file only its owner may read (mode 0600 or
    stricter) or from an environment variable; it is never logged and never kept in the config.
    """

    pseudonym_key_file: Path | None = None
    pseudonym_key_env: Annotated[str, StringConstraints(pattern=_ENV_NAME)] | None = None
    #: Vital-sign devices keep local time without a zone: the zone they were set in.
    device_timezone: str = "Asia/Tokyo"

    @model_validator(mode="after")
    def _one_key_source(self) -> Self:
        if (self.pseudonym_key_file is None) == (self.pseudonym_key_env is None):
            msg = "give exactly one of pseudonym_key_file and pseudonym_key_env"
            raise ValueError(msg)
        return self

    @field_validator("device_timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"unknown time zone {name!r}"
            raise ValueError(msg) from None
        return name

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.device_timezone)

    def read_key(self, environ: Mapping[str, str] | None = None) -> bytes:
        """The pseudonym key; ConfigError names the source (never the key) when it is unusable."""
        if self.pseudonym_key_file is not None:
            where = f"vitals.pseudonym_key_file {self.pseudonym_key_file}"
            path = self.pseudonym_key_file
            try:
                mode = path.stat().st_mode & 0o777
                if mode & 0o077:
                    msg = f"{where}: mode {mode:04o} lets others read it, expected 0600"
                    raise ConfigError(msg)
                text = path.read_text(encoding="ascii")
            except OSError as exc:
                msg = f"{where}: cannot read: {exc.strerror or type(exc).__name__}"
                raise ConfigError(msg) from None
            except UnicodeDecodeError:
                msg = f"{where}: expected the key as hex digits"
                raise ConfigError(msg) from None
        else:
            where = f"vitals.pseudonym_key_env {self.pseudonym_key_env}"
            env = os.environ if environ is None else environ
            text = env.get(str(self.pseudonym_key_env), "")
            if not text:
                msg = f"{where}: the variable is not set"
                raise ConfigError(msg)
        try:
            key = bytes.fromhex(text.strip())
        except ValueError:
            msg = f"{where}: expected the key as hex digits"
            raise ConfigError(msg) from None
        if len(key) < MIN_PSEUDONYM_KEY_BYTES:
            msg = f"{where}: the key must be at least {MIN_PSEUDONYM_KEY_BYTES} bytes"
            raise ConfigError(msg)
        return key


DeviceConfig = Annotated[
    ModbusTcpDevice | ModbusRtuDevice | BleDevice | GnssDevice, Field(discriminator="kind")
]
DEVICE_KINDS = ("modbus_tcp", "modbus_rtu", "ble", "gnss")


class GatewayConfig(_Model):
    """One gateway: identity, broker, outbox, batching, commands and its devices."""

    site: Identifier
    gateway: Identifier
    broker: BrokerConfig
    outbox: OutboxConfig
    batching: BatchingConfig = BatchingConfig()
    commands: CommandsConfig = CommandsConfig()
    devices: Annotated[list[DeviceConfig], Field(max_length=1000)] = []
    #: Needed as soon as one BLE device is configured (after devices: its check reads them).
    vitals: VitalsConfig | None = Field(default=None, validate_default=True)

    @field_validator("devices")
    @classmethod
    def _unique_ids(cls, devices: list[DeviceConfig]) -> list[DeviceConfig]:
        seen: set[str] = set()
        for device in devices:
            if device.id in seen:
                msg = f"device id {device.id!r} appears twice"
                raise ValueError(msg)
            seen.add(device.id)
        return devices

    @field_validator("vitals")
    @classmethod
    def _vitals_for_ble(
        cls, vitals: VitalsConfig | None, info: ValidationInfo
    ) -> VitalsConfig | None:
        devices = info.data.get("devices", [])
        if vitals is None and any(isinstance(d, BleDevice) for d in devices):
            msg = "missing: BLE devices need a pseudonym key (pseudonym_key_file or _env)"
            raise ValueError(msg)
        return vitals

    def device(self, device_id: str) -> DeviceConfig | None:
        return next((d for d in self.devices if d.id == device_id), None)


def load_gateway_config(path: Path | str) -> GatewayConfig:
    """Read and validate a gateway YAML file; raise ConfigError naming the file and YAML path."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror or exc}"
        raise ConfigError(msg) from None
    except UnicodeDecodeError:
        msg = f"{path}: not UTF-8 text"
        raise ConfigError(msg) from None
    return parse_gateway_config(text, source=str(path))


def parse_gateway_config(text: str, *, source: str = "<config>") -> GatewayConfig:
    """Validate gateway YAML *text*; errors name *source* and the YAML path."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        msg = f"{source}: {where}bad YAML: {exc.problem or exc}"
        raise ConfigError(msg) from None
    except yaml.YAMLError as exc:
        msg = f"{source}: bad YAML: {exc}"
        raise ConfigError(msg) from None
    if not isinstance(data, dict):
        msg = f"{source}: expected a mapping at the top level, got {type(data).__name__}"
        raise ConfigError(msg)
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {describe_errors(exc)}") from None


def describe_errors(exc: ValidationError, *, limit: int = 5) -> str:
    """Pydantic's errors as ``yaml.path: what was expected`` joined on one line."""
    parts = [_describe(error) for error in exc.errors(include_url=False)[:limit]]
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def _describe(error: Any) -> str:
    loc = list(error["loc"])
    kind = error["type"]
    message = str(error["msg"])
    if kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag")
        loc.append("kind")
        message = f"unknown kind {tag!r}, expected one of {', '.join(DEVICE_KINDS)}"
    elif kind == "union_tag_not_found":
        loc.append("kind")
        message = f"missing, expected one of {', '.join(DEVICE_KINDS)}"
    elif kind == "missing":
        message = "missing required field"
    elif kind == "extra_forbidden":
        message = "unknown field"
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return f"{yaml_path(loc)}: {message}"


def yaml_path(loc: list[int | str]) -> str:
    """``['devices', 2, 'modbus_tcp', 'host']`` → ``devices[2].host`` (the union tag dropped)."""
    text = ""
    previous: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(previous, int) and part in DEVICE_KINDS:
            pass
        else:
            text += f".{part}" if text else part
        previous = part
    return text or "(top level)"
