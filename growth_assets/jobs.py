"""Asset jobs, one per partitioning: what schedules and backfills launch.

``hourly_assets`` holds every hourly-partitioned asset (ingestion of event streams and their
normalisation); ``daily_assets`` every daily-partitioned one (snapshots of slowly changing
objects, users, daily rollups). Both run at most two steps at a time, one per core here.
"""

from typing import Any

from dagster import AssetKey, AssetSelection, define_asset_job, multiprocess_executor

from growth_assets import partitions
from growth_assets.models.daily import METRICS_DAILY_KEY, USERS_KEY
from growth_assets.models.events import NORMALISERS
from growth_assets.sources.streams import STREAMS

HOURLY_JOB = "hourly_assets"
DAILY_JOB = "daily_assets"

HOURLY_KEYS: list[AssetKey] = [
    *(s.asset_key for s in STREAMS if s.grain == "hourly"),
    *(n.key for n in NORMALISERS),
]
DAILY_KEYS: list[AssetKey] = [
    *(s.asset_key for s in STREAMS if s.grain == "daily"),
    USERS_KEY,
    METRICS_DAILY_KEY,
]

_EXECUTOR = multiprocess_executor.configured({"max_concurrent": 2})


def jobs() -> list[Any]:
    """The job definitions (unresolved until the Definitions bind them to the assets)."""
    return [
        define_asset_job(
            HOURLY_JOB,
            selection=AssetSelection.assets(*HOURLY_KEYS),
            partitions_def=partitions.hourly(),
            executor_def=_EXECUTOR,
            description="Hourly ingestion of event streams and their normalisation.",
        ),
        define_asset_job(
            DAILY_JOB,
            selection=AssetSelection.assets(*DAILY_KEYS),
            partitions_def=partitions.daily(),
            executor_def=_EXECUTOR,
            description="Daily snapshots, the users dimension and daily rollups.",
        ),
    ]
