"""NMEA 0183 parser: spec sentences, bad checksums, partial sentences, and noise never crashes."""

import contextlib
from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.gnss import KNOT_MPS, Gga, Gsa, NmeaError, Rmc, Vtg, parse_sentence
from simulators.vehicles import ReceiverEpoch, encode_epoch, with_checksum

# The classic examples from the NMEA 0183 sentence descriptions.
RMC = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A"
GGA = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"
VTG = "$GPVTG,054.7,T,034.4,M,005.5,N,010.2,K*48"
GSA = "$GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1*39"
# A u-blox M8 receiver (NMEA 4.1: mode indicator, navigational status).
RMC_UBLOX = "$GNRMC,083559.00,A,3635.4000,N,13637.8000,E,0.004,77.52,091202,,,A,V*2D"
SPEC_SENTENCES = [RMC, GGA, VTG, GSA]


def test_rmc_from_the_spec() -> None:
    rmc = parse_sentence(RMC + "\r\n")
    assert isinstance(rmc, Rmc)
    assert rmc.valid
    assert rmc.utc_time == time(12, 35, 19)
    assert rmc.utc_date == date(1994, 3, 23)
    assert rmc.lat == pytest.approx(48 + 7.038 / 60)
    assert rmc.lon == pytest.approx(11 + 31.0 / 60)
    assert rmc.speed_mps == pytest.approx(22.4 * KNOT_MPS)
    assert rmc.course_deg == pytest.approx(84.4)


def test_nmea_41_rmc_with_navigational_status() -> None:
    rmc = parse_sentence(with_checksum(RMC_UBLOX[1:].split("*", maxsplit=1)[0]))
    assert isinstance(rmc, Rmc)
    assert rmc.mode == "A"
    assert rmc.utc_time == time(8, 35, 59)
    assert rmc.lat == pytest.approx(36.59)
    assert rmc.lon == pytest.approx(136.63)


def test_gga_vtg_gsa_from_the_spec() -> None:
    gga, vtg, gsa = parse_sentence(GGA), parse_sentence(VTG), parse_sentence(GSA)
    assert isinstance(gga, Gga)
    assert (gga.quality, gga.satellites, gga.hdop, gga.altitude_m) == (1, 8, 0.9, 545.4)
    assert isinstance(vtg, Vtg)
    assert vtg.course_deg == pytest.approx(54.7)
    assert vtg.speed_mps == pytest.approx(10.2 / 3.6)
    assert isinstance(gsa, Gsa)
    assert gsa.fix_type == 3
    assert gsa.satellite_ids == (4, 5, 9, 12, 24)
    assert (gsa.pdop, gsa.hdop, gsa.vdop) == (2.5, 1.3, 2.1)


def test_southern_and_western_hemispheres_are_negative() -> None:
    body = "GPGGA,000001,3351.000,S,15112.000,W,1,05,1.0,10.0,M,,M,,"
    gga = parse_sentence(with_checksum(body))
    assert isinstance(gga, Gga)
    assert gga.lat == pytest.approx(-(33 + 51 / 60))
    assert gga.lon == pytest.approx(-(151 + 12 / 60))


def test_no_fix_rmc_has_no_position() -> None:
    rmc = parse_sentence(with_checksum("GPRMC,101010.00,V,,,,,,,231126,,,N"))
    assert isinstance(rmc, Rmc)
    assert not rmc.valid
    assert rmc.lat is None
    assert rmc.speed_mps is None


