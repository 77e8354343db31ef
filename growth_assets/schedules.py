"""Schedules: the hourly tick that ingests every source, at each grain.

Sources cannot announce new data, so their ingestion is scheduled; everything downstream
follows by declarative automation (``growth_assets.automation``). The scheduled assets are
derived from the graph, never listed: every partitioned asset without upstream assets (a
root: it reads an outside system) is ingested by the schedule of its partitioning.

One rule for every grain. At ``HH:MM`` (``MM`` = ``GROWTH_SCHEDULE_MINUTE``, default 10: the
minutes after the hour leave room for late-arriving source data) each schedule requests the
partition of its grain that *contains the hour that just ended*:

* hourly assets: that hour (at 14:10, ``…-13:00``);
* daily assets (Stripe): today, re-materialised every hour so today's numbers stay current
  during the day (the daily partitions include today: ``partitions.daily`` has
  ``end_offset=1``); at the first tick after midnight (00:10) the hour that ended belongs to
  yesterday, so that tick closes yesterday with its final run. The daily models of yesterday
  (users, rollups) follow from it by automation, which is the "after midnight" daily run.

Were a grain's containing partition not to exist yet (a daily partitioning without
``end_offset=1``), the schedule falls back to its last complete partition.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dagster import (
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    DailyPartitionsDefinition,
    DefaultScheduleStatus,
    HourlyPartitionsDefinition,
    MonthlyPartitionsDefinition,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    TimeWindowPartitionsDefinition,
    WeeklyPartitionsDefinition,
    define_asset_job,
    partition_loading_context,
    schedule,
)

from growth_assets.jobs import RUN_EXECUTOR

DEFAULT_MINUTE = 10
TRIGGER_TAG = "growth/trigger"
_GRAINS: tuple[tuple[type[TimeWindowPartitionsDefinition], str], ...] = (
    (HourlyPartitionsDefinition, "hourly"),
    (DailyPartitionsDefinition, "daily"),
    (WeeklyPartitionsDefinition, "weekly"),
    (MonthlyPartitionsDefinition, "monthly"),
)


def schedule_minute() -> int:
    """``GROWTH_SCHEDULE_MINUTE``: the minute past each hour at which ingestion runs."""
    raw = os.environ.get("GROWTH_SCHEDULE_MINUTE", str(DEFAULT_MINUTE))
    try:
        minute = int(raw)
    except ValueError:
        minute = -1
    if not 0 <= minute <= 59:
        raise ValueError(f"GROWTH_SCHEDULE_MINUTE must be a minute 0-59, got {raw!r}")
    return minute


def grain_of(pdef: TimeWindowPartitionsDefinition) -> str:
    for cls, name in _GRAINS:
        if isinstance(pdef, cls):
            return name
    raise ValueError(f"no ingestion schedule for partitions {pdef!r}")


def is_root(assets_def: AssetsDefinition) -> bool:
    """An asset with no upstream asset: it reads an outside system."""
    return bool(assets_def.keys) and all(not spec.deps for spec in assets_def.specs)


@dataclass(frozen=True)
class IngestionTarget:
    grain: str
    partitions_def: TimeWindowPartitionsDefinition
    keys: tuple[AssetKey, ...]
    job_name: str


def ingestion_targets(assets: Sequence[Any]) -> list[IngestionTarget]:
    """The scheduled assets: partitioned roots, one target per partitioning (hourly first).
    Two partitionings of one grain (say, daily ones with different start dates) get a job
    each: ``ingest_daily``, ``ingest_daily_2``."""
    groups: list[tuple[TimeWindowPartitionsDefinition, list[AssetKey]]] = []
    for assets_def in assets:
        if not isinstance(assets_def, AssetsDefinition) or not is_root(assets_def):
            continue
        pdef = assets_def.partitions_def
        if not isinstance(pdef, TimeWindowPartitionsDefinition):
            continue
        grain_of(pdef)  # refuse grains without a schedule rule early
        for known, keys in groups:
            if known == pdef:
                keys.extend(assets_def.keys)
                break
        else:
            groups.append((pdef, list(assets_def.keys)))
    order = [name for _, name in _GRAINS]
    groups.sort(key=lambda group: order.index(grain_of(group[0])))
    targets: list[IngestionTarget] = []
    for pdef, keys in groups:
        grain = grain_of(pdef)
        same = sum(1 for t in targets if t.grain == grain)
        name = f"ingest_{grain}" if same == 0 else f"ingest_{grain}_{same + 1}"
        targets.append(IngestionTarget(grain, pdef, tuple(keys), name))
    return targets


def partition_for_tick(pdef: TimeWindowPartitionsDefinition, tick: datetime) -> str | None:
    """The partition a tick at ``tick`` ingests: the one containing the hour that just ended,
    or the last partition that exists at ``tick`` if that one does not yet; None before the
    first partition."""
    hour_end = tick.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    last_second = (hour_end - timedelta(seconds=1)).timestamp()
    with partition_loading_context(effective_dt=tick):
        first = pdef.get_first_partition_window()
        last = pdef.get_last_partition_window()
        if first is None or last is None or last_second < first.start.timestamp():
            return None
        key = pdef.get_partition_key_for_timestamp(last_second)
        if pdef.time_window_for_partition_key(key).start > last.start:
            key = pdef.get_last_partition_key() or key
    return key


def build_ingestion_schedule(
    target: IngestionTarget, minute: int, default_status: DefaultScheduleStatus
) -> ScheduleDefinition:
    job = define_asset_job(
        target.job_name,
        selection=AssetSelection.assets(*target.keys),
        partitions_def=target.partitions_def,
        executor_def=RUN_EXECUTOR,
        description=f"Ingest every {target.grain}-partitioned source (scheduled).",
    )

    @schedule(
        name=f"{target.job_name}_schedule",
        job=job,
        cron_schedule=f"{minute} * * * *",
        execution_timezone="UTC",
        default_status=default_status,
        description=f"Every hour at minute {minute}: the {target.grain} partition containing "
        "the hour that just ended (see growth_assets.schedules).",
    )
    def ingestion_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
        tick = context.scheduled_execution_time
        key = partition_for_tick(target.partitions_def, tick)
        if key is None:
            return SkipReason(f"{tick.isoformat()} is before the first partition")
        return RunRequest(
            run_key=f"{target.job_name}:{key}:{tick.isoformat()}",
            partition_key=key,
            tags={TRIGGER_TAG: "schedule"},
        )

    return ingestion_schedule


def ingestion_schedules(
    assets: Sequence[Any], default_status: DefaultScheduleStatus
) -> list[ScheduleDefinition]:
    minute = schedule_minute()
    return [
        build_ingestion_schedule(target, minute, default_status)
        for target in ingestion_targets(assets)
    ]
