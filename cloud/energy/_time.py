"""Half-hour slots in Japan Standard Time, the market's settlement granularity."""

from datetime import date, datetime, timedelta, timezone

#: Japan has no daylight saving time, so a fixed offset is exact.
JST = timezone(timedelta(hours=9), "JST")
SLOT = timedelta(minutes=30)
SLOTS_PER_DAY = 48


def slot_starts(start: datetime, count: int = SLOTS_PER_DAY) -> list[datetime]:
    """The start of each of *count* consecutive half-hour slots from *start*, in JST."""
    first = start.astimezone(JST)
    return [first + index * SLOT for index in range(count)]


def is_slot_boundary(instant: datetime) -> bool:
    """Whether *instant* falls exactly on a half-hour boundary."""
    return instant.second == 0 and instant.microsecond == 0 and instant.minute in (0, 30)


def day_start(day: datetime) -> datetime:
    """Midnight JST of the day containing *day*."""
    local = day.astimezone(JST)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def day_slots(day: date) -> tuple[list[datetime], list[int]]:
    """The 48 slot starts of a JST calendar day, and their 49 bounds in epoch milliseconds."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=JST)
    starts = slot_starts(midnight)
    bounds = [*starts, starts[-1] + SLOT]
    return starts, [round(bound.timestamp() * 1000) for bound in bounds]
