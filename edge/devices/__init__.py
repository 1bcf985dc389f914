"""Device drivers as the agent sees them: poll for readings, write setpoints, report health.

:class:`DeviceDriver` is the port; :func:`open_drivers` builds the drivers of a gateway config
(Modbus through :mod:`edge.modbus`, one bus owner per link). Devices that push rather than
answer polls run as their own tasks: :class:`BleDevices` (vital signs through :mod:`edge.ble`)
and :class:`GnssDevices` (vehicle positions through :mod:`edge.gnss`).
"""

from edge.devices._ble import BleDevices, Vitals, cursor_name, default_ble_transport, vitals_message
from edge.devices._gnss import GnssDevices, PositionSink, VehicleStateSource
from edge.devices._modbus import check_profiles, open_drivers
from edge.devices._port import DeviceDriver, DeviceStatus, PointLimits, StatusSink

__all__ = [
    "BleDevices",
    "DeviceDriver",
    "DeviceStatus",
    "GnssDevices",
    "PointLimits",
    "PositionSink",
    "StatusSink",
    "VehicleStateSource",
    "Vitals",
    "check_profiles",
    "cursor_name",
    "default_ble_transport",
    "open_drivers",
    "vitals_message",
]
