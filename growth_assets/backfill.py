"""Materialise the whole graph over a range of days, as single-run backfills.

Used by the demo command and the tests. Hourly assets (ingestion, then normalisation) run as
one run over the hourly range, daily assets as one run over the daily range: exactly what
``BackfillPolicy.single_run`` does for a backfill launched from the UI.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from dagster import AssetKey, DagsterInstance, materialize

from growth_assets.definitions import ASSETS
from growth_assets.models.daily import METRICS_DAILY_KEY, USERS_KEY
from growth_assets.models.events import FX_RATES_KEY, NORMALISERS
from growth_assets.sources.streams import STREAMS

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class CheckOutcome:
    asset: str
    check: str
    passed: bool
    severity: str


def range_tags(first: date, last: date, grain: str) -> dict[str, str]:
    """Run tags selecting the partitions from ``first`` to ``last`` (inclusive days)."""
    if last < first:
        raise ValueError(f"empty range: {first} .. {last}")
    if grain == "hourly":
        return {RANGE_START_TAG: f"{first:%Y-%m-%d}-00:00", RANGE_END_TAG: f"{last:%Y-%m-%d}-23:00"}
    if grain == "daily":
        return {RANGE_START_TAG: f"{first:%Y-%m-%d}", RANGE_END_TAG: f"{last:%Y-%m-%d}"}
    raise ValueError(f"unknown grain {grain!r}")


def plan(first: date, last: date) -> list[tuple[str, list[AssetKey], dict[str, str]]]:
    hourly, daily = range_tags(first, last, "hourly"), range_tags(first, last, "daily")
    return [
        ("fx rates", [FX_RATES_KEY], {}),
        ("ingest (hourly)", [s.asset_key for s in STREAMS], hourly),
        ("normalise (hourly)", [n.key for n in NORMALISERS], hourly),
        ("daily models", [USERS_KEY, METRICS_DAILY_KEY], daily),
    ]


def materialize_days(
    first: date, last: date, resources: dict[str, Any], instance: DagsterInstance
) -> tuple[dict[str, float], list[CheckOutcome]]:
    """Run every step of :func:`plan`; return seconds per step and every check outcome."""
    steps: dict[str, float] = {}
    checks: list[CheckOutcome] = []
    for name, selection, tags in plan(first, last):
        started = time.perf_counter()
        result = materialize(
            ASSETS, selection=selection, resources=resources, instance=instance, tags=tags
        )
        steps[name] = time.perf_counter() - started
        checks.extend(
            CheckOutcome(ev.asset_key.to_user_string(), ev.check_name, ev.passed, ev.severity.value)
            for ev in result.get_asset_check_evaluations()
        )
    return steps, checks
