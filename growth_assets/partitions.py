"""Partitions, declared once.

Ingestion and normalisation run on hourly partitions; daily models on daily partitions. Both
start on the same explicit date so an hour always maps into a day that exists. All boundaries
are UTC.

The daily partitions include today (``end_offset=1``): today's partition exists while the day
runs, so the hourly schedule can re-materialise it every hour and daily numbers stay current
during the day (see ``growth_assets.schedules``). Hourly partitions end at the last complete
hour. ``GROWTH_PARTITIONS_START`` (YYYY-MM-DD) moves the start for warehouses whose
history begins earlier; it is read when the definitions are built.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

from dagster import DailyPartitionsDefinition, HourlyPartitionsDefinition

DEFAULT_START = "2024-11-01"


def partitions_start() -> str:
    value = os.environ.get("GROWTH_PARTITIONS_START", DEFAULT_START)
    try:
        datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"GROWTH_PARTITIONS_START must be YYYY-MM-DD, got {value!r}") from exc
    return value


def hourly() -> HourlyPartitionsDefinition:
    return HourlyPartitionsDefinition(start_date=f"{partitions_start()}-00:00", timezone="UTC")


def daily() -> DailyPartitionsDefinition:
    return DailyPartitionsDefinition(start_date=partitions_start(), timezone="UTC", end_offset=1)


def daily_until_today() -> DailyPartitionsDefinition:
    """Daily partitions including today's (still filling) day, for ``growth.metrics_hourly``,
    whose hourly schedule rebuilds today's 24 hours as the day goes on. Every daily asset now
    includes today (see :func:`daily`), so this is the same definition under the name that
    says why metrics_hourly needs it."""
    return daily()


# Run tags that make one run cover a range of partitions (what a single-run backfill launches).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def range_tags(first: date, last: date, grain: str) -> dict[str, str]:
    """Run tags selecting the partitions from ``first`` to ``last`` (inclusive days)."""
    if last < first:
        raise ValueError(f"empty range: {first} .. {last}")
    if grain == "hourly":
        return {RANGE_START_TAG: f"{first:%Y-%m-%d}-00:00", RANGE_END_TAG: f"{last:%Y-%m-%d}-23:00"}
    if grain == "daily":
        return {RANGE_START_TAG: f"{first:%Y-%m-%d}", RANGE_END_TAG: f"{last:%Y-%m-%d}"}
    raise ValueError(f"unknown grain {grain!r}")
