"""The closed charging loop with in-memory ports: commands, expiry, heartbeats, decisions."""

import itertools
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from cloud.energy import (
    JST,
    ChargingController,
    ChargingSiteConfig,
    Decision,
    PhaseReading,
    ReadingsPort,
    dispatch_chargers,
)
from messages import CmdPayload, decode

NOON_MS = int(datetime(2026, 5, 11, 12, 0, tzinfo=JST).timestamp() * 1000)


@dataclass
class MemoryReadings:
    values: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)
    by_phase: dict[tuple[str, str, str], tuple[int, float]] = field(default_factory=dict)

    def set(self, device: str, quantity: str, ts: int, value: float) -> None:
        self.values[(device, quantity)] = (ts, value)

    def set_phases(self, device: str, quantity: str, ts: int, **values: float) -> None:
        for phase, value in values.items():
            self.by_phase[(device, quantity, phase)] = (ts, value)

    def latest(self, site: str, device: str, quantity: str, since_ms: int) -> float | None:
        found = self.values.get((device, quantity))
        if found is None or found[0] < since_ms:
            return None
        return found[1]

    def latest_by_phase(
        self, site: str, device: str, quantity: str, since_ms: int
    ) -> dict[str, PhaseReading]:
        return {
            phase: PhaseReading(ts, value)
            for (name, what, phase), (ts, value) in self.by_phase.items()
            if name == device and what == quantity and ts >= since_ms
        }


@dataclass
class MemoryCommands:
    sent: list[tuple[str, CmdPayload]] = field(default_factory=list)

    def publish(self, topic: str, payload: bytes) -> None:
        message = decode(topic, payload)
        assert isinstance(message.payload, CmdPayload)
        self.sent.append((topic, message.payload))


@dataclass
class MemoryDecisions:
    recorded: list[Decision] = field(default_factory=list)

    def record(self, decision: Decision) -> None:
        self.recorded.append(decision)


def controller() -> tuple[ChargingController, MemoryReadings, MemoryCommands, MemoryDecisions]:
    config = ChargingSiteConfig.model_validate(
        {
            "site": "factory-a",
            "mode": "pv",
            "site_limit_a": 32,
            "grid_meter": "meter-1",
            "edge_timeout_s": 60,
            "command_ttl_s": 30,
            "hold_seconds": 0,
            "chargers": [
                {"device": "charger-1", "gateway": "gw-1", "phases": 3, "max_current_a": 32},
                {
                    "device": "charger-2",
                    "gateway": "gw-1",
                    "phases": 1,
                    "phase": "l1",
                    "max_current_a": 16,
                },
            ],
        }
    )
    readings, commands, decisions = MemoryReadings(), MemoryCommands(), MemoryDecisions()
    return ChargingController(config, readings, commands, decisions), readings, commands, decisions


def setpoints(commands: MemoryCommands) -> dict[str, float]:
    latest: dict[str, float] = {}
    for topic, payload in commands.sent:
        if payload.kind == "setpoint" and payload.target is not None:
            latest[topic.rsplit("/", 1)[1]] = payload.target.value
    return latest


def test_chargers_follow_the_pv_surplus_through_setpoint_commands() -> None:
    loop, readings, commands, decisions = controller()
    readings.set("charger-1", "charger_state", NOON_MS, 2)  # B: plugged in
    readings.set("charger-2", "charger_state", NOON_MS, 1)  # A: nobody
    readings.set("meter-1", "active_power_w", NOON_MS, -9000)  # exporting 9 kW
    loop.step(NOON_MS)
    # 9 kW over three phases at 230 V: 13.0 A.
    assert setpoints(commands) == {"charger-1": 13.0, "charger-2": 0.0}
    topic, first = commands.sent[0]
    assert topic == "hinode/v1/factory-a/gw-1/cmd/charger-1"
    assert first.expires_at == NOON_MS + 30_000
    assert first.target is not None
    assert first.target.point == "charge_current_limit_a"
    assert [d.charger for d in decisions.recorded] == ["charger-1", "charger-2"]
    assert decisions.recorded[0].reason == "charging on PV surplus"

    # The car now draws 9 kW and the meter shows 3 kW of export left: the setpoint rises.
    later = NOON_MS + 5_000
    readings.set("charger-1", "charger_state", later, 3)
    readings.set("charger-1", "active_power_w", later, 9000)
    readings.set("meter-1", "active_power_w", later, -3000)
    loop.step(later)
    assert setpoints(commands)["charger-1"] == 17.3
    assert decisions.recorded[-1].previous_a == 13.0


def test_unchanged_setpoints_are_refreshed_before_they_expire_and_heartbeats_fill_silences() -> (
    None
):
    loop, readings, commands, _ = controller()
    for slot in range(61):
        now = NOON_MS + slot * 1000
        readings.set("meter-1", "active_power_w", now, 500)  # importing: no surplus
        loop.step(now)
    setpoint_times = [p.sent_at for _, p in commands.sent if p.kind == "setpoint"]
    per_charger = len(setpoint_times) / 2
    # Sent at 0 s, then refreshed every half TTL (15 s): 0, 15, 30, 45, 60.
    assert per_charger == 5
    seqs = [payload.seq for _, payload in commands.sent]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)


