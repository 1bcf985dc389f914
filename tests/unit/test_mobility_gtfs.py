"""Catching a bus from the GTFS stop_times table: the first departure the ride can still make."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cloud.mobility import DispatchInput, dispatch, dispatch_document, gtfs_seconds
from hinode.commands.mobility import app

STOP_TIMES = [
    {"trip_id": "kita-0812", "stop_id": "midorigaoka-iriguchi", "departure_time": "08:12:00"},
    {"trip_id": "kita-0842", "stop_id": "midorigaoka-iriguchi", "departure_time": "08:42:00"},
    {"trip_id": "kita-2505", "stop_id": "midorigaoka-iriguchi", "departure_time": "25:05:00"},
    {"trip_id": "minami-0830", "stop_id": "hinode-eki", "departure_time": "08:30:00"},
]


def document(**request_changes: Any) -> dict[str, Any]:
    request = {
        "id": "mrs-tanaka",
        "pickup": [36.5979, 136.6405],
        "dropoff": [36.5928, 136.6357],
        "earliest_pickup": "2026-11-23T08:00:00+09:00",
        "latest_dropoff": "2026-11-23T10:00:00+09:00",
        "catch_bus": {"stop_id": "midorigaoka-iriguchi"},
        "transfer_minutes": 4,
    } | request_changes
    return {
        "now": "2026-11-23T07:55:00+09:00",
        "speed_kmh": 5,
        "shuttles": [{"id": "s1", "position": [36.5958, 136.6392], "capacity": 4}],
        "requests": [request],
        "stop_times": STOP_TIMES,
    }


def run(raw: dict[str, Any]) -> dict[str, Any]:
    parsed = DispatchInput.model_validate(raw)
    return dispatch_document(dispatch(parsed.problem()), parsed.connections())


def test_the_ride_is_timed_for_the_first_bus_it_can_make() -> None:
    # 08:00 + an 11 min ride + 4 min transfer = 08:15: the 08:12 is gone, the 08:42 it is.
    output = run(document())
    (assignment,) = output["assignments"]
    assert assignment["bus"] == {
        "stop_id": "midorigaoka-iriguchi",
        "trip_id": "kita-0842",
        "departure": "2026-11-22T23:42:00Z",
    }
    assert assignment["dropoff_eta"] <= "2026-11-22T23:38:00Z"


def test_departure_after_picks_a_later_bus_after_midnight() -> None:
    output = run(
        document(
            catch_bus={
                "stop_id": "midorigaoka-iriguchi",
                "departure_after": "2026-11-23T09:00:00+09:00",
            },
            latest_dropoff="2026-11-24T02:00:00+09:00",
        )
    )
    (assignment,) = output["assignments"]
    assert assignment["bus"]["trip_id"] == "kita-2505"  # 25:05 = 01:05 the next morning


def test_no_bus_left_is_a_refusal_with_the_reason() -> None:
    late = {"stop_id": "hinode-eki", "departure_after": "2026-11-23T09:00:00+09:00"}
    output = run(document(catch_bus=late))
    assert output["assignments"] == []
    assert output["unassigned"] == [
        {
            "request": "mrs-tanaka",
            "reason": "no bus from 'hinode-eki' can be caught on this service day",
            "alternative": None,
        }
    ]


def test_cli_names_an_unknown_stop(tmp_path: Path) -> None:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(document(catch_bus={"stop_id": "nowhere"})))
    result = CliRunner().invoke(app, ["dispatch", str(path), "--json"])
    assert result.exit_code == 2
    assert (
        result.stderr.strip() == "error: requests.0.catch_bus.stop_id: no departures from 'nowhere'"
    )


@pytest.mark.parametrize(("text", "seconds"), [("08:12:00", 29520), ("25:05:30", 90330)])
def test_gtfs_times_count_from_the_service_day(text: str, seconds: int) -> None:
    assert gtfs_seconds(text) == seconds


@pytest.mark.parametrize("text", ["8:12", "08:61:00", "aa:00:00", "48:00:00"])
def test_bad_gtfs_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not"):
        gtfs_seconds(text)
