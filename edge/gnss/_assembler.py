"""Turns a receiver's sentences into one reading per epoch: a usable ``Fix`` or a flagged ``NoFix``.

A receiver sends several sentences per epoch (RMC, VTG, GGA, GSA…, in an order that varies by
model). RMC and GGA carry the epoch's UTC time; VTG and GSA belong to the epoch being assembled.
An epoch is complete once it has both RMC and GGA, or when a sentence of the next epoch arrives.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from pydantic import ValidationError

from edge.gnss._sentences import Gga, Gsa, Rmc, Sentence, Vtg
from messages import Fix
from messages.models import FixQuality

MAX_SPEED_MPS = 100.0

_GGA_QUALITY: dict[int, FixQuality] = {
    0: "none",
    1: "gps",
    2: "dgps",
    3: "gps",
    4: "rtk_fixed",
    5: "rtk_float",
    6: "estimated",
    7: "estimated",
    8: "estimated",
}
_MODE_QUALITY: dict[str, FixQuality] = {
    "A": "gps",
    "P": "gps",
    "D": "dgps",
    "R": "rtk_fixed",
    "F": "rtk_float",
    "E": "estimated",
    "M": "estimated",
    "S": "estimated",
    "N": "none",
    "V": "none",
}


@dataclass(frozen=True, slots=True)
class NoFix:
    """An epoch whose position must not be used; ``reason`` says why."""

    ts: int | None
    reason: str


GnssReading = Fix | NoFix


@dataclass(slots=True)
class _Epoch:
    utc_time: time | None = None
    rmc: Rmc | None = None
    gga: Gga | None = None
    vtg: Vtg | None = None
    gsa: Gsa | None = None
    done: bool = False

    def empty(self) -> bool:
        return self.rmc is None and self.gga is None


@dataclass(slots=True)
class FixAssembler:
    """Feed it sentences in arrival order; it returns each epoch's reading once it is complete."""

    max_hdop: float = 20.0
    _epoch: _Epoch = field(default_factory=_Epoch)
    _utc_date: date | None = None

    def push(self, sentence: Sentence) -> list[GnssReading]:
        readings: list[GnssReading] = []
        if isinstance(sentence, Rmc | Gga) and sentence.utc_time != self._epoch.utc_time:
            readings.extend(self.flush())
            self._epoch = _Epoch(utc_time=sentence.utc_time)
        epoch = self._epoch
        if isinstance(sentence, Rmc):
            epoch.rmc = sentence
            self._utc_date = sentence.utc_date
        elif isinstance(sentence, Gga):
            epoch.gga = sentence
        elif isinstance(sentence, Vtg):
            epoch.vtg = sentence
        else:
            epoch.gsa = sentence
        if epoch.rmc is not None and epoch.gga is not None and not epoch.done:
            epoch.done = True
            readings.append(self._reading(epoch))
        return readings

    def flush(self) -> list[GnssReading]:
        """The reading of an epoch still open (e.g. RMC-only receivers), if any."""
        epoch = self._epoch
        if epoch.done or epoch.empty():
            return []
        epoch.done = True
        return [self._reading(epoch)]

    def _reading(self, epoch: _Epoch) -> GnssReading:
        rmc, gga, vtg, gsa = epoch.rmc, epoch.gga, epoch.vtg, epoch.gsa
        if self._utc_date is None or epoch.utc_time is None:
            return NoFix(None, "no date yet: waiting for an RMC sentence")
        instant = datetime.combine(self._utc_date, epoch.utc_time, tzinfo=UTC)
        ts = int(instant.timestamp() * 1000)
        if rmc is not None and not rmc.valid:
            return NoFix(ts, "receiver reports no fix (RMC status V)")
        quality = _quality(rmc, gga, vtg)
        if quality == "none":
            return NoFix(ts, "receiver reports no fix (quality or mode indicator)")
        if gsa is not None and gsa.fix_type == 1:
            return NoFix(ts, "receiver reports no fix (GSA fix type 1)")
        lat = _first(rmc.lat if rmc else None, gga.lat if gga else None)
        lon = _first(rmc.lon if rmc else None, gga.lon if gga else None)
        if lat is None or lon is None:
            return NoFix(ts, "no position in the epoch's sentences")
        hdop = _first(gga.hdop if gga else None, gsa.hdop if gsa else None)
        if hdop is not None and hdop > self.max_hdop:
            return NoFix(ts, f"HDOP {hdop:g} above {self.max_hdop:g}")
        speed = _first(rmc.speed_mps if rmc else None, vtg.speed_mps if vtg else None)
        if speed is not None and speed > MAX_SPEED_MPS:
            return NoFix(ts, f"implausible speed {speed:.1f} m/s")
        satellites = gga.satellites if gga else None
        if satellites is None and gsa is not None and gsa.satellite_ids:
            satellites = len(gsa.satellite_ids)
        heading = _first(rmc.course_deg if rmc else None, vtg.course_deg if vtg else None)
        try:
            return Fix(
                ts=ts,
                lat=lat,
                lon=lon,
                speed_mps=speed or 0.0,
                heading_deg=heading,
                fix_quality=quality,
                hdop=hdop,
                satellites=satellites,
            )
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            return NoFix(ts, f"{where}: {problem['msg']}")


def _first(*values: float | None) -> float | None:
    return next((value for value in values if value is not None), None)


def _quality(rmc: Rmc | None, gga: Gga | None, vtg: Vtg | None) -> FixQuality:
    if gga is not None:
        return _GGA_QUALITY[gga.quality]
    mode = _first_text(rmc.mode if rmc else None, vtg.mode if vtg else None)
    return _MODE_QUALITY.get(mode, "gps") if mode else "gps"


def _first_text(*values: str | None) -> str | None:
    return next((value for value in values if value), None)
