"""Live counters of a running agent, for dashboards, ``hinode demo`` and tests."""

from dataclasses import dataclass, field

from edge.uplink import UplinkStats
from messages import Fix, Observation, Reading


@dataclass(slots=True)
class AgentStats:
    """What the agent has done since it started. Read it; the agent writes it."""

    boot_id: str = ""
    readings_polled: int = 0
    poll_failures: int = 0
    messages_sealed: int = 0
    outbox_depth: int = 0
    outbox_depth_readings: int = 0
    outbox_dropped_messages: int = 0
    outbox_dropped_readings: int = 0
    last_seq: int = -1
    uplink: UplinkStats = field(default_factory=UplinkStats)
    #: The newest poll of each device.
    last_readings: dict[str, list[Reading]] = field(default_factory=dict)
    #: Vital signs stored for publishing (BLE devices) and the newest of each device.
    observations_received: int = 0
    last_observations: dict[str, list[Observation]] = field(default_factory=dict)
    #: Valid GNSS fixes stored for publishing and the newest of each vehicle.
    fixes_received: int = 0
    last_fix: dict[str, Fix] = field(default_factory=dict)
    #: None until the device first answered or failed (Modbus, BLE and GNSS alike).
    device_online: dict[str, bool | None] = field(default_factory=dict)
    commands_received: int = 0
    commands_applied: int = 0
    commands_rejected: int = 0
    failsafe_active: bool = False
    #: ``time.monotonic()`` of the last outbox maintenance round (once a second while healthy).
    maintained_at: float | None = None

    @property
    def messages_published(self) -> int:
        return self.uplink.published

    @property
    def messages_acked(self) -> int:
        return self.uplink.acked

    @property
    def readings_acked(self) -> int:
        return self.uplink.readings_acked

    @property
    def connected(self) -> bool:
        return self.uplink.connected
