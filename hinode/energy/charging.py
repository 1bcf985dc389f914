"""Adapters of the EV charging loop: readings from the store, commands over MQTT, a decision log."""

import json
from datetime import datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from cloud import ReadingQuery, TimeSeriesStore
from cloud.energy import (
    JST,
    ChargingSiteConfig,
    Decision,
    PhaseReading,
    describe_validation_error,
)
from messages import ConfigError


class StoreReadings:
    """The loop's readings port over the collector's time-series store."""

    def __init__(self, store: TimeSeriesStore) -> None:
        self._store = store

    def latest(self, site: str, device: str, quantity: str, since_ms: int) -> float | None:
        newest_ts: int | None = None
        total: float | None = None
        per_phase = 0.0
        query = ReadingQuery(since=since_ms, device=device, quantity=quantity)
        for reading in self._store.query(query):
            if reading.site != site:
                continue
            if newest_ts is None or reading.ts > newest_ts:
                newest_ts, total, per_phase = reading.ts, None, 0.0
            if reading.ts != newest_ts:
                continue
            if reading.phase is None:
                total = reading.value
            else:
                per_phase += reading.value
        if newest_ts is None:
            return None
        # A meter may report the total and each phase; without a total the phases add up.
        return total if total is not None else per_phase

    def latest_by_phase(
        self, site: str, device: str, quantity: str, since_ms: int
    ) -> dict[str, PhaseReading]:
        newest: dict[str, PhaseReading] = {}
        query = ReadingQuery(since=since_ms, device=device, quantity=quantity)
        for reading in self._store.query(query):
            if reading.site != site or reading.phase is None:
                continue
            known = newest.get(reading.phase)
            if known is None or reading.ts > known.ts_ms:
                newest[reading.phase] = PhaseReading(reading.ts, reading.value)
        return newest


class JsonlDecisions:
    """Every decision of the loop, one JSON line each, flushed as it is made."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("a", encoding="utf-8")

    def record(self, decision: Decision) -> None:
        line = {
            "ts": datetime.fromtimestamp(decision.ts_ms / 1000, JST).isoformat(),
            "site": decision.site,
            "charger": decision.charger,
            "current_a": decision.current_a,
            "previous_a": decision.previous_a,
            "reason": decision.reason,
            "mode": decision.mode,
            "pv_surplus_w": decision.pv_surplus_w,
            "phases": list(decision.phases),
        }
        self._file.write(json.dumps(line) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def load_charging_config(path: Path) -> ChargingSiteConfig:
    """A charging controller's YAML configuration; errors name the file and the field."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"{path}: cannot read: {exc.strerror or exc}"
        raise ConfigError(msg) from None
    except yaml.YAMLError as exc:
        msg = f"{path}: not valid YAML: {exc}"
        raise ConfigError(msg) from None
    try:
        return ChargingSiteConfig.model_validate(document)
    except ValidationError as exc:
        msg = f"{path}: {describe_validation_error(exc)}"
        raise ConfigError(msg) from None
