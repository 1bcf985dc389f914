"""Hinode's cloud side: the collector and its stores (controllers live in subpackages).

The collector and storage API (the ``cloud._*`` modules behind it are private)::

    from cloud import Collector, open_timeseries, open_state

    timeseries = open_timeseries(data_dir)  # or sqlite:///PATH, influx://HOST:PORT?org=…&bucket=…
    state = open_state(data_dir)            # or sqlite:///PATH, postgresql://USER@HOST:PORT/DB
    collector = Collector(broker_url, timeseries, state, clock, client_id="collector-1")
    async with collector:                   # connected and subscribed inside
        ...                                 # collector.stats counts as it goes
    # or: await collector.run()  (until cancelled)

``Collector(broker_url, timeseries, state, clock, *, client_id, shared_group="hinode",
protocol="auto", batch_max=1000, batch_age_s=0.2, tls=None)`` subscribes to the telemetry, vitals,
position and events topics (as the MQTT 5 shared subscription ``$share/<shared_group>/…`` when
the broker speaks MQTT 5, plainly on MQTT 3.1.1) and to the state topic (always plainly, so that
every collector sees the retained births). It validates each message with ``messages.decode``,
drops duplicates by (gateway, boot_id, seq), writes in batches of at most ``batch_max`` messages or
readings or ``batch_age_s`` seconds, and acknowledges a QoS 1 message only after its batch is in
both stores. Invalid messages are dead-lettered (topic, payload, reason, time), counted, and
acknowledged. ``collector.stats`` is a :class:`CollectorStats` — received, stored_readings,
duplicates_dropped, invalid, gaps (``gap_list()``), devices (per device: readings, last_ts,
last_values) — with ``as_dict()`` for reports. ``await collector.wait_ready()`` waits for the
subscription (``async with`` does it for you); ``collector.protocol`` is then ``"v5"`` or
``"v311"`` and ``collector.connected`` tells whether the broker connection is up. Run collectors
that should survive a crash with a fixed ``client_id``: their broker session, and the messages
they had not yet acknowledged, come back when the same id connects again. ``tls`` is a
:class:`BrokerTls` (``ca``, ``cert``, ``key`` files) for a broker with a private CA or client
certificates; :func:`broker_ssl_context` makes the ``ssl.SSLContext`` for a broker URL and
those files, for every paho client of ours.

Stores are ``typing.Protocol`` ports — :class:`TimeSeriesStore` (``write``, ``query``,
``close``) and :class:`StateStore` (``record``, ``gateways``, ``devices``, ``gaps``,
``dead_letters``, ``close``) — and readings are :class:`StoredReading` tuples (site, gateway,
device, quantity, phase, ts, value, seq, kind). :func:`export_lines` formats a query's readings
as jsonl or csv; :func:`status_report` gathers what ``hinode cloud status`` shows;
:func:`load_config` reads ``hinode cloud run``'s YAML. See docs/storage.md.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cloud._collector import Collector
    from cloud._config import CollectorConfig, load_config
    from cloud._export import FORMATS, ExportFormat, export_lines, parse_instant
    from cloud._ingest import Batch, Ingest, Outcome
    from cloud._model import (
        EXPORT_FIELDS,
        DeadLetter,
        DeadLetterSummary,
        DeviceRecord,
        GapRecord,
        GatewayRecord,
        ReadingQuery,
        SeqRange,
        StoredReading,
    )
    from cloud._mqtt import BrokerTls, MqttProtocol, broker_ssl_context
    from cloud._open import open_state, open_timeseries, state_url, timeseries_url
    from cloud._ports import StateStore, TimeSeriesStore
    from cloud._stats import CollectorStats, DeviceStats
    from cloud._status import status_report

# Loaded when first used: a command that needs only the MQTT helpers (a controller, the mobility
# service) does not pay for SQLAlchemy, the InfluxDB client and the collector at start.
_LAZY = {
    "Batch": "cloud._ingest",
    "BrokerTls": "cloud._mqtt",
    "Collector": "cloud._collector",
    "CollectorConfig": "cloud._config",
    "CollectorStats": "cloud._stats",
    "DeadLetter": "cloud._model",
    "DeadLetterSummary": "cloud._model",
    "DeviceRecord": "cloud._model",
    "DeviceStats": "cloud._stats",
    "EXPORT_FIELDS": "cloud._model",
    "ExportFormat": "cloud._export",
    "FORMATS": "cloud._export",
    "GapRecord": "cloud._model",
    "GatewayRecord": "cloud._model",
    "Ingest": "cloud._ingest",
    "MqttProtocol": "cloud._mqtt",
    "Outcome": "cloud._ingest",
    "ReadingQuery": "cloud._model",
    "SeqRange": "cloud._model",
    "StateStore": "cloud._ports",
    "StoredReading": "cloud._model",
    "TimeSeriesStore": "cloud._ports",
    "broker_ssl_context": "cloud._mqtt",
    "export_lines": "cloud._export",
    "load_config": "cloud._config",
    "open_state": "cloud._open",
    "open_timeseries": "cloud._open",
    "parse_instant": "cloud._export",
    "state_url": "cloud._open",
    "status_report": "cloud._status",
    "timeseries_url": "cloud._open",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'cloud' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "EXPORT_FIELDS",
    "FORMATS",
    "Batch",
    "BrokerTls",
    "Collector",
    "CollectorConfig",
    "CollectorStats",
    "DeadLetter",
    "DeadLetterSummary",
    "DeviceRecord",
    "DeviceStats",
    "ExportFormat",
    "GapRecord",
    "GatewayRecord",
    "Ingest",
    "MqttProtocol",
    "Outcome",
    "ReadingQuery",
    "SeqRange",
    "StateStore",
    "StoredReading",
    "TimeSeriesStore",
    "broker_ssl_context",
    "export_lines",
    "load_config",
    "open_state",
    "open_timeseries",
    "parse_instant",
    "state_url",
    "status_report",
    "timeseries_url",
]
