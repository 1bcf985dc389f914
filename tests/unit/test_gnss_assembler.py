"""Fix assembly: one reading per epoch, invalid epochs flagged and never turned into positions."""

from datetime import UTC, datetime, timedelta

import pytest

from edge.gnss import FixAssembler, NoFix, parse_sentence
from messages import Fix
from simulators.vehicles import ReceiverEpoch, encode_epoch, with_checksum

START = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)


def push_lines(assembler: FixAssembler, lines: list[str]) -> list[Fix | NoFix]:
    readings: list[Fix | NoFix] = []
    for line in lines:
        readings.extend(assembler.push(parse_sentence(line)))
    return readings


def test_a_complete_epoch_gives_one_fix_with_quality_and_dop() -> None:
    lines = encode_epoch(ReceiverEpoch(START, 36.59, 136.63, 1.4, 45.0, hdop=1.1))
    readings = push_lines(FixAssembler(), lines)
    assert len(readings) == 1
    fix = readings[0]
    assert isinstance(fix, Fix)
    assert fix.ts == int(START.timestamp() * 1000)
    assert (fix.lat, fix.lon) == (pytest.approx(36.59), pytest.approx(136.63))
    assert fix.speed_mps == pytest.approx(1.4, abs=1e-3)
    assert fix.heading_deg == pytest.approx(45.0)
    assert (fix.fix_quality, fix.hdop, fix.satellites) == ("gps", 1.1, 8)


def test_each_epoch_gives_its_own_fix() -> None:
    assembler = FixAssembler()
    readings: list[Fix | NoFix] = []
    for second in range(5):
        epoch = ReceiverEpoch(
            START + timedelta(seconds=second), 36.59 + second * 1e-5, 136.63, 1.0, 0
        )
        readings += push_lines(assembler, encode_epoch(epoch))
    assert [r.ts for r in readings] == [
        int((START + timedelta(seconds=s)).timestamp() * 1000) for s in range(5)
    ]
    assert assembler.flush() == []


def test_lost_fix_is_flagged_with_a_reason_and_no_position() -> None:
    lines = encode_epoch(ReceiverEpoch(START, 36.59, 136.63, 0, 0, has_fix=False))
    readings = push_lines(FixAssembler(), lines)
    assert len(readings) == 1
    assert isinstance(readings[0], NoFix)
    assert "no fix" in readings[0].reason
    assert readings[0].ts == int(START.timestamp() * 1000)


def test_gga_quality_zero_flags_the_epoch_even_if_rmc_says_active() -> None:
    rmc = with_checksum("GNRMC,083000.00,A,3635.4000,N,13637.8000,E,0.5,10.0,231126,,,A")
    gga = with_checksum("GNGGA,083000.00,3635.4000,N,13637.8000,E,0,00,99.0,40.0,M,,M,,")
    readings = push_lines(FixAssembler(), [rmc, gga])
    assert isinstance(readings[0], NoFix)


def test_poor_hdop_is_not_a_position() -> None:
    lines = encode_epoch(ReceiverEpoch(START, 36.59, 136.63, 0, 0, hdop=35.0))
    readings = push_lines(FixAssembler(max_hdop=20), lines)
    assert isinstance(readings[0], NoFix)
    assert "HDOP" in readings[0].reason


def test_rmc_only_receiver_gives_fixes_when_the_next_epoch_starts() -> None:
    assembler = FixAssembler()
    first = with_checksum("GPRMC,083000.00,A,3635.4000,N,13637.8000,E,2.0,90.0,231126,,,D")
    second = with_checksum("GPRMC,083001.00,A,3635.4000,N,13637.8100,E,2.0,90.0,231126,,,D")
    assert assembler.push(parse_sentence(first)) == []
    readings = assembler.push(parse_sentence(second))
    assert len(readings) == 1
    assert isinstance(readings[0], Fix)
    assert readings[0].fix_quality == "dgps"
    assert len(assembler.flush()) == 1


def test_gga_before_any_rmc_has_no_date() -> None:
    gga = with_checksum("GPGGA,083000.00,3635.4000,N,13637.8000,E,1,08,0.9,40.0,M,,M,,")
    assembler = FixAssembler()
    assembler.push(parse_sentence(gga))
    readings = assembler.flush()
    assert isinstance(readings[0], NoFix)
    assert readings[0].ts is None
