"""Phase detection: which phases a car draws on, learned per session from per-phase currents."""

import itertools
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.energy import CHARGING_A, CONFIRM_READINGS, CarPhases, observe_car_phases

Phase = Literal["l1", "l2", "l3"]
THREE: tuple[Phase, ...] = ("l1", "l2", "l3")

currents = st.one_of(
    st.floats(-1.0, 40.0), st.sampled_from([0.0, 0.5, 1.0, 1.01, 5.8, 15.5, float("nan")])
)
readings = st.dictionaries(st.sampled_from(THREE), currents)
wirings: st.SearchStrategy[tuple[Phase, ...]] = st.sampled_from([THREE, ("l1",), ("l2",), ("l3",)])


def observe_all(car: CarPhases, sequence: list[dict[Phase, float]]) -> list[CarPhases]:
    history = [car]
    for reading in sequence:
        car = observe_car_phases(car, reading)
        history.append(car)
    return history


def test_a_one_phase_car_on_a_three_phase_charger_is_budgeted_on_its_phase() -> None:
    car = CarPhases.plugged_in(THREE)
    assert car.phases == THREE
    first = observe_car_phases(car, {"l1": 15.6, "l2": 0.1, "l3": 0.0})
    assert first.phases == THREE, "one reading is not enough to narrow the budget"
    second = observe_car_phases(first, {"l1": 15.4, "l2": 0.0, "l3": 0.2})
    assert second.phases == ("l1",)
    assert second.narrower_than_wiring


def test_a_three_phase_car_bringing_up_its_phases_one_by_one_keeps_all_three() -> None:
    car = CarPhases.plugged_in(THREE)
    ramping = observe_car_phases(car, {"l1": 6.0, "l2": 0.0, "l3": 0.0})
    settled = observe_car_phases(ramping, {"l1": 9.7, "l2": 9.6, "l3": 9.8})
    assert settled.phases == THREE


def test_a_paused_car_keeps_the_last_decision() -> None:
    car = CarPhases.plugged_in(THREE)
    for _ in range(CONFIRM_READINGS):
        car = observe_car_phases(car, {"l1": 10.0, "l2": 0.0, "l3": 0.0})
    assert car.phases == ("l1",)
    paused = observe_car_phases(car, {"l1": 0.0, "l2": 0.0, "l3": 0.0})
    tapering = observe_car_phases(paused, {"l1": 2.0, "l2": 0.0, "l3": 0.0})
    missing = observe_car_phases(tapering, {"l1": 10.0})
    assert paused == tapering == missing == car


def test_a_sample_counts_once_however_often_it_is_read() -> None:
    car = CarPhases.plugged_in(THREE)
    one_phase: dict[Phase, float] = {"l1": 10.0, "l2": 0.0, "l3": 0.0}
    first = observe_car_phases(car, one_phase, measured_ms=1_000)
    again = observe_car_phases(first, one_phase, measured_ms=1_000)
    older = observe_car_phases(again, one_phase, measured_ms=500)
    assert again == older == first
    assert first.phases == THREE
    assert observe_car_phases(first, one_phase, measured_ms=2_000).phases == ("l1",)


def test_a_two_phase_car_is_seen_on_its_two_phases() -> None:
    car = CarPhases.plugged_in(THREE)
    for _ in range(CONFIRM_READINGS):
        car = observe_car_phases(car, {"l1": 12.0, "l2": 0.3, "l3": 11.8})
    assert car.phases == ("l1", "l3")


def test_a_phase_seen_later_in_the_session_widens_the_budget_at_once() -> None:
    car = CarPhases.plugged_in(THREE)
    for _ in range(CONFIRM_READINGS):
        car = observe_car_phases(car, {"l1": 8.0, "l2": 0.0, "l3": 0.0})
    widened = observe_car_phases(car, {"l1": 8.0, "l2": 7.9, "l3": 8.1})
    assert widened.phases == THREE
    again = observe_car_phases(widened, {"l1": 8.0, "l2": 0.0, "l3": 0.0})
    assert again.phases == THREE, "a phase once seen stays in the budget"


@settings(max_examples=300, deadline=None)
@given(wirings, st.lists(readings, max_size=8))
def test_the_budget_is_never_more_than_the_wiring_nor_empty(
    wiring: tuple[Phase, ...], sequence: list[dict[Phase, float]]
) -> None:
    for car in observe_all(CarPhases.plugged_in(wiring), sequence):
        assert car.phases
        assert set(car.phases) <= set(wiring)
        assert list(car.phases) == [phase for phase in wiring if phase in car.phases]
        if len(wiring) == 1:
            assert car.phases == wiring


@settings(max_examples=300, deadline=None)
@given(st.lists(readings, max_size=8))
def test_no_phase_seen_carrying_current_is_ever_left_out_of_the_budget(
    sequence: list[dict[Phase, float]],
) -> None:
    history = observe_all(CarPhases.plugged_in(THREE), sequence)
    for before, after in itertools.pairwise(history):
        assert before.seen <= after.seen
        assert after.seen <= set(after.phases)
        # The budget narrows only from the wiring, on evidence, and never narrows again.
        if before.narrower_than_wiring:
            assert set(before.phases) <= set(after.phases)


@settings(max_examples=300, deadline=None)
@given(st.lists(readings, max_size=8), readings)
def test_a_reading_without_charging_evidence_changes_nothing(
    sequence: list[dict[Phase, float]], reading: dict[Phase, float]
) -> None:
    car = observe_all(CarPhases.plugged_in(THREE), sequence)[-1]
    quiet = {phase: min(value, (CHARGING_A - 0.01) / 3) for phase, value in reading.items()}
    assert observe_car_phases(car, quiet) == car