def test_heartbeats_go_out_at_a_third_of_the_edge_timeout_when_nothing_else_does() -> None:
    loop, readings, commands, _ = controller()
    loop.config = loop.config.model_copy(update={"command_ttl_s": 600})
    for second in range(121):
        now = NOON_MS + second * 1000
        readings.set("meter-1", "active_power_w", now, 500)
        loop.step(now)
    heartbeats = [p.sent_at for _, p in commands.sent if p.kind == "heartbeat"]
    gaps = [b - a for a, b in itertools.pairwise(heartbeats)]
    assert heartbeats
    assert all(gap <= 30_000 for gap in gaps), "less than half the 60 s edge timeout"


def test_stale_state_is_not_believed() -> None:
    loop, readings, commands, decisions = controller()
    readings.set("charger-1", "charger_state", NOON_MS - 120_000, 3)
    readings.set("meter-1", "active_power_w", NOON_MS - 120_000, -20_000)
    request = loop.step(NOON_MS)
    assert request.pv_surplus_w == 0.0
    assert not request.chargers[0].connected
    assert setpoints(commands) == {"charger-1": 0.0, "charger-2": 0.0}
    assert decisions.recorded[0].reason == "not connected"


def test_the_memory_readings_are_a_readings_port() -> None:
    readings: ReadingsPort = MemoryReadings()
    assert readings.latest_by_phase("factory-a", "charger-1", "current_a", 0) == {}


def charging_site(
    mode: str, site_limit_a: float, chargers: list[dict[str, Any]]
) -> tuple[ChargingController, MemoryReadings, MemoryCommands, MemoryDecisions]:
    config = ChargingSiteConfig.model_validate(
        {
            "site": "factory-a",
            "mode": mode,
            "site_limit_a": site_limit_a,
            "grid_meter": "meter-1",
            "hold_seconds": 0,
            "chargers": [{"gateway": "gw-1", **charger} for charger in chargers],
        }
    )
    readings, commands, decisions = MemoryReadings(), MemoryCommands(), MemoryDecisions()
    return ChargingController(config, readings, commands, decisions), readings, commands, decisions


def one_phase_car_charging(readings: MemoryReadings, device: str, now: int, drawn_a: float) -> None:
    """A car charging on its charger's L1 only, as the charger's per-phase currents show it."""
    readings.set(device, "charger_state", now, 3)  # C: charging
    readings.set(device, "active_power_w", now, drawn_a * 230)
    readings.set_phases(device, "current_a", now, l1=drawn_a, l2=0.0, l3=0.1)


THREE_PHASE_CHARGER = {"device": "charger-1", "phases": 3, "max_current_a": 32}


