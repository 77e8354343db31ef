"""Schedules of the rollups: today's hourly rollup every hour, retention every night.

``growth.metrics_hourly`` is daily-partitioned (a partition is a day's 24 hours) with today's
partition included, so the hourly schedule re-materialises *today's* partition each hour: the
hours that have passed get their numbers, the rest of the day stays empty. In the first hour
of a day it also rebuilds yesterday's partition, whose last hour was still filling when the
previous run started. Late data for older days reaches the table through the late-data sensor.
"""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    schedule,
)

from growth_assets.jobs import HOURLY_ROLLUPS_JOB, RETENTION_JOB


def hourly_partitions_to_run(context: ScheduleEvaluationContext) -> list[str]:
    """Today's partition, and yesterday's during the first hour of the day (UTC)."""
    now = context.scheduled_execution_time
    days = [now.date()]
    if now.hour == 0:
        days.insert(0, (now - timedelta(days=1)).date())
    return [f"{d:%Y-%m-%d}" for d in days]


def build_rollup_schedules(jobs: Sequence[Any]) -> list[ScheduleDefinition]:
    by_name = {j.name: j for j in jobs}

    @schedule(
        name="hourly_rollups_today",
        cron_schedule="10 * * * *",
        execution_timezone="UTC",
        job=by_name[HOURLY_ROLLUPS_JOB],
        default_status=DefaultScheduleStatus.STOPPED,
        description="Rebuilds today's hourly rollup at ten past every hour.",
    )
    def hourly_rollups_today(context: ScheduleEvaluationContext) -> list[RunRequest]:
        return [
            RunRequest(
                run_key=f"hourly-rollups:{p}:{context.scheduled_execution_time:%H}", partition_key=p
            )
            for p in hourly_partitions_to_run(context)
        ]

    retention_nightly = ScheduleDefinition(
        name="retention_nightly",
        cron_schedule="30 3 * * *",
        execution_timezone="UTC",
        job=by_name[RETENTION_JOB],
        default_status=DefaultScheduleStatus.STOPPED,
        description="Applies the retention horizons every night at 03:30 UTC.",
    )
    return [hourly_rollups_today, retention_nightly]
