"""Period arithmetic for the SaaS assets: the months, weeks and days a window touches."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    first = day.replace(day=1)
    return (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else (first.replace(month=first.month + 1))
    )


def week_start(day: date) -> date:
    """Monday of the ISO week of ``day``."""
    return day - timedelta(days=day.weekday())


def last_day(end: datetime) -> date:
    """The last UTC day of a window ending (exclusive) at ``end``."""
    return (end.astimezone(UTC) - timedelta(microseconds=1)).date()


def first_day(start: datetime) -> date:
    return start.astimezone(UTC).date()


def period_bounds(first: date, last: date) -> dict[str, date]:
    """Days [first, last], the ISO weeks and calendar months covering them (end exclusive)."""
    return {
        "day_start": first,
        "day_end": last + timedelta(days=1),
        "week_start": week_start(first),
        "week_end": week_start(last) + timedelta(days=7),
        "month_start": month_start(first),
        "month_end": next_month(last),
    }