def test_a_one_phase_car_gets_three_times_the_current_for_the_same_pv_surplus(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop, readings, commands, decisions = charging_site("pv", 63, [THREE_PHASE_CHARGER])
    caplog.set_level(logging.INFO, logger="cloud.energy")
    for second in range(0, 30, 5):
        now = NOON_MS + second * 1000
        # 6 A on L1 (1,380 W) and 2,760 W exported: 4,140 W for the car.
        one_phase_car_charging(readings, "charger-1", now, 6.0)
        readings.set("meter-1", "active_power_w", now, -2760)
        request = loop.step(now)
        if second == 0:
            # Nothing measured yet: budgeted on the wiring, 4,140 W over three phases.
            assert setpoints(commands) == {"charger-1": 6.0}
    # The same 4,140 W on one phase: 18 A, where the wiring's budget gave 6 A.
    assert setpoints(commands) == {"charger-1": 18.0}
    assert decisions.recorded[-1].reason == "charging on PV surplus (car charges on l1 only)"
    assert [d.phases for d in decisions.recorded] == [("l1", "l2", "l3"), ("l1",)]
    vehicle = request.chargers[0].vehicle
    assert vehicle is not None
    assert (vehicle.phases, vehicle.phase) == (1, "l1")
    said = [r.getMessage() for r in caplog.records if "charges on" in r.getMessage()]
    assert said == ["car on charger charger-1 charges on l1 only"]


def test_a_car_found_on_one_phase_is_recorded_even_when_its_current_stays() -> None:
    """At full power the current is the charger's limit either way; what it costs changes."""
    loop, readings, commands, decisions = charging_site(
        "now", 63, [{**THREE_PHASE_CHARGER, "max_current_a": 16}]
    )
    for second in range(0, 20, 5):
        now = NOON_MS + second * 1000
        one_phase_car_charging(readings, "charger-1", now, 16.0)
        readings.set("meter-1", "active_power_w", now, 4000)
        loop.step(now)
    assert setpoints(commands) == {"charger-1": 16.0}
    assert [(d.current_a, d.previous_a, d.phases) for d in decisions.recorded] == [
        (16.0, None, ("l1", "l2", "l3")),
        (16.0, 16.0, ("l1",)),
    ]


def test_two_one_phase_cars_on_l1_share_l1_and_leave_l2_and_l3_to_others() -> None:
    loop, readings, commands, _ = charging_site(
        "now",
        20,
        [
            {**THREE_PHASE_CHARGER, "max_current_a": 16},
            {"device": "charger-2", "phases": 1, "phase": "l2", "max_current_a": 16},
            {**THREE_PHASE_CHARGER, "device": "charger-3", "max_current_a": 16},
        ],
    )
    for second in range(0, 15, 5):
        now = NOON_MS + second * 1000
        sent = setpoints(commands)
        for device in ("charger-1", "charger-3"):
            one_phase_car_charging(readings, device, now, sent.get(device, 6.0))
        readings.set("charger-2", "charger_state", now, 3)
        readings.set("meter-1", "active_power_w", now, 8000)
        request = loop.step(now)
        load = dispatch_chargers(request).phase_load_a
        assert all(load[phase] <= 20 for phase in ("l1", "l2", "l3"))  # type: ignore[index]
    sent = setpoints(commands)
    assert sent["charger-1"] + sent["charger-3"] == 20.0
    # The wiring's budget would have left charger-2 only what the two cars leave of L2.
    assert sent["charger-2"] == 16.0
    assert dispatch_chargers(request).phase_load_a == {"l1": 20.0, "l2": 16.0, "l3": 0.0}


def test_a_paused_car_keeps_its_phase_and_the_next_car_starts_from_the_wiring() -> None:
    loop, readings, commands, _ = charging_site("pv", 63, [THREE_PHASE_CHARGER])
    now = NOON_MS
    for _ in range(2):
        now += 5_000
        one_phase_car_charging(readings, "charger-1", now, 6.0)
        readings.set("meter-1", "active_power_w", now, -2760)
        loop.step(now)
    assert setpoints(commands) == {"charger-1": 18.0}

    # Paused: no current on any phase, nothing learnt, the one phase still holds.
    now += 5_000
    readings.set("charger-1", "charger_state", now, 2)  # B
    readings.set("charger-1", "active_power_w", now, 0)
    readings.set_phases("charger-1", "current_a", now, l1=0.0, l2=0.0, l3=0.0)
    readings.set("meter-1", "active_power_w", now, -4140)
    loop.step(now)
    assert setpoints(commands) == {"charger-1": 18.0}

    # Unplugged, and another car plugged in: its phases are not known, the wiring is budgeted.
    now += 5_000
    readings.set("charger-1", "charger_state", now, 1)  # A
    loop.step(now)
    now += 5_000
    readings.set("charger-1", "charger_state", now, 2)
    readings.set_phases("charger-1", "current_a", now, l1=0.0, l2=0.0, l3=0.0)
    readings.set("meter-1", "active_power_w", now, -4140)
    request = loop.step(now)
    assert setpoints(commands) == {"charger-1": 6.0}
    assert request.chargers[0].vehicle is not None
    assert request.chargers[0].vehicle.phase is None


def test_the_same_sample_read_in_two_rounds_is_no_confirmation() -> None:
    loop, readings, commands, _ = charging_site("pv", 63, [THREE_PHASE_CHARGER])
    # The charger is polled less often than the loop runs: both rounds see one sample.
    one_phase_car_charging(readings, "charger-1", NOON_MS, 6.0)
    readings.set("meter-1", "active_power_w", NOON_MS, -2760)
    for second in (1, 6):
        loop.step(NOON_MS + second * 1000)
    assert setpoints(commands) == {"charger-1": 6.0}
    # A fresh sample confirms it.
    one_phase_car_charging(readings, "charger-1", NOON_MS + 10_000, 6.0)
    loop.step(NOON_MS + 11_000)
    assert setpoints(commands) == {"charger-1": 18.0}


def test_a_charger_installed_with_rotated_phases_budgets_the_site_phase_its_l1_is_on() -> None:
    rotated = {**THREE_PHASE_CHARGER, "site_phases": ["l2", "l3", "l1"]}
    loop, readings, _, _ = charging_site("now", 32, [rotated])
    for second in (0, 5):
        now = NOON_MS + second * 1000
        one_phase_car_charging(readings, "charger-1", now, 16.0)
        request = loop.step(now)
    vehicle = request.chargers[0].vehicle
    assert vehicle is not None
    assert vehicle.phase == "l2"
    assert dispatch_chargers(request).phase_load_a == {"l1": 0.0, "l2": 32.0, "l3": 0.0}


def test_a_single_phase_charger_takes_no_site_phases() -> None:
    with pytest.raises(ValueError, match="only for a three-phase charger"):
        ChargingSiteConfig.model_validate(
            {
                "site": "factory-a",
                "site_limit_a": 32,
                "grid_meter": "meter-1",
                "chargers": [
                    {
                        "device": "charger-2",
                        "gateway": "gw-1",
                        "phases": 1,
                        "phase": "l1",
                        "max_current_a": 16,
                        "site_phases": ["l2", "l1", "l3"],
                    }
                ],
            }
        )
