"""Buses to catch, from a GTFS ``stop_times`` table: the first departure a rider can still make."""

from bisect import bisect_left
from dataclasses import dataclass

#: GTFS times count from "noon minus 12 h" of the service day; Japan has no DST, so midnight.
_HMS_PARTS = 3


@dataclass(frozen=True, slots=True)
class BusConnection:
    """The bus a rider is dropped off for."""

    stop_id: str
    trip_id: str
    departure: float  # epoch seconds


def gtfs_seconds(text: str) -> int:
    """``HH:MM:SS`` since the start of the service day; hours may pass 24 (after midnight)."""
    parts = text.split(":")
    if len(parts) != _HMS_PARTS or not all(part.isdigit() for part in parts):
        raise ValueError(f"{text!r} is not HH:MM:SS")
    hours, minutes, seconds = (int(part) for part in parts)
    if minutes > 59 or seconds > 59 or hours > 47:
        raise ValueError(f"{text!r} is not a GTFS time (minutes and seconds < 60, hours < 48)")
    return hours * 3600 + minutes * 60 + seconds


class Timetable:
    """Departures per stop as epoch seconds, for one service day."""

    def __init__(self, rows: list[tuple[str, str, str]], service_day_start: float) -> None:
        """*rows* are (trip_id, stop_id, departure_time) as in ``stop_times.txt``."""
        by_stop: dict[str, list[tuple[float, str]]] = {}
        for trip_id, stop_id, departure_time in rows:
            departure = service_day_start + gtfs_seconds(departure_time)
            by_stop.setdefault(stop_id, []).append((departure, trip_id))
        self._by_stop = {stop: sorted(times) for stop, times in by_stop.items()}

    def serves(self, stop_id: str) -> bool:
        return stop_id in self._by_stop

    def first_departure(self, stop_id: str, not_before: float) -> BusConnection | None:
        times = self._by_stop.get(stop_id, [])
        index = bisect_left(times, (not_before, ""))
        if index == len(times):
            return None
        departure, trip_id = times[index]
        return BusConnection(stop_id, trip_id, departure)