@pytest.mark.parametrize(
    ("line", "sentence", "field"),
    [
        (RMC[:-2] + "6B", "GPRMC", "checksum"),
        (RMC.split("*", maxsplit=1)[0], "GPRMC", "checksum"),
        (RMC[:-1], "GPRMC", "checksum"),
        ("$GPRMC,123519,A,4807.0", "GPRMC", "checksum"),
        (with_checksum("GPRMC,123519,A,4807.038,N"), "GPRMC", "longitude"),
        (
            with_checksum("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1"),
            "GPRMC",
            "variation_direction",
        ),
        (
            with_checksum("GPRMC,1235,A,4807.038,N,01131.000,E,022.4,084.4,230394,,"),
            "GPRMC",
            "time",
        ),
        (
            with_checksum("GPRMC,123519,A,4807.038,X,01131.000,E,022.4,084.4,230394,,"),
            "GPRMC",
            "latitude_hemisphere",
        ),
        (
            with_checksum("GPRMC,123519,A,4867.038,N,01131.000,E,022.4,084.4,230394,,"),
            "GPRMC",
            "latitude",
        ),
        (
            with_checksum("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,310294,,"),
            "GPRMC",
            "date",
        ),
        (
            with_checksum("GPRMC,123519,Q,4807.038,N,01131.000,E,022.4,084.4,230394,,"),
            "GPRMC",
            "status",
        ),
        (
            with_checksum("GPGGA,123519,4807.038,N,01131.000,E,9,08,0.9,545.4,M,46.9,M,,"),
            "GPGGA",
            "quality",
        ),
        (
            with_checksum("GPGGA,123519,4807.038,N,01131.000,E,1,x8,0.9,545.4,M,46.9,M,,"),
            "GPGGA",
            "satellites",
        ),
        (with_checksum("GPVTG,054.7,T,034.4,M,005.5,N,010.2,X"), "GPVTG", "speed_kmh_unit"),
        (with_checksum("GPGSA,A,4,04,05,,09,12,,,24,,,,,2.5,1.3,2.1"), "GPGSA", "fix_type"),
        (with_checksum("GPGSV,3,1,11,03,03,111,00"), "GPGSV", "address"),
        ("GPRMC,123519,A*00", "sentence", "start"),
        ("$\x00\x01*01", "sentence", "address"),
        (with_checksum("GP RMC,1"), "sentence", "address"),
        ("$GPRMC,1*ZZ", "GPRMC", "checksum"),
        ("$GPRMC,1*00\u00e9", "sentence", "characters"),
    ],
)
def test_bad_sentences_name_the_sentence_and_field(line: str, sentence: str, field: str) -> None:
    with pytest.raises(NmeaError) as caught:
        parse_sentence(line)
    assert (caught.value.sentence, caught.value.field) == (sentence, field)
    assert str(caught.value).startswith(f"{sentence}: {field}: ")


@settings(max_examples=300)
@given(st.text(max_size=120))
def test_any_text_parses_or_raises_nmea_error(text: str) -> None:
    with contextlib.suppress(NmeaError):
        parse_sentence(text)


@settings(max_examples=300)
@given(
    st.sampled_from(SPEC_SENTENCES),
    st.integers(min_value=0, max_value=10_000),
    st.text(alphabet="$*,.0123456789ABCDEFNSEWAVMTKXGP-", max_size=12),
)
def test_spliced_sentences_parse_or_raise_nmea_error(sentence: str, cut: int, junk: str) -> None:
    """Splices of real sentences with checksum-fixed junk reach the field checks."""
    body = sentence[1:].split("*", maxsplit=1)[0]
    cut %= len(body) + 1
    with contextlib.suppress(NmeaError):
        parse_sentence(with_checksum(body[:cut] + junk + body[cut:]))


@settings(max_examples=200)
@given(st.sampled_from(SPEC_SENTENCES), st.data())
def test_every_partial_sentence_is_an_error(sentence: str, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(sentence) - 1))
    with pytest.raises(NmeaError):
        parse_sentence(sentence[:cut])


@settings(max_examples=200)
@given(st.sampled_from(SPEC_SENTENCES), st.data())
def test_any_changed_character_fails_the_checksum(sentence: str, data: st.DataObject) -> None:
    star = sentence.index("*")
    position = data.draw(st.integers(min_value=1, max_value=star - 1))
    replacement = data.draw(st.characters(min_codepoint=0x20, max_codepoint=0x7E))
    if replacement in (sentence[position], "*"):
        return
    with pytest.raises(NmeaError) as caught:
        parse_sentence(sentence[:position] + replacement + sentence[position + 1 :])
    assert caught.value.field in ("checksum", "address")


@settings(max_examples=200)
@given(
    lat=st.floats(min_value=-89.9, max_value=89.9),
    lon=st.floats(min_value=-179.9, max_value=179.9),
    speed=st.floats(min_value=0, max_value=50),
    course=st.floats(min_value=0, max_value=359.99),
    seconds=st.integers(min_value=0, max_value=86_400 * 365 * 30),
)
def test_simulator_sentences_round_trip(
    lat: float, lon: float, speed: float, course: float, seconds: int
) -> None:
    utc = datetime.fromtimestamp(1_700_000_000 + seconds, UTC)
    sentences = [
        parse_sentence(line) for line in encode_epoch(ReceiverEpoch(utc, lat, lon, speed, course))
    ]
    rmc = sentences[0]
    assert isinstance(rmc, Rmc)
    assert rmc.lat == pytest.approx(lat, abs=1e-6)
    assert rmc.lon == pytest.approx(lon, abs=1e-6)
    assert rmc.speed_mps == pytest.approx(speed, abs=1e-3)
    assert rmc.utc_date == utc.date()
