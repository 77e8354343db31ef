"""Materialise the whole graph over a range of days, as single-run backfills.

Used by the demo command and the tests. The hourly-partitioned assets (ingestion of event
streams, then normalisation) run as one run over the hourly range and the daily ones as one
run over the daily range: exactly what ``BackfillPolicy.single_run`` does for a backfill
launched from the UI. ``growth.metrics_hourly`` (daily partitions that include today) runs
last, as its own run over the same days.

The runs execute in this process with the resources the caller gives (the environment's for
the demo, the tests' own source clients in front of the real pipeline in the tests). Running
the hourly job's steps two at a time in subprocesses was measured no faster on two cores
(273 s against 289 s for the two-year demo): the time goes to Dagster recording 17,520
partitions per hourly asset, which does not parallelise here.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from dagster import AssetCheckEvaluation, DagsterInstance, materialize

from growth_assets.definitions import assets_for
from growth_assets.jobs import DAILY_KEYS, HOURLY_KEYS, HOURLY_ROLLUP_KEYS
from growth_assets.models.events import FX_RATES_KEY
from growth_assets.partitions import RANGE_END_TAG, RANGE_START_TAG, range_tags
from growth_assets.reports.assets import MONTHLY_REPORT_KEY, REPORT_ASSETS, WEEKLY_REPORT_KEY
from growth_assets.reports.periods import last_complete
from growth_assets.sources.tabular_assets import tabular_keys
from growth_assets.sources.tabular_config import EMPTY, TabularConfig

__all__ = [
    "RANGE_END_TAG",
    "RANGE_START_TAG",
    "CheckOutcome",
    "materialize_days",
    "materialize_reports",
    "range_tags",
]

# Per-partition events are DEBUG; a backfill of thousands of partitions logs INFO and up only.
QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@dataclass(frozen=True)
class CheckOutcome:
    asset: str
    check: str
    passed: bool
    severity: str


def _outcomes(evaluations: Iterable[AssetCheckEvaluation]) -> list[CheckOutcome]:
    return [
        CheckOutcome(ev.asset_key.to_user_string(), ev.check_name, ev.passed, ev.severity.value)
        for ev in evaluations
    ]


def materialize_days(
    first: date,
    last: date,
    resources: dict[str, Any],
    instance: DagsterInstance,
    tabular: TabularConfig = EMPTY,
) -> tuple[dict[str, float], list[CheckOutcome]]:
    """The same plan in this process, with the caller's resources; returns seconds per step
    and every check outcome. ``tabular``: configured file/SQL sources to include; their daily
    ingestion runs before the hourly step, which normalises it."""
    assets = assets_for(tabular)
    extra = tabular_keys(tabular)
    plan = [
        ("fx rates", [FX_RATES_KEY], {}),
        *(
            [("daily sources", list(extra.daily), range_tags(first, last, "daily"))]
            if extra.daily
            else []
        ),
        ("hourly assets", [*HOURLY_KEYS, *extra.hourly], range_tags(first, last, "hourly")),
        ("daily assets", DAILY_KEYS, range_tags(first, last, "daily")),
        ("hourly rollups", HOURLY_ROLLUP_KEYS, range_tags(first, last, "daily")),
    ]
    steps: dict[str, float] = {}
    checks: list[CheckOutcome] = []
    for name, selection, tags in plan:
        started = time.perf_counter()
        result = materialize(
            assets,
            selection=selection,
            resources=resources,
            instance=instance,
            tags=tags,
            run_config=QUIET,
        )
        steps[name] = time.perf_counter() - started
        checks.extend(_outcomes(result.get_asset_check_evaluations()))
    return steps, checks


def materialize_reports(
    last: date,
    resources: dict[str, Any],
    instance: DagsterInstance,
    tabular: TabularConfig = EMPTY,
) -> tuple[dict[str, float], list[CheckOutcome]]:
    """The reports of the last complete ISO week and calendar month ending on or before
    ``last``: two partitions, not the whole history (a backfill from the UI renders more).
    ``resources`` must hold ``report_settings``."""
    assets = [*assets_for(tabular), *REPORT_ASSETS]
    steps: dict[str, float] = {}
    checks: list[CheckOutcome] = []
    for key, grain in ((WEEKLY_REPORT_KEY, "week"), (MONTHLY_REPORT_KEY, "month")):
        period = last_complete(grain, last)  # type: ignore[arg-type]
        key_name = f"{period.start:%Y-%m-%d}"
        pdef = next(a for a in REPORT_ASSETS if key in a.keys).partitions_def
        if pdef is None or key_name not in pdef.get_partition_keys():
            continue  # the data does not cover a whole period yet
        started = time.perf_counter()
        result = materialize(
            assets,
            selection=[key],
            resources=resources,
            instance=instance,
            partition_key=key_name,
            run_config=QUIET,
        )
        steps[f"{grain}ly report {period.label}"] = time.perf_counter() - started
        checks.extend(_outcomes(result.get_asset_check_evaluations()))
    return steps, checks
