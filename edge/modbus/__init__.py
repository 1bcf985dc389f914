"""Modbus for the gateway: device profiles, planned block reads, SunSpec, one owner per bus.

Usage::

    from edge.modbus import ModbusBus, SerialLink, TcpLink, load_profile, scan
    from messages import WallClock

    meter_profile = load_profile("sdm630")          # or load_profile(Path("my_meter.yaml"))
    charger_profile = load_profile("abb_terra_ac")

    def on_event(event):                            # DeviceEvent: device_offline / device_online
        print(event.kind, event.device, event.reason)

    async with ModbusBus(
        TcpLink("192.0.2.10", 502),                 # or SerialLink("/dev/ttyUSB0", 9600, "E")
        clock=WallClock(),                          # or RtuOverTcpLink(host, port)
        timeout_s=1.0,
        on_event=on_event,
    ) as bus:
        meter = bus.device(1, meter_profile, name="main-meter")
        charger = bus.device(
            2, charger_profile, name="charger-1", limits={"charge_current_limit_a": 16}
        )
        readings = await meter.poll()               # list[messages.Reading], SI units
        fast = await meter.poll(groups=["fast"])    # only one poll group
        applied = await charger.write("charge_current_limit_a", 16)   # checked, then read back
        await charger.configure_fail_safe(timeout_s=60)

        found = await scan(bus, range(1, 248))      # list[ScanResult]: what answers, and as what

A SunSpec device uses ``load_profile("sunspec")``; its first ``poll()`` (or ``discover()``)
finds the 'SunS' marker at 40000, 0 or 50000 and walks the model chain into a read plan.
Errors are the project's own: ``TransportError`` (no answer; ``DeviceUnavailableError`` while
a silent device is backed off), ``DeviceError`` (exception response, bad frame),
``ConfigError`` (bad profile; ``SetpointRejectedError`` for a value the device does not
accept, raised before anything reaches the wire).
"""

from edge.modbus._bus import Backoff, DeviceEvent, DeviceUnavailableError, EventSink, ModbusBus
from edge.modbus._device import ModbusDevice, SetpointRejectedError
from edge.modbus._links import Link, RtuOverTcpLink, SerialLink, TcpLink
from edge.modbus._planner import MAX_READ_REGISTERS, BlockRead, Span, plan_reads
from edge.modbus._profile import (
    Profile,
    Register,
    WritablePoint,
    available_profiles,
    load_profile,
    parse_profile,
    profile_dir,
)
from edge.modbus._scan import ScanResult, identify, scan

__all__ = [
    "MAX_READ_REGISTERS",
    "Backoff",
    "BlockRead",
    "DeviceEvent",
    "DeviceUnavailableError",
    "EventSink",
    "Link",
    "ModbusBus",
    "ModbusDevice",
    "Profile",
    "Register",
    "RtuOverTcpLink",
    "ScanResult",
    "SerialLink",
    "SetpointRejectedError",
    "Span",
    "TcpLink",
    "WritablePoint",
    "available_profiles",
    "identify",
    "load_profile",
    "parse_profile",
    "plan_reads",
    "profile_dir",
    "scan",
]
