"""A site's connection-point meter measures its load, the chargers behind it and its PV."""

import datetime as dt
import math

import pytest

from simulators.modbus import SimulatedDevice, create_device, is_day_off
from simulators.modbus._registers import Table

JST = dt.timezone(dt.timedelta(hours=9))
SUNNY_WEDNESDAY = (2026, 5, 20)  # a clear working day in the city's seeded weather
SUNNY_SATURDAY = (2026, 5, 9)


def jst(year: int, month: int, day: int, hour: float = 0.0) -> float:
    midnight = dt.datetime(year, month, day, tzinfo=JST).timestamp()
    return midnight + hour * 3600.0


class Clock:
    """A hand-moved clock."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def coupled_site(
    clock: Clock, model: str = "sdm630", *, peak_w: float = 15_000.0
) -> tuple[SimulatedDevice, SimulatedDevice, SimulatedDevice]:
    """A small works: its meter, a 30 kW PV array and a wallbox behind it."""
    inverter = create_device("sunspec_inverter", now=clock, seed=11, rated_w=30_000)
    charger = create_device("abb_terra_ac", now=clock, seed=12)
    meter = create_device(
        model,
        now=clock,
        load="factory",
        seed=13,
        peak_w=peak_w,
        behind_the_meter=[inverter, charger],
    )
    return meter, inverter, charger


def test_the_meter_measures_load_plus_charging_minus_pv() -> None:
    clock = Clock(jst(*SUNNY_WEDNESDAY, 10.5))
    meter, inverter, charger = coupled_site(clock)
    charger.charge_point.connect_vehicle(clock.t, energy_wh=40_000)  # type: ignore[attr-defined]
    clock.t += 600.0
    for device in (meter, inverter, charger):
        device.update(clock.t)
    measured = meter.truth()[("active_power_w", None)]
    charging = charger.truth()[("active_power_w", None)]
    producing = inverter.truth()[("active_power_w", None)]
    assert charging > 10_000  # standalone at its maximum: 32 A on three phases
    assert producing > 15_000
    expected = meter.forecast_power_w(clock.t) + charging - producing
    assert measured == pytest.approx(expected, rel=1e-4, abs=2.0)


@pytest.mark.parametrize("model", ["sdm630", "em24", "sunspec_meter"])
def test_a_sunny_day_off_exports_and_counts_export_energy(model: str) -> None:
    clock = Clock(jst(*SUNNY_SATURDAY, 11.0))
    meter, inverter, _ = coupled_site(clock, model)
    assert is_day_off(dt.date(*SUNNY_SATURDAY))
    meter.update(clock.t)
    before = meter.truth()
    clock.t += 3600.0
    meter.update(clock.t)
    after = meter.truth()
    # The factory idles at 8 % of 15 kW; the 30 kW array makes far more around noon.
    assert after[("active_power_w", None)] < -10_000
    exported = after[("energy_export_wh", None)] - before[("energy_export_wh", None)]
    assert exported > 10_000
    assert after[("energy_import_wh", None)] == pytest.approx(before[("energy_import_wh", None)])
    # The inverter behind the meter was brought along to the meter's instant.
    assert inverter.time == clock.t


def test_phases_stay_consistent_while_exporting() -> None:
    clock = Clock(jst(*SUNNY_SATURDAY, 12.0))
    meter, _, _ = coupled_site(clock)
    meter.update(clock.t)
    truth = meter.truth()
    phases = ("l1", "l2", "l3")
    total = sum(truth[("active_power_w", phase)] for phase in phases)
    assert truth[("active_power_w", None)] == pytest.approx(total, rel=1e-5)
    for phase in phases:
        power = truth[("active_power_w", phase)]
        voltage = truth[("voltage_v", phase)]
        current = truth[("current_a", phase)]
        factor = truth[("power_factor", phase)]
        assert power < 0
        assert factor < 0  # exporting: the signed power factor is negative
        assert power == pytest.approx(voltage * current * factor, rel=1e-4)
        apparent = truth[("apparent_power_va", phase)]
        reactive = truth[("reactive_power_var", phase)]
        assert apparent == pytest.approx(math.hypot(power, reactive), rel=1e-4)


def test_energy_registers_balance_over_a_working_day() -> None:
    """Import − export at the meter = own load + charging − PV, integrated over the day."""
    clock = Clock(jst(*SUNNY_WEDNESDAY, 0.0))
    meter, inverter, charger = coupled_site(clock)
    start = {
        "import": meter.truth()[("energy_import_wh", None)],
        "export": meter.truth()[("energy_export_wh", None)],
        "pv": inverter.truth()[("energy_export_wh", None)],
    }
    point = charger.charge_point  # type: ignore[attr-defined]
    charged_before = point.total_energy_wh
    own_load_wh = 0.0
    step = 60.0
    while clock.t < jst(*SUNNY_WEDNESDAY, 24.0):
        own_load_wh += meter.forecast_power_w(clock.t + step / 2) * step / 3600.0
        clock.t += step
        meter.update(clock.t)
        inverter.update(clock.t)
    truth = meter.truth()
    net_wh = (truth[("energy_import_wh", None)] - start["import"]) - (
        truth[("energy_export_wh", None)] - start["export"]
    )
    produced_wh = inverter.truth()[("energy_export_wh", None)] - start["pv"]
    charged_wh = point.total_energy_wh - charged_before
    assert charged_wh > 5_000  # the commuter's car came and charged
    assert truth[("energy_export_wh", None)] > start["export"]  # midday surplus went out
    # Within 1 % of the energy that flowed (the devices integrate in their own steps).
    gross_wh = own_load_wh + charged_wh + produced_wh
    assert net_wh == pytest.approx(own_load_wh + charged_wh - produced_wh, abs=0.01 * gross_wh)


def test_a_paused_charger_leaves_the_meter_reading() -> None:
    clock = Clock(jst(*SUNNY_WEDNESDAY, 20.0))  # after sunset, a car plugged in
    meter, _, charger = coupled_site(clock)
    charger.charge_point.connect_vehicle(clock.t, energy_wh=40_000)  # type: ignore[attr-defined]
    clock.t += 120.0
    meter.update(clock.t)
    charging = meter.truth()[("active_power_w", None)]
    # Pause the car through the charger's own register (ABB 0x4100: 0 mA).
    assert charger.write(0x4100, [0, 0]) is None
    clock.t += 120.0
    meter.update(clock.t)
    paused = meter.truth()[("active_power_w", None)]
    assert charging - paused > 10_000
    assert paused == pytest.approx(meter.forecast_power_w(clock.t), rel=1e-4)


def test_a_single_phase_meter_carries_everything_on_its_phase() -> None:
    clock = Clock(jst(*SUNNY_SATURDAY, 12.0))
    inverter = create_device("sunspec_inverter", now=clock, seed=21, rated_w=4_000)
    meter = create_device("sdm120", now=clock, load="home", seed=22, behind_the_meter=[inverter])
    meter.update(clock.t)
    expected = meter.forecast_power_w(clock.t) - inverter.forecast_power_w(clock.t)
    assert meter.truth()[("active_power_w", None)] == pytest.approx(expected, rel=1e-4)


def test_meters_without_anything_behind_them_behave_as_before() -> None:
    clock = Clock(jst(*SUNNY_SATURDAY, 12.0))
    meter = create_device("sdm630", now=clock, load="factory", seed=13)
    exported = meter.truth()[("energy_export_wh", None)]
    clock.t += 3600.0
    meter.update(clock.t)
    assert meter.truth()[("energy_export_wh", None)] == exported == 0.0
    assert meter.truth()[("active_power_w", None)] == pytest.approx(
        meter.forecast_power_w(clock.t), rel=1e-4
    )
    # The registers carry it too: the SDM630's export counter (0x004A, kWh) stays at zero.
    assert meter.read(Table.INPUT, 0x004A, 2) == [0, 0]


def test_a_bigger_array_makes_proportionally_more() -> None:
    clock = Clock(jst(*SUNNY_SATURDAY, 12.0))
    small = create_device("sunspec_inverter", now=clock, seed=5)
    large = create_device("sunspec_inverter", now=clock, seed=5, rated_w=30_000)
    assert large.forecast_power_w(clock.t) == pytest.approx(3 * small.forecast_power_w(clock.t))


@pytest.mark.parametrize(
    ("model", "options", "message"),
    [
        ("abb_terra_ac", {"behind_the_meter": "inverter"}, "needs a meter"),
        ("sdm630", {"behind_the_meter": "meter"}, "only inverters and chargers"),
        ("sdm630", {"behind_the_meter": "twice"}, "twice"),
        ("sunspec_inverter", {"rated_w": 40_000}, "rated_w"),
        ("sdm630", {"peak_w": 0}, "peak_w"),
    ],
)
def test_bad_coupling_options_are_refused(
    model: str, options: dict[str, object], message: str
) -> None:
    clock = Clock(jst(*SUNNY_SATURDAY, 12.0))
    inverter = create_device("sunspec_inverter", now=clock, seed=1)
    behind = {
        "inverter": [inverter],
        "meter": [create_device("sdm120", now=clock, seed=2)],
        "twice": [inverter, inverter],
    }
    kwargs: dict[str, object] = dict(options)
    if "behind_the_meter" in kwargs:
        kwargs["behind_the_meter"] = behind[str(kwargs["behind_the_meter"])]
    with pytest.raises(ValueError, match=message):
        create_device(model, now=clock, **kwargs)  # type: ignore[arg-type]
