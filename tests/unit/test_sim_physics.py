"""The simulators' physics: energy, sun, calendars, and chargers that obey their limits."""

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulators.modbus import MODELS, create_device
from simulators.modbus._calendar import is_day_off
from simulators.modbus._charger import STATE_A, STATE_B, STATE_C, ChargePoint
from simulators.modbus._electrics import EnergyCounters
from simulators.modbus._loads import LoadCurve
from simulators.modbus._meter import Reading
from simulators.modbus._registers import Point, Table
from simulators.modbus._sun import (
    clear_sky_irradiance_w_m2,
    pv_ac_power_w,
    solar_elevation_deg,
)
from simulators.modbus.abb_terra_ac import AbbTerraAc
from simulators.modbus.keba_p30 import KebaP30
from simulators.modbus.phoenix_charx import PhoenixCharx
from simulators.modbus.sunspec_inverter import SunSpecInverter

JST = dt.timezone(dt.timedelta(hours=9))


def jst(year: int, month: int, day: int, hour: float = 0.0) -> float:
    """Epoch seconds of a JST wall-clock time."""
    midnight = dt.datetime(year, month, day, tzinfo=JST).timestamp()
    return midnight + hour * 3600.0


class Clock:
    """A hand-moved clock."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


# -- energy ------------------------------------------------------------------------------------


def test_counters_integrate_power_over_time() -> None:
    counters = EnergyCounters()
    counters.integrate(1000.0, 1000.0, 0.0, 3600.0)
    counters.integrate(1000.0, 3000.0, 0.0, 1800.0)  # ramp: mean 2 kW for half an hour
    assert counters.import_wh == pytest.approx(2000.0)
    counters.integrate(1000.0, -1000.0, 0.0, 3600.0)  # crosses zero halfway
    assert counters.import_wh == pytest.approx(2250.0)
    assert counters.export_wh == pytest.approx(250.0)


@pytest.mark.parametrize("model", ["sdm630", "sdm120", "em24", "sunspec_meter"])
def test_meter_energy_is_the_integral_of_its_power(model: str) -> None:
    start = jst(2026, 6, 15, 7.0)  # a Monday: the morning ramp of the factory
    clock = Clock(start)
    meter = create_device(model, now=clock, load="factory", seed=3)
    meter.update(start)
    before = meter.truth()[("energy_import_wh", None)]
    samples = []
    for minute in range(1, 181):  # three hours, read once a minute
        clock.t = start + 60.0 * minute
        meter.update(clock.t)
        samples.append(meter.truth()[("active_power_w", None)])
    delivered = meter.truth()[("energy_import_wh", None)] - before
    expected = sum(samples) / 60.0  # W·min → Wh
    assert delivered == pytest.approx(expected, rel=0.03)


def test_a_fast_clock_integrates_along_the_curve() -> None:
    """One update a simulated day later gives the same energy as many small ones."""
    start = jst(2026, 6, 15)
    coarse = create_device("sdm630", now=lambda: start, seed=5)
    fine = create_device("sdm630", now=lambda: start, seed=5)
    coarse.update(start + 86_400.0)
    for step in range(1, 24 * 60 + 1):
        fine.update(start + 60.0 * step)
    key = ("energy_import_wh", None)
    assert coarse.truth()[key] == pytest.approx(fine.truth()[key], abs=500.0)
    assert (
        coarse.truth()[key] - create_device("sdm630", now=lambda: start, seed=5).truth()[key]
        > 100_000.0
    )  # a working day of a small factory


def test_totals_are_the_sum_of_the_phases() -> None:
    meter = create_device("sdm630", now=lambda: jst(2026, 6, 15, 10.0), seed=2)
    truth = meter.truth()
    for quantity in ("active_power_w", "reactive_power_var", "current_a"):
        phases = sum(truth[(quantity, phase)] for phase in ("l1", "l2", "l3"))
        assert truth[(quantity, None)] == pytest.approx(phases, rel=1e-5)
    for phase in ("l1", "l2", "l3"):
        product = (
            truth[("voltage_v", phase)]
            * truth[("current_a", phase)]
            * truth[("power_factor", phase)]
        )
        assert truth[("active_power_w", phase)] == pytest.approx(product, rel=1e-4)


# -- sun ---------------------------------------------------------------------------------------


def test_the_sun_is_down_at_midnight_and_highest_near_solar_noon() -> None:
    day = (2026, 6, 21)
    assert solar_elevation_deg(jst(*day, 0.0)) < -20.0
    assert pv_ac_power_w(jst(*day, 0.0), 10_000.0, seed=1) == 0.0
    minutes = [jst(*day, 9.0 + m / 60.0) for m in range(6 * 60)]
    highest = max(minutes, key=solar_elevation_deg)
    # 136.6° E is 6.4 minutes of time east of the JST meridian (135° E).
    assert abs((highest - jst(*day, 12.0 - 6.4 / 60.0)) / 60.0) < 5.0
    assert solar_elevation_deg(highest) == pytest.approx(90.0 - 36.6 + 23.44, abs=0.5)
    assert clear_sky_irradiance_w_m2(solar_elevation_deg(highest)) > 900.0


def test_winter_noon_is_low() -> None:
    noon = jst(2026, 12, 21, 11.9)
    assert solar_elevation_deg(noon) == pytest.approx(90.0 - 36.6 - 23.44, abs=0.5)


def test_inverter_sleeps_at_night_and_produces_at_noon() -> None:
    night, noon = jst(2026, 6, 21, 1.0), jst(2026, 6, 21, 11.9)
    clock = Clock(night)
    inverter = create_device("sunspec_inverter", now=clock, seed=4)
    assert inverter.truth()[("active_power_w", None)] == 0.0
    assert inverter.truth()[("operating_state", None)] == 2  # SunSpec SLEEPING
    clock.t = noon
    inverter.update(noon)
    truth = inverter.truth()
    assert truth[("active_power_w", None)] > 500.0
    assert truth[("operating_state", None)] in {4, 5}  # MPPT or THROTTLED
    assert truth[("dc_power_w", None)] > truth[("active_power_w", None)]


def test_pv_energy_over_a_day_is_plausible() -> None:
    start = jst(2026, 5, 10)
    inverter = create_device("sunspec_inverter", now=lambda: start, seed=8)
    before = inverter.truth()[("energy_export_wh", None)]
    inverter.update(start + 86_400.0)
    produced_kwh = (inverter.truth()[("energy_export_wh", None)] - before) / 1000.0
    assert 5.0 < produced_kwh < 80.0  # 10 kW array: overcast day to clear May day


# -- calendar and loads ------------------------------------------------------------------------


def test_japanese_days_off() -> None:
    assert is_day_off(dt.date(2026, 1, 1))  # New Year's Day (a Thursday)
    assert is_day_off(dt.date(2026, 6, 14))  # a Sunday
    assert is_day_off(dt.date(2026, 5, 6))  # substitute holiday after Constitution Day
    assert not is_day_off(dt.date(2026, 6, 15))  # an ordinary Monday


@pytest.mark.parametrize("day", [(2026, 1, 1), (2026, 6, 14)])
def test_factory_idles_on_holidays_and_sundays(day: tuple[int, int, int]) -> None:
    curve = LoadCurve(kind="factory", peak_w=45_000.0, seed=1)
    working = curve.share(jst(2026, 6, 15, 10.0))
    idle = curve.share(jst(*day, 10.0))
    assert working > 0.9
    assert idle < 0.1
    meter = create_device("sdm630", now=lambda: jst(*day, 10.0), load="factory", seed=1)
    assert meter.truth()[("active_power_w", None)] < 0.15 * 45_000.0


def test_home_peaks_morning_and_evening_public_building_office_hours() -> None:
    home = LoadCurve(kind="home", peak_w=6_000.0, seed=1)
    monday = (2026, 6, 15)
    assert home.share(jst(*monday, 7.0)) > 2 * home.share(jst(*monday, 3.0))
    assert home.share(jst(*monday, 19.5)) > 2 * home.share(jst(*monday, 13.0))
    public = LoadCurve(kind="public", peak_w=30_000.0, seed=1)
    assert public.share(jst(*monday, 11.0)) > 0.9
    assert public.share(jst(*monday, 22.0)) < 0.2
    assert public.share(jst(2026, 6, 14, 11.0)) < 0.2


def test_unknown_load_and_model_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown load"):
        create_device("sdm630", now=lambda: 0.0, load="farm")
    with pytest.raises(ValueError, match="unknown model"):
        create_device("sdm999", now=lambda: 0.0)


# -- chargers ----------------------------------------------------------------------------------


def _charge_point(t: float, *, device_max_a: float = 32.0) -> ChargePoint:
    point = ChargePoint(
        seed=1, start=t, device_max_a=device_max_a, failsafe_current_a=6.0, failsafe_timeout_s=60.0
    )
    point.connect_vehicle(t, energy_wh=50_000.0)
    return point


def test_charger_states_a_b_c() -> None:
    t = jst(2026, 6, 15, 10.0)
    point = ChargePoint(
        seed=1, start=t, device_max_a=32.0, failsafe_current_a=6.0, failsafe_timeout_s=0.0
    )
    point.disconnect_vehicle()
    assert point.state(t) == STATE_A
    point.connect_vehicle(t, energy_wh=1_000.0)
    assert point.state(t) == STATE_C
    point.command(0.0, t)
    assert point.state(t) == STATE_B  # paused by a limit below 6 A
    point.command(16.0, t)
    for minute in range(120):  # the car is full after 1 kWh
        point.advance(t + 60.0 * minute, t + 60.0 * (minute + 1))
    assert point.state(t + 7200.0) == STATE_B
    assert point.session_energy_wh == pytest.approx(1_000.0, abs=120.0)


@settings(max_examples=60, deadline=None)
@given(
    commands=st.lists(
        st.tuples(
            st.floats(min_value=1.0, max_value=900.0),
            st.sampled_from([0.0, 6.0, 8.5, 10.0, 13.0, 16.0, 20.0, 24.0, 32.0]),
        ),
        min_size=1,
        max_size=15,
    ),
    device_max_a=st.sampled_from([16.0, 20.0, 32.0]),
)
def test_charger_never_draws_more_than_it_offers(
    commands: list[tuple[float, float]], device_max_a: float
) -> None:
    t = jst(2026, 6, 15, 9.0)
    point = _charge_point(t, device_max_a=device_max_a)
    for gap, limit in commands:
        if limit <= device_max_a:
            point.command(limit, t)
        point.advance(t, t + gap)
        t += gap
        offered = point.offered_current_a(t)
        expected = point.failsafe_current_a if point.failsafe_active(t) else point.commanded_limit_a
        assert offered == (min(expected, device_max_a) if expected >= 6.0 else 0.0)
        assert all(0.0 <= amps <= offered for amps in point.phase_currents_a(t))


def test_charger_register_writes_obey_iec_61851_and_the_unit_maximum() -> None:
    t = jst(2026, 6, 15, 10.0)
    keba = KebaP30(now=lambda: t, seed=1, unit_max_current_a=20.0)
    assert keba.write(5004, [3_000]).name == "ILLEGAL_VALUE"  # type: ignore[union-attr]
    assert keba.write(5004, [25_000]).name == "ILLEGAL_VALUE"  # type: ignore[union-attr]
    assert keba.write(5004, [16_000]) is None
    keba.update(t)
    assert keba.truth()[("charge_current_limit_a", None)] == 16.0
    assert keba.write(5004, [0]) is None
    keba.update(t)
    assert keba.truth()[("charge_current_limit_a", None)] == 0.0


def test_keba_falls_back_to_its_failsafe_current_when_writes_stop() -> None:
    clock = Clock(jst(2026, 6, 15, 10.0))
    keba = KebaP30(now=clock, seed=1, unit_max_current_a=32.0)
    keba.charge_point.connect_vehicle(clock.t, energy_wh=60_000.0)
    assert keba.write(5016, [8_000]) is None  # fail-safe current 8 A
    assert keba.write(5018, [30]) is None  # after 30 s without a write
    assert keba.write(5004, [16_000]) is None
    clock.t += 29.0
    keba.update(clock.t)
    assert keba.truth()[("charge_current_limit_a", None)] == 16.0
    clock.t += 2.0
    keba.update(clock.t)
    truth = keba.truth()
    assert truth[("charge_current_limit_a", None)] == 8.0
    assert max(truth[("current_a", phase)] for phase in ("l1", "l2", "l3")) <= 8.0
    assert truth[("charger_state", None)] == STATE_C
    assert keba.write(5018, [30]) is None  # a heartbeat restores the commanded current
    keba.update(clock.t)
    assert keba.truth()[("charge_current_limit_a", None)] == 16.0


def test_abb_watchdog_is_fed_by_any_message_and_falls_back_to_pause() -> None:
    clock = Clock(jst(2026, 6, 15, 10.0))
    abb = AbbTerraAc(now=clock, seed=2, unit_max_current_a=32.0)
    abb.charge_point.connect_vehicle(clock.t, energy_wh=60_000.0)
    assert abb.write(0x4106, [60]) is None
    assert abb.write(0x4100, [0, 16_000]) is None
    for _ in range(5):  # polling alone keeps the Terra AC's communication alive
        clock.t += 50.0
        abb.update(clock.t)
        abb.received(clock.t)
    assert abb.truth()[("charge_current_limit_a", None)] == 16.0
    clock.t += 61.0
    abb.update(clock.t)
    truth = abb.truth()
    assert truth[("charge_current_limit_a", None)] == 0.0
    assert truth[("charger_state", None)] == STATE_B
    assert truth[("current_a", "l1")] == 0.0


def test_charx_setpoint_shows_the_failsafe_current_once_it_applies() -> None:
    clock = Clock(jst(2026, 6, 15, 10.0))
    charx = PhoenixCharx(now=clock, seed=3, unit_max_current_a=32.0)
    base = 1000
    assert charx.write(base + 302, [10]) is None
    assert charx.write(base + 303, [20]) is None
    assert charx.write(base + 301, [20]) is None
    assert charx.write(base + 301, [40]).name == "ILLEGAL_VALUE"  # type: ignore[union-attr]
    clock.t += 21.0
    charx.update(clock.t)
    assert charx.truth()[("charge_current_limit_a", None)] == 10.0


@pytest.mark.parametrize(
    ("charger_class", "stop", "state_address", "paused"),
    [
        (KebaP30, (5014, [0]), 1000, [0, 5]),  # "interrupted", u32
        (AbbTerraAc, (0x4105, [1]), 0x400C, [0, 3 << 8]),  # "C1 paused" in bits 8-14
        (PhoenixCharx, (1300, [0]), 1299, [ord("B") << 8 | ord("1")]),  # "B1"
    ],
)
def test_a_stopped_charger_with_a_car_shows_its_own_paused_code(
    charger_class: type[AbbTerraAc | KebaP30 | PhoenixCharx],
    stop: tuple[int, list[int]],
    state_address: int,
    paused: list[int],
) -> None:
    clock = Clock(jst(2026, 6, 15, 10.0))
    charger = charger_class(now=clock, seed=2, unit_max_current_a=32.0)
    charger.charge_point.connect_vehicle(clock.t, energy_wh=20_000.0)
    assert charger.write(*stop) is None
    charger.update(clock.t)
    assert charger.read(Table.HOLDING, state_address, len(paused)) == paused
    assert charger.truth()[("charger_state", None)] == STATE_B


def test_a_register_table_row_names_a_quantity_the_meter_measures() -> None:
    with pytest.raises(ValueError, match="voltge_v"):
        Reading(Point(Table.INPUT, 0x0000, "f32"), "voltge_v", 0)


def test_commuters_arrive_in_the_morning_and_leave_in_the_evening() -> None:
    day = (2026, 6, 16)  # a Tuesday
    states = []
    for hour in (5.0, 12.0, 21.0):
        charger = create_device("keba_p30", now=Clock(jst(*day, hour)), seed=11)
        states.append(charger.truth()[("charger_state", None)])
    assert states[0] == STATE_A
    assert states[1] in {STATE_B, STATE_C}
    assert states[2] == STATE_A
    assert math.isfinite(sum(states))


def test_inverter_wmax_caps_the_output() -> None:
    noon = jst(2026, 5, 3, 11.9)  # a clear-sky candidate day; the cap holds whatever the weather
    inverter = SunSpecInverter(now=lambda: noon, seed=8)
    wmax_address = inverter.layout.point(121, "WMax").address
    uncapped = inverter.truth()[("active_power_w", None)]
    assert inverter.write(wmax_address, [20_000]) is not None  # above the rating: refused
    assert inverter.write(wmax_address, [1_000]) is None
    truth = inverter.truth()
    assert truth[("active_power_w", None)] == min(uncapped, 1_000.0)
    if uncapped > 1_000.0:
        assert truth[("operating_state", None)] == 5  # THROTTLED


def test_em24_answers_both_tables_with_lsw_first_int32() -> None:
    em24 = create_device("em24", now=lambda: jst(2026, 6, 15, 10.0), seed=6)
    watts = em24.truth()[("active_power_w", None)]
    holding = em24.read(Table.HOLDING, 0x0028, 2)
    assert holding == em24.read(Table.INPUT, 0x0028, 2)
    assert isinstance(holding, list)
    raw = holding[0] | holding[1] << 16  # least significant word first
    assert raw / 10 == pytest.approx(watts)
    assert em24.read(Table.HOLDING, 0x000B, 1) == [1648]  # EM24DINAV23XE1X


def test_one_grid_frequency_for_the_whole_city() -> None:
    t = jst(2026, 6, 15, 10.0)
    frequencies = [
        create_device(model, now=lambda: t, seed=seed).truth()[("frequency_hz", None)]
        for model, seed in (("sdm630", 1), ("sdm630", 2), ("sunspec_meter", 3))
    ]
    assert max(frequencies) - min(frequencies) <= 0.011  # SunSpec shows 0.01 Hz steps
    assert 59.9 < frequencies[0] < 60.1  # the Hokuriku coast is on Japan's 60 Hz grid


@settings(max_examples=25, deadline=None)
@given(
    model=st.sampled_from(MODELS),
    t=st.floats(min_value=jst(2026, 1, 1), max_value=jst(2027, 1, 1)),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_truth_is_what_the_registers_decode_to(model: str, t: float, seed: int) -> None:
    device = create_device(model, now=lambda: t, load="home", seed=seed)
    truth = device.truth()
    points = device.truth_points()
    assert set(points) <= set(truth)
    for key, point in points.items():
        words = device.read(point.table, point.address, point.size)
        assert isinstance(words, list), (key, words)
        assert point.decode(words) == pytest.approx(truth[key], rel=1e-9, abs=1e-9), key
    states = {value for (quantity, _), value in truth.items() if quantity == "charger_state"}
    assert states <= {STATE_A, STATE_B, STATE_C}
