"""Periods as integers, for the cohort computations done with polars (``triangle.py``,
``lifecycle.py``): a UTC day as days since :data:`ORIGIN`, an ISO week as whole weeks since
it (a Monday), a month as ``year * 12 + month - 1``. Consecutive periods are consecutive
integers at every grain, so "the previous period" is ``p - 1`` and "k periods later" is
``p + k``."""

from datetime import date

import polars as pl

ORIGIN = date(2000, 1, 3)
"""A Monday: day offsets from it floor-divided by 7 number the ISO weeks."""
LIFECYCLE_GRAINS = ("day", "week", "month")
"""The grains of growth accounting and feature adoption."""
COHORT_GRAINS = ("week", "month")
"""The cohort grains of the retention triangles and LTV."""


def period_of(day: pl.Expr, grain: str) -> pl.Expr:
    """The integer period (``grain``: day, week or month) of a date column."""
    if grain == "day":
        return (day - pl.lit(ORIGIN)).dt.total_days().cast(pl.Int32)
    if grain == "week":
        return ((day - pl.lit(ORIGIN)).dt.total_days() // 7).cast(pl.Int32)
    return (day.dt.year() * 12 + day.dt.month() - 1).cast(pl.Int32)


def period_start(period: pl.Expr, grain: str) -> pl.Expr:
    """The first day of an integer period."""
    if grain == "day":
        return pl.lit(ORIGIN) + pl.duration(days=period)
    if grain == "week":
        return pl.lit(ORIGIN) + pl.duration(weeks=period)
    return pl.date(period // 12, period % 12 + 1, 1)


def offset_day(d: pl.Expr) -> pl.Expr:
    """The date of a day given as its offset from :data:`ORIGIN`."""
    return pl.lit(ORIGIN) + pl.duration(days=d)


def index(day: date, grain: str) -> int:
    """The integer period of one date."""
    return int(pl.select(period_of(pl.lit(day), grain)).item())


def start(period: int, grain: str) -> date:
    """The first day of one integer period."""
    value: date = pl.select(period_start(pl.lit(period), grain)).item()
    return value
