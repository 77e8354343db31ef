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
from datetime import UTC, datetime

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
