"""The city's calendar: Japan Standard Time and the days factories and offices stand still."""

import datetime as dt

import jpholiday

# Asia/Tokyo has kept UTC+9 all year since 1951 (no daylight saving), so local time is plain
# arithmetic, which matters when a fast clock steps a hundred devices through a day.
JST_OFFSET_S = 9 * 3600
DAY_S = 86_400
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def jst_day_index(t: float) -> int:
    """Days since 1970-01-01 of the JST date at epoch second *t*."""
    return int((t + JST_OFFSET_S) // DAY_S)


def jst_date(day_index: int) -> dt.date:
    """The JST date of a day index."""
    return dt.date.fromordinal(_EPOCH_ORDINAL + day_index)


def jst_midnight(day_index: int) -> float:
    """Epoch seconds of JST midnight starting that day."""
    return float(day_index * DAY_S - JST_OFFSET_S)


def jst_hour(t: float) -> float:
    """JST hour of day at *t*, with fractions."""
    return ((t + JST_OFFSET_S) % DAY_S) / 3600.0


def is_day_off(day: dt.date) -> bool:
    """Weekends, national holidays (substitute days included) and the New Year closure."""
    if day.weekday() >= 5 or jpholiday.is_holiday(day):
        return True
    # Firms close from 29 December to 3 January (年末年始休業) although only 1 January is a holiday.
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)
