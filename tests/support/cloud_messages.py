"""Valid wire messages for the collector's tests and benchmarks, built with the contract models."""

import time

from messages import (
    Event,
    EventsPayload,
    Observation,
    Reading,
    StatePayload,
    TelemetryPayload,
    VitalsPayload,
    encode,
)
from messages.topics import events_topic, state_topic, telemetry_topic, vitals_topic

BOOT_ID = "b00710ad"
BASE_TS = 1_795_000_000_000
METER_QUANTITIES = ("active_power_w", "voltage_v", "current_a", "frequency_hz", "power_factor")


def telemetry(
    seq: int,
    *,
    site: str = "site-1",
    gateway: str = "gw-1",
    device: str = "meter-1",
    boot_id: str = BOOT_ID,
    ts: int | None = None,
    quantities: tuple[str, ...] = METER_QUANTITIES,
) -> tuple[str, bytes]:
    """One telemetry message: one reading per quantity at *ts* (default: from seq)."""
    at = BASE_TS + seq * 1000 if ts is None else ts
    payload = TelemetryPayload(
        gateway=gateway,
        boot_id=boot_id,
        seq=seq,
        sent_at=at,
        device=device,
        readings=[
            Reading(quantity=quantity, value=float(seq) + index / 10, ts=at)
            for index, quantity in enumerate(quantities)
        ],
    )
    return telemetry_topic(site, gateway, device), encode(payload)


def vitals(seq: int, *, site: str = "site-1", gateway: str = "gw-1") -> tuple[str, bytes]:
    at = BASE_TS + seq * 1000
    payload = VitalsPayload(
        gateway=gateway,
        boot_id=BOOT_ID,
        seq=seq,
        sent_at=at,
        subject="s-7f3a9c",
        observations=[Observation(quantity="heart_rate_bpm", value=72, ts=at, device="hr-1")],
    )
    return vitals_topic(site, gateway, "s-7f3a9c"), encode(payload)


def events(seq: int, *, site: str = "site-1", gateway: str = "gw-1") -> tuple[str, bytes]:
    at = BASE_TS + seq * 1000
    payload = EventsPayload(
        gateway=gateway,
        boot_id=BOOT_ID,
        seq=seq,
        sent_at=at,
        events=[Event(ts=at, kind="device_offline", device="meter-1", reason="no answer")],
    )
    return events_topic(site, gateway), encode(payload)


def state(
    *, online: bool, seq: int, site: str = "site-1", gateway: str = "gw-1", boot_id: str = BOOT_ID
) -> tuple[str, bytes]:
    payload = StatePayload(
        gateway=gateway,
        boot_id=boot_id,
        seq=seq,
        sent_at=int(time.time() * 1000),
        online=online,
        version="0.1.0" if online else None,
    )
    return state_topic(site, gateway), encode(payload)
