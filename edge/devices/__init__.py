"""Device drivers as the agent sees them: poll for readings, write setpoints, report health.

:class:`DeviceDriver` is the port; :func:`open_drivers` builds the drivers of a gateway config
(Modbus through :mod:`edge.modbus`, one bus owner per link).
"""

from edge.devices._modbus import check_profiles, open_drivers
from edge.devices._port import DeviceDriver, DeviceStatus, PointLimits, StatusSink

__all__ = [
    "DeviceDriver",
    "DeviceStatus",
    "PointLimits",
    "StatusSink",
    "check_profiles",
    "open_drivers",
]
