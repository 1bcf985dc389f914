"""Decoded measurements become wire observations; subjects are HMAC pseudonyms of pairings."""

import struct
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from edge.ble import decode, observations, subject_pseudonym
from messages import ConfigError, VitalsPayload, is_valid_id

TOKYO = ZoneInfo("Asia/Tokyo")
RECEIVED = int(datetime(2026, 11, 23, 0, 0, tzinfo=UTC).timestamp() * 1000)
BP_FRAME = bytes.fromhex("1e 8000 5200 ff07 ea070b17080f1e 4700 01 0400".replace(" ", ""))


def test_blood_pressure_becomes_observations_at_the_device_time() -> None:
    obs = observations(decode("2a35", BP_FRAME), device="bp-1", received_at_ms=RECEIVED,
                       device_tz=TOKYO)  # fmt: skip
    by_quantity = {o.quantity: o for o in obs}
    # MAP was NaN on the wire: it is left out, never published as a number.
    assert set(by_quantity) == {"systolic_mmhg", "diastolic_mmhg", "pulse_rate_bpm"}
    assert by_quantity["systolic_mmhg"].value == 128.0
    expected_ts = int(datetime(2026, 11, 23, 8, 15, 30, tzinfo=TOKYO).timestamp() * 1000)
    assert {o.ts for o in obs} == {expected_ts}
    assert by_quantity["pulse_rate_bpm"].status == ["irregular_pulse_detected"]


def test_observations_fit_a_vitals_payload() -> None:
    obs = observations(decode("2a35", BP_FRAME), device="bp-1", received_at_ms=RECEIVED,
                       device_tz=TOKYO)  # fmt: skip
    subject = subject_pseudonym(b"k" * 32, site="home-0412", device_address="f1:f1:f1:f1:f1:f1")
    payload = VitalsPayload(
        gateway="gw-home-0412", boot_id="9f1c2a7b3d4e5f60", seq=1, sent_at=RECEIVED,
        subject=subject, observations=obs,
    )  # fmt: skip
    assert payload.subject == subject


def test_without_a_device_time_the_reception_time_is_used() -> None:
    m = decode("2a37", bytes.fromhex("0648"))
    (obs,) = observations(m, device="hr-1", received_at_ms=RECEIVED, device_tz=TOKYO)
    assert (obs.quantity, obs.value, obs.ts) == ("heart_rate_bpm", 72, RECEIVED)


def test_a_device_clock_that_is_not_set_is_not_trusted() -> None:
    frame = b"\x11" + struct.pack("<HH", 97, 64) + bytes.fromhex("ea070b17080f1e")
    obs = observations(decode("2a5e", frame), device="ox-1", received_at_ms=RECEIVED,
                       device_tz=TOKYO)  # fmt: skip
    assert {o.ts for o in obs} == {RECEIVED}
    assert {o.quantity for o in obs} == {"spo2_pct", "pulse_rate_bpm"}


@pytest.mark.parametrize("bit", [10, 11, 15])  # demonstration, testing, invalid measurement
def test_demo_test_and_invalid_readings_are_not_published(bit: int) -> None:
    frame = b"\x02" + struct.pack("<HHH", 97, 64, 1 << bit)
    m = decode("2a5e", frame)
    assert observations(m, device="ox-1", received_at_ms=RECEIVED, device_tz=TOKYO) == []


def test_control_solution_glucose_is_not_a_patient_reading() -> None:
    frame = b"\x02\x01\x00" + bytes.fromhex("ea070b17080f1e") + b"\x5f\xb0" + b"\x4a"
    m = decode("2a18", frame)
    assert m.values["sample_type"] == "control_solution"
    assert observations(m, device="gl-1", received_at_ms=RECEIVED, device_tz=TOKYO) == []


def test_intermediate_cuff_pressure_is_no_vital() -> None:
    m = decode("2a36", b"\x00\x90\x00\xff\x07\xff\x07")
    assert observations(m, device="bp-1", received_at_ms=RECEIVED, device_tz=TOKYO) == []


def test_pseudonym_is_stable_valid_and_depends_on_key_site_device_and_user() -> None:
    key = bytes(range(32))
    base = subject_pseudonym(key, site="home-0412", device_address="F1:F1:F1:F1:F1:F1")
    assert is_valid_id(base)
    assert base.startswith("s-")
    assert base == subject_pseudonym(key, site="home-0412", device_address="f1:f1:f1:f1:f1:f1")
    others = {
        subject_pseudonym(bytes(32), site="home-0412", device_address="F1:F1:F1:F1:F1:F1"),
        subject_pseudonym(key, site="home-0413", device_address="F1:F1:F1:F1:F1:F1"),
        subject_pseudonym(key, site="home-0412", device_address="F1:F1:F1:F1:F1:F2"),
        subject_pseudonym(key, site="home-0412", device_address="F1:F1:F1:F1:F1:F1", user_id=2),
    }
    assert base not in others
    assert len(others) == 4


def test_pseudonym_matches_an_independent_hmac() -> None:
    import hashlib
    import hmac

    key = b"0123456789abcdef"
    message = b"hinode.vitals.subject/1\x00home-1\x00AA:BB:CC:DD:EE:FF\x001"
    expected = "s-" + hmac.new(key, message, hashlib.sha256).hexdigest()[:20]
    assert (
        subject_pseudonym(key, site="home-1", device_address="aa:bb:cc:dd:ee:ff", user_id=1)
        == expected
    )


def test_short_keys_and_bad_sites_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        subject_pseudonym(b"short", site="home-1", device_address="AA:BB:CC:DD:EE:FF")
    with pytest.raises(ConfigError):
        subject_pseudonym(b"k" * 16, site="Home 1", device_address="AA:BB:CC:DD:EE:FF")


@pytest.mark.parametrize(
    "stamp",
    [
        "d0070101000000",  # 2000-01-01 00:00 local = 1999 UTC in Tokyo: before the contract's range
        "b2070101000000",  # 1970-01-01
        "ea070b19080f1e",  # 2026-11-25: two days ahead of reception
    ],
)
def test_an_implausible_device_time_falls_back_to_reception_and_is_flagged(stamp: str) -> None:
    frame = b"\x02" + struct.pack("<HHH", 120, 80, 95) + bytes.fromhex(stamp)
    obs = observations(decode("2a35", frame), device="bp-1", received_at_ms=RECEIVED,
                       device_tz=TOKYO)  # fmt: skip
    assert {o.ts for o in obs} == {RECEIVED}
    assert all("device_time_implausible" in o.status for o in obs)
