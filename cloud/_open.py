"""Stores from URLs (or a data directory): the one place that picks an adapter.

Time series: ``sqlite:///PATH`` (relative; ``sqlite:////abs/path`` is absolute) or
``influx://HOST:PORT?org=ORG&bucket=BUCKET&token=TOKEN`` (``influxs://`` for HTTPS; the token
may instead come from the environment variable ``HINODE_INFLUX_TOKEN``).
State: ``sqlite:///PATH`` or ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?schema=NAME]``.
A plain directory D means ``D/timeseries.sqlite`` and ``D/state.sqlite``.
"""

import importlib
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cloud._ports import StateStore, TimeSeriesStore
from cloud._sql_state import SqlStateStore
from cloud._sqlite_timeseries import SqliteTimeSeries
from messages import ConfigError

TIMESERIES_FILE = "timeseries.sqlite"
STATE_FILE = "state.sqlite"


def _is_url(text: str) -> bool:
    return "://" in text


def timeseries_url(url_or_data_dir: str | Path) -> str:
    """The time-series URL meant by *url_or_data_dir*."""
    text = str(url_or_data_dir)
    return text if _is_url(text) else f"sqlite:///{Path(text) / TIMESERIES_FILE}"


def state_url(url_or_data_dir: str | Path) -> str:
    """The state-store URL meant by *url_or_data_dir*."""
    text = str(url_or_data_dir)
    return text if _is_url(text) else f"sqlite:///{Path(text) / STATE_FILE}"


def open_timeseries(url_or_data_dir: str | Path) -> TimeSeriesStore:
    """Open the time-series store at a URL, or the SQLite default under a data directory."""
    url = timeseries_url(url_or_data_dir)
    scheme = url.split("://", 1)[0]
    if scheme == "sqlite":
        return SqliteTimeSeries(Path(url.removeprefix("sqlite:///")))
    if scheme in {"influx", "influxs"}:
        return _open_influx(url)
    msg = f"unsupported time-series store URL {url!r}: expected sqlite:///PATH or influx://…"
    raise ConfigError(msg)


def open_state(url_or_data_dir: str | Path) -> StateStore:
    """Open the state store at a URL, or the SQLite default under a data directory."""
    url = state_url(url_or_data_dir)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return SqlStateStore(url)


def _open_influx(url: str) -> TimeSeriesStore:
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - {"org", "bucket", "token"})
    if not parts.hostname or unknown or "bucket" not in query:
        msg = (
            f"InfluxDB URL {_redact(url)!r}: expected "
            "influx://HOST:PORT?org=ORG&bucket=BUCKET&token=TOKEN"
            + (f" (unknown parameters {unknown})" if unknown else "")
        )
        raise ConfigError(msg)
    http = "https" if parts.scheme == "influxs" else "http"
    try:
        port = parts.port or 8086
    except ValueError:
        msg = f"InfluxDB URL {_redact(url)!r}: the port is not a number"
        raise ConfigError(msg) from None
    token = query.get("token") or os.environ.get("HINODE_INFLUX_TOKEN", "")
    # Imported here: influxdb-client takes most of a second to import and most runs use SQLite.
    influx = importlib.import_module("cloud._influx")
    store: TimeSeriesStore = influx.InfluxTimeSeries(
        f"{http}://{parts.hostname}:{port}",
        org=query.get("org", "hinode"),
        bucket=query["bucket"],
        token=token,
        url=_redact(url),
    )
    return store


def _redact(url: str) -> str:
    parts = urlsplit(url)
    query = "&".join(
        f"{key}=***" if key == "token" else f"{key}={value}"
        for key, values in parse_qs(parts.query).items()
        for value in values
    )
    return parts._replace(query=query).geturl()
