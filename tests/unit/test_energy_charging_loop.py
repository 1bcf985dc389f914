"""The closed charging loop with in-memory ports: commands, expiry, heartbeats, decisions."""

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from cloud.energy import JST, ChargingController, ChargingSiteConfig, Decision
from messages import CmdPayload, decode

NOON_MS = int(datetime(2026, 5, 11, 12, 0, tzinfo=JST).timestamp() * 1000)


@dataclass
class MemoryReadings:
    values: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)

    def set(self, device: str, quantity: str, ts: int, value: float) -> None:
        self.values[(device, quantity)] = (ts, value)

    def latest(self, site: str, device: str, quantity: str, since_ms: int) -> float | None:
        found = self.values.get((device, quantity))
        if found is None or found[0] < since_ms:
            return None
        return found[1]


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
