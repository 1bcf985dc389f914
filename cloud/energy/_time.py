"""Half-hour slots in Japan Standard Time, the market's settlement granularity."""

from datetime import datetime, timedelta, timezone

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
