"""Turn decoded measurements into wire ``Observation``s for a ``VitalsPayload``."""

from datetime import datetime, tzinfo

from edge.ble._measurement import Measurement
from messages import Observation
from messages.models import MAX_TS_MS, MIN_TS_MS
from messages.quantities import VITAL_QUANTITIES

#: Values that describe something other than the care recipient: never published as vitals.
_NOT_A_PATIENT_READING = frozenset(
    {"data_for_demonstration", "data_for_testing", "invalid_measurement_detected"}
)
#: The device's clock is wrong or unset: its timestamp is no date, use the reception time.
_CLOCK_UNTRUSTED = frozenset({"device_clock_not_set", "time_fault"})
#: A reading stamped further ahead than this was not taken in the future: the clock is wrong.
_MAX_CLOCK_AHEAD_MS = 24 * 3600 * 1000
IMPLAUSIBLE_DEVICE_TIME = "device_time_implausible"


def observations(
    measurement: Measurement,
    *,
    device: str,
    received_at_ms: int,
    device_tz: tzinfo,
) -> list[Observation]:
    """The vital-sign observations in *measurement*, one per canonical quantity with a value.

    ``ts`` is the device's own timestamp (local time in *device_tz*) when it sent a trusted one
    — stored records keep the time they were taken — and otherwise *received_at_ms*; a device
    time before 2000 or more than a day ahead is not trusted and flagged. Values
    the device marked as NaN/NRes/±INF are left out, as are demonstration, test and invalid
    readings and control-solution glucose tests. The intermediate cuff pressure is no vital.
    """
    status = measurement.status
    if _NOT_A_PATIENT_READING.intersection(status):
        return []
    values = measurement.values
    if values.get("sample_type") == "control_solution":
        return []
    ts = received_at_ms
    stamp = values.get("timestamp")
    if isinstance(stamp, str) and not _CLOCK_UNTRUSTED.intersection(status):
        local = datetime.fromisoformat(stamp).replace(tzinfo=device_tz)
        device_ts = int(local.timestamp() * 1000)
        if MIN_TS_MS <= device_ts < MAX_TS_MS and device_ts <= received_at_ms + _MAX_CLOCK_AHEAD_MS:
            ts = device_ts
        else:
            # A reset clock (year 2000, 1970) or one far ahead: keep the reading, at its arrival.
            status = (*status, IMPLAUSIBLE_DEVICE_TIME)
    return [
        Observation(quantity=name, value=value, ts=ts, device=device, status=list(status))
        for name, value in values.items()
        if name in VITAL_QUANTITIES
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ]
