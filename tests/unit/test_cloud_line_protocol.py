"""Readings to InfluxDB line protocol and InfluxQL rows back."""

from cloud import StoredReading
from cloud._line_protocol import from_series, to_lines

TS = 1_795_000_000_000


def test_readings_of_one_device_phase_and_instant_share_a_point() -> None:
    lines = to_lines(
        [
            StoredReading("s-1", "gw-1", "meter-1", "voltage_v", "l1", TS, 101.5, 7),
            StoredReading("s-1", "gw-1", "meter-1", "current_a", "l1", TS, 5.0, 7),
            StoredReading("s-1", "gw-1", "meter-1", "active_power_w", None, TS, 18250.5, 7),
            StoredReading("s-1", "gw-1", "s-7f3a", "heart_rate_bpm", None, TS, 72.0, 8, "vitals"),
        ]
    )
    assert lines == [
        "telemetry,device=meter-1,gateway=gw-1,phase=l1,site=s-1"
        f" voltage_v=101.5,current_a=5.0,seq=7i {TS}",
        f"telemetry,device=meter-1,gateway=gw-1,site=s-1 active_power_w=18250.5,seq=7i {TS}",
        f"vitals,device=s-7f3a,gateway=gw-1,site=s-1 heart_rate_bpm=72.0,seq=8i {TS}",
    ]


def test_special_characters_in_names_are_escaped() -> None:
    (line,) = to_lines([StoredReading("a b", "g,1", "d=1", "q", None, TS, 1.0, 1)])
    assert line.startswith("telemetry,device=d\\=1,gateway=g\\,1,site=a\\ b q=1.0")


def test_rows_of_a_series_unpivot_into_readings() -> None:
    columns = ["time", "current_a", "device", "gateway", "phase", "seq", "site", "voltage_v"]
    values = [[TS, 5.0, "meter-1", "gw-1", "l1", 7, "s-1", None]]
    assert list(from_series("telemetry", columns, values, None)) == [
        StoredReading("s-1", "gw-1", "meter-1", "current_a", "l1", TS, 5.0, 7)
    ]
    assert list(from_series("telemetry", columns, values, "voltage_v")) == []
