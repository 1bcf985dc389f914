"""Encoders for the simulated devices, written from the GATT Specification Supplement.

Kept apart from the gateway's decoders on purpose: a layout mistake on one side must show up
as a failing test, not cancel out against the same mistake on the other.
"""

import struct
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

#: IEEE 11073-20601 reserved words: a device sends these instead of a number.
SFLOAT_NAN = 0x07FF
SFLOAT_NRES = 0x0800
SFLOAT_PLUS_INFINITY = 0x07FE
SFLOAT_MINUS_INFINITY = 0x0802


def sfloat(value: float | Decimal | None, decimals: int = 0) -> bytes:
    """16-bit SFLOAT: 4-bit exponent, 12-bit mantissa, both two's complement; None → NaN."""
    if value is None:
        return struct.pack("<H", SFLOAT_NAN)
    mantissa = round(Decimal(str(value)).scaleb(decimals))
    if not -2046 < mantissa < 2046:
        msg = f"{value} does not fit an SFLOAT with {decimals} decimals"
        raise ValueError(msg)
    exponent = -decimals
    return struct.pack("<H", ((exponent & 0xF) << 12) | (mantissa & 0xFFF))


def float32(value: float | None, decimals: int = 1) -> bytes:
    """32-bit FLOAT: 8-bit exponent, 24-bit mantissa; None → NaN (0x007FFFFF)."""
    if value is None:
        return struct.pack("<I", 0x007FFFFF)
    mantissa = round(Decimal(str(value)).scaleb(decimals))
    exponent = -decimals
    return struct.pack("<I", ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF))


def date_time(moment: datetime) -> bytes:
    """Date Time (0x2A08): year, month, day, hours, minutes, seconds."""
    return struct.pack(
        "<HBBBBB",
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    )


@dataclass(frozen=True)
class BloodPressureReading:
    """One cuff measurement as a monitor stores it (mmHg, local time)."""

    systolic: int
    diastolic: int
    mean_arterial: int
    pulse_rate: int
    taken_at: datetime
    user_id: int = 1
    irregular_pulse: bool = False
    body_movement: bool = False

    def encode(self) -> bytes:
        # time stamp, pulse rate, user id and measurement status present; mmHg
        flags = 0x02 | 0x04 | 0x08 | 0x10
        status = (0x0004 if self.irregular_pulse else 0) | (0x0001 if self.body_movement else 0)
        return (
            bytes([flags])
            + sfloat(self.systolic)
            + sfloat(self.diastolic)
            + sfloat(self.mean_arterial)
            + date_time(self.taken_at)
            + sfloat(self.pulse_rate)
            + bytes([self.user_id])
            + struct.pack("<H", status)
        )


def intermediate_cuff_pressure(pressure_mmhg: int) -> bytes:
    # Same layout as the measurement; diastolic and MAP are unused and sent as NaN.
    return b"\x00" + sfloat(pressure_mmhg) + sfloat(None) + sfloat(None)


@dataclass(frozen=True)
class SpotCheckReading:
    """One pulse-oximeter spot check (SpO2 %, pulse rate /min, local time)."""

    spo2: int
    pulse_rate: int
    taken_at: datetime
    low_perfusion: bool = False

    def encode(self) -> bytes:
        # time stamp and device/sensor status present
        device_status = 1 << 5 if self.low_perfusion else 0
        return (
            bytes([0x01 | 0x04])
            + sfloat(self.spo2)
            + sfloat(self.pulse_rate)
            + date_time(self.taken_at)
            + device_status.to_bytes(3, "little")
        )


def plx_continuous(spo2: int, pulse_rate: int) -> bytes:
    return b"\x00" + sfloat(spo2) + sfloat(pulse_rate)


@dataclass(frozen=True)
class GlucoseRecord:
    """A stored glucose result (mg/dL at the meter, sent in kg/L) with its sequence number."""

    sequence_number: int
    mg_per_dl: int
    taken_at: datetime
    meal: int | None = None  # Glucose Measurement Context meal code, if recorded
    extra: dict[str, int] = field(default_factory=dict)

    def encode(self) -> bytes:
        # concentration + type/location present, kg/L; context follows if a meal is recorded
        flags = 0x02 | (0x10 if self.meal is not None else 0)
        kg_per_l = Decimal(self.mg_per_dl).scaleb(-5)  # 1 mg/dL = 10^-5 kg/L
        return (
            bytes([flags])
            + struct.pack("<H", self.sequence_number)
            + date_time(self.taken_at)
            + sfloat(kg_per_l, decimals=5)
            + bytes([0x11])  # capillary whole blood, finger
        )

    def encode_context(self) -> bytes:
        return bytes([0x02]) + struct.pack("<H", self.sequence_number) + bytes([self.meal or 0])


@dataclass(frozen=True)
class TemperatureReading:
    """One thermometer reading in °C (0.1 °C resolution), with where it was taken."""

    celsius: float
    taken_at: datetime
    temperature_type: int = 6  # mouth (Temperature Type 0x2A1D)

    def encode(self) -> bytes:
        # Celsius, time stamp and temperature type present
        return (
            bytes([0x02 | 0x04])
            + float32(self.celsius, decimals=1)
            + date_time(self.taken_at)
            + bytes([self.temperature_type])
        )


@dataclass(frozen=True)
class WeightReading:
    """One weighing in SI units; the scale's resolution is 0.005 kg and 1 mm."""

    kg: float
    taken_at: datetime
    user_id: int = 1
    bmi: float | None = None
    height_m: float | None = None

    def encode(self) -> bytes:
        with_bmi = self.bmi is not None and self.height_m is not None
        flags = 0x02 | 0x04 | (0x08 if with_bmi else 0)  # SI units
        frame = (
            bytes([flags])
            + struct.pack("<H", round(Decimal(str(self.kg)) / Decimal("0.005")))
            + date_time(self.taken_at)
            + bytes([self.user_id])
        )
        if with_bmi:
            assert self.bmi is not None
            assert self.height_m is not None
            frame += struct.pack(
                "<HH",
                round(Decimal(str(self.bmi)) * 10),
                round(Decimal(str(self.height_m)) * 1000),
            )
        return frame


def heart_rate_measurement(
    bpm: int, rr_intervals_s: tuple[float, ...] = (), *, skin_contact: bool = True
) -> bytes:
    """Heart Rate Measurement: 8-bit value, contact detection supported, RR in 1/1024 s."""
    flags = 0x04 | (0x02 if skin_contact else 0) | (0x10 if rr_intervals_s else 0)
    value = struct.pack("<H", bpm) if bpm > 255 else bytes([bpm])
    if bpm > 255:
        flags |= 0x01
    rr = b"".join(struct.pack("<H", round(interval * 1024)) for interval in rr_intervals_s)
    return bytes([flags]) + value + rr
