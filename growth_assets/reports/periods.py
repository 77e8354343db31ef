"""Report periods: an ISO week (Monday to Sunday) or a calendar month, in UTC.

A report partition key is the period's first day (``2024-11-25`` for the week starting Monday
25 November, ``2024-11-01`` for November), as Dagster's weekly and monthly partitions name
them. The report compares the period with the one before it and draws trends over the
periods that lead up to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Grain = Literal["week", "month"]
TREND_PERIODS = 12  # periods drawn in trend charts (including the report's own)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    grain: Grain
    start: date
    end: date  # exclusive

    @classmethod
    def of(cls, grain: Grain, start: date) -> Period:
        if grain == "week":
            if start.isoweekday() != 1:
                raise ValueError(f"a weekly report starts on a Monday, got {start}")
            return cls(grain, start, start + timedelta(days=7))
        if start.day != 1:
            raise ValueError(f"a monthly report starts on the 1st, got {start}")
        return cls(grain, start, add_months(start, 1))

    @classmethod
    def from_partition_key(cls, grain: Grain, key: str) -> Period:
        return cls.of(grain, date.fromisoformat(key[:10]))

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def previous(self) -> Period:
        return self.shifted(-1)

    def shifted(self, n: int) -> Period:
        if self.grain == "week":
            return Period.of("week", self.start + timedelta(days=7 * n))
        return Period.of("month", add_months(self.start, n))

    @property
    def trend_start(self) -> date:
        """First day of the trend charts: ``TREND_PERIODS`` periods ending with this one."""
        return self.shifted(1 - TREND_PERIODS).start

    @property
    def label(self) -> str:
        if self.grain == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start:%Y-%m}"

    @property
    def title(self) -> str:
        if self.grain == "week":
            return f"Week {self.label} ({self.start:%d %b} – {self.last_day:%d %b %Y})"
        return f"{self.start:%B %Y}"

    @property
    def month(self) -> date:
        """The calendar month monthly-only figures (MRR) are read for: the month itself, or
        the month the week ends in (month to date at the week's end)."""
        return self.last_day.replace(day=1)


def last_complete(grain: Grain, last_day: date) -> Period:
    """The latest period that ends on or before ``last_day`` (a day with complete data)."""
    if grain == "week":
        sunday = last_day - timedelta(days=(last_day.isoweekday() % 7))
        return Period.of("week", sunday - timedelta(days=6))
    candidate = Period.of("month", last_day.replace(day=1))
    return candidate if candidate.last_day == last_day else candidate.previous
