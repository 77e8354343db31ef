"""Asset jobs, one per partitioning: what schedules and backfills launch.

``hourly_assets`` holds every hourly-partitioned asset (Mixpanel and Zendesk ingestion and
their normalisation); ``daily_assets`` every daily-partitioned one (Stripe ingestion and
normalisation, users, subscriptions, daily rollups, cohorts). ``hourly_rollups`` holds
``growth.metrics_hourly`` (its hourly schedule rebuilds today's hours) and ``retention`` the
unpartitioned retention asset. All run at most two steps at a time, one per core here.
"""

from collections.abc import Sequence
from typing import Any

from dagster import AssetKey, AssetSelection, define_asset_job, in_process_executor

from growth_assets import partitions
from growth_assets.cohorts.assets import COHORT_KEYS
from growth_assets.models.daily import METRICS_DAILY_KEY, USERS_KEY
from growth_assets.models.events import NORMALISERS
from growth_assets.models.subscriptions import SUBSCRIPTIONS_KEY
from growth_assets.rollups.assets import (
    ENGAGEMENT_DAILY_KEY,
    METRICS_HOURLY_KEY,
    METRICS_MONTHLY_KEY,
    USER_ACTIVITY_DAILY_KEY,
)
from growth_assets.rollups.retention import RETENTION_KEY
from growth_assets.saas.assets import SAAS_KEYS
from growth_assets.sources.streams import STREAMS

HOURLY_JOB = "hourly_assets"
DAILY_JOB = "daily_assets"
HOURLY_ROLLUPS_JOB = "hourly_rollups"
RETENTION_JOB = "retention"

HOURLY_KEYS: list[AssetKey] = [
    *(s.asset_key for s in STREAMS if s.grain == "hourly"),
    *(n.key for n in NORMALISERS if n.grain == "hourly"),
]
DAILY_KEYS: list[AssetKey] = [
    *(s.asset_key for s in STREAMS if s.grain == "daily"),
    *(n.key for n in NORMALISERS if n.grain == "daily"),
    USERS_KEY,
    SUBSCRIPTIONS_KEY,
    USER_ACTIVITY_DAILY_KEY,
    METRICS_DAILY_KEY,
    METRICS_MONTHLY_KEY,
    ENGAGEMENT_DAILY_KEY,
    *COHORT_KEYS,
    *SAAS_KEYS,
]
HOURLY_ROLLUP_KEYS: list[AssetKey] = [METRICS_HOURLY_KEY]

# Every run executes its steps in one process. The steps are SQL the server does; a process
# per step (the multiprocess executor) re-imported the code location and Great Expectations
# each time: an hourly run of one partition took 94x its SQL time that way, 24x in process
# (BENCHMARKS.md, orchestration). Pools (one per source) are honoured by this executor too.
RUN_EXECUTOR = in_process_executor


_JOBS = (
    (
        HOURLY_JOB,
        HOURLY_KEYS,
        partitions.hourly,
        "Hourly ingestion of event streams and their normalisation.",
    ),
    (
        DAILY_JOB,
        DAILY_KEYS,
        partitions.daily,
        "Daily snapshots, the users dimension and daily rollups.",
    ),
    (
        HOURLY_ROLLUPS_JOB,
        HOURLY_ROLLUP_KEYS,
        partitions.daily_until_today,
        "Hourly rollups: a partition is a day's 24 hours, today's included.",
    ),
    (
        RETENTION_JOB,
        [RETENTION_KEY],
        lambda: None,
        "Retention: removes rows older than their configured horizon.",
    ),
)


def jobs(extra_hourly: Sequence[AssetKey] = (), extra_daily: Sequence[AssetKey] = ()) -> list[Any]:
    """The job definitions (unresolved until the Definitions bind them to the assets);
    ``extra_*``: the configured tabular sources' assets of each partitioning."""
    extra = {HOURLY_JOB: list(extra_hourly), DAILY_JOB: list(extra_daily)}
    return [
        define_asset_job(
            name,
            selection=AssetSelection.assets(*keys, *extra.get(name, [])),
            partitions_def=partitions_def(),
            executor_def=RUN_EXECUTOR,
            description=description,
        )
        for name, keys, partitions_def, description in _JOBS
    ]
