"""Late data: rebuild the rollup partitions whose events changed after they were built.

Normalisation marks every hour of ``growth.events`` whose content changed in
``ops.stale_windows`` (``sql/models/load_events.sql``), in the same transaction as the events.
This sensor reads the marks newer than its cursor (``marked_at``), maps each hour to the daily
partitions that summarise it, and asks Dagster to re-materialise those partitions that were
already materialised *before* the mark (read from the Dagster instance). Partitions never
built are left to the schedules and backfills; partitions rebuilt since the mark are fresh.
The cursor then moves to the newest mark read.

Mapping of a stale hour on day D:

* ``growth.users``, ``growth.user_activity_daily``, ``growth.metrics_daily``,
  ``growth.metrics_hourly``: partition D;
* ``growth.metrics_monthly``: partition D (any day of a month rewrites the whole month);
* ``growth.engagement_daily``: D to D + 29, the days whose trailing 7- / 30-day windows
  contain D.

Requests are single-run ranges: one run per contiguous block of days and job, selecting the
affected assets of the block (Dagster orders them by dependency within the run, so the
activity table is rebuilt before DAU/WAU/MAU read it). A block therefore also rebuilds the
other selected assets on the block's ripple days, a few seconds of SQL, to keep that ordering.

The cursor holds a floor: marks newer than it are read. A normalisation that started earlier
but committed after the previous tick has marks older than the newest one read, so a mark is
re-read for ``GRACE`` after it was made (fresh partitions are skipped, and the run key, block
and newest mark, lets Dagster drop duplicates), and no longer: the floor then moves up to the
newest mark, so a backfill's tens of thousands of marks are not re-read on every tick.
"""

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterInstance,
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from growth_assets.cohorts.assets import (
    COHORT_LTV_KEY,
    FEATURE_ADOPTION_KEY,
    GROWTH_ACCOUNTING_KEY,
    POWER_USERS_KEY,
    RETENTION_TRIANGLE_KEY,
)
from growth_assets.jobs import DAILY_JOB, HOURLY_ROLLUPS_JOB
from growth_assets.models.daily import METRICS_DAILY_KEY, USERS_KEY
from growth_assets.partitions import range_tags
from growth_assets.rollups.assets import (
    ENGAGEMENT_DAILY_KEY,
    METRICS_HOURLY_KEY,
    METRICS_MONTHLY_KEY,
    USER_ACTIVITY_DAILY_KEY,
)
from growth_assets.saas.assets import (
    CUSTOMER_360_KEY,
    FUNNEL_KEY,
    MRR_MONTHLY_KEY,
    NORTH_STAR_KEY,
)
from resources.warehouse import Warehouse

SENSOR_NAME = "late_data_rollups"
GRACE = timedelta(minutes=10)
TRAILING_DAYS = 30  # MAU window: a day's activity is in the MAU of the next 29 days too
POWER_USER_DAYS = 28  # L28: a day's activity is in the histogram of the next 27 days too

# job → the rollups it rebuilds, with how many following days a stale day reaches.
TARGETS: dict[str, dict[AssetKey, int]] = {
    DAILY_JOB: {
        USERS_KEY: 0,
        USER_ACTIVITY_DAILY_KEY: 0,
        METRICS_DAILY_KEY: 0,
        METRICS_MONTHLY_KEY: 0,
        ENGAGEMENT_DAILY_KEY: TRAILING_DAYS - 1,
        # the cohort assets rebuild every later period / cohort a day affects themselves
        GROWTH_ACCOUNTING_KEY: 0,
        RETENTION_TRIANGLE_KEY: 0,
        COHORT_LTV_KEY: 0,
        FEATURE_ADOPTION_KEY: 0,
        POWER_USERS_KEY: POWER_USER_DAYS - 1,
        # so do the SaaS assets (a day rewrites its month's MRR, its periods' north star, the
        # funnels of the cohorts it can reach, and the whole customer 360)
        MRR_MONTHLY_KEY: 0,
        FUNNEL_KEY: 0,
        NORTH_STAR_KEY: 0,
        CUSTOMER_360_KEY: 0,
    },
    HOURLY_ROLLUPS_JOB: {METRICS_HOURLY_KEY: 0},
}


def stale_days(marks: Iterable[Any]) -> dict[date, datetime]:
    """UTC day → the newest mark of any of its hours."""
    days: dict[date, datetime] = {}
    for m in marks:
        day = m.window_start.astimezone(UTC).date()
        days[day] = max(days.get(day, m.marked_at), m.marked_at)
    return days


def _reach(days: dict[date, datetime], ahead: int) -> dict[str, datetime]:
    """Partition key → newest mark, for the partitions ``days`` reach ``ahead`` days on."""
    out: dict[str, datetime] = {}
    for day, marked in days.items():
        for k in range(ahead + 1):
            key = f"{day + timedelta(days=k):%Y-%m-%d}"
            out[key] = max(out.get(key, marked), marked)
    return out


def _latest_materialisations(
    instance: DagsterInstance, key: AssetKey, partitions: Sequence[str], after: datetime
) -> dict[str, float]:
    latest: dict[str, float] = {}
    cursor = None
    while True:
        result = instance.fetch_materializations(
            AssetRecordsFilter(
                asset_key=key, asset_partitions=list(partitions), after_timestamp=after.timestamp()
            ),
            limit=1000,
            cursor=cursor,
        )
        for record in result.records:
            if record.partition_key is not None:
                latest[record.partition_key] = max(
                    latest.get(record.partition_key, 0.0), record.timestamp
                )
        if not result.has_more:
            return latest
        cursor = result.cursor


def partitions_to_rebuild(
    instance: DagsterInstance, key: AssetKey, reached: dict[str, datetime]
) -> set[str]:
    """The reached partitions of ``key`` materialised before their newest mark."""
    built = instance.get_materialized_partitions(key)
    candidates = {p: t for p, t in reached.items() if p in built}
    if not candidates:
        return set()
    since = _latest_materialisations(instance, key, sorted(candidates), min(candidates.values()))
    return {p for p, t in candidates.items() if since.get(p, 0.0) < t.timestamp()}


def blocks(days: Iterable[str]) -> list[tuple[date, date]]:
    """Contiguous runs of days, as inclusive (first, last) pairs."""
    ordered = sorted({date.fromisoformat(d) for d in days})
    out: list[tuple[date, date]] = []
    for d in ordered:
        if out and d == out[-1][1] + timedelta(days=1):
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def run_requests(instance: DagsterInstance, days: dict[date, datetime]) -> list[RunRequest]:
    """One run per job and contiguous block of days to rebuild."""
    newest = max(days.values())
    requests = []
    for job_name, targets in TARGETS.items():
        needed = {
            key: partitions_to_rebuild(instance, key, _reach(days, ahead))
            for key, ahead in targets.items()
        }
        for first, last in blocks(p for parts in needed.values() for p in parts):
            in_block = {
                f"{first + timedelta(days=k):%Y-%m-%d}" for k in range((last - first).days + 1)
            }
            selection = [key for key, parts in needed.items() if parts & in_block]
            requests.append(
                RunRequest(
                    run_key=f"late-data:{job_name}:{first}:{last}:{newest.isoformat()}",
                    job_name=job_name,
                    asset_selection=selection,
                    tags={**range_tags(first, last, "daily"), "growth/trigger": "late-data"},
                )
            )
    return requests


def read_floor(cursor: str | None) -> datetime | None:
    """Marks newer than this are read (None: all). Earlier cursors held the newest mark."""
    if not cursor:
        return None
    if cursor.startswith("{"):
        return datetime.fromisoformat(json.loads(cursor)["floor"])
    return datetime.fromisoformat(cursor) - GRACE


def next_floor(floor: datetime | None, newest: datetime, now: datetime) -> datetime:
    """Keep re-reading marks younger than ``GRACE``; never move the floor back."""
    candidate = min(newest, now - GRACE)
    return max(floor, candidate) if floor else candidate


def evaluate(
    context: SensorEvaluationContext, warehouse: Warehouse, now: datetime | None = None
) -> SensorResult:
    floor = read_floor(context.cursor)
    with warehouse.engine.connect() as conn:
        marks = Warehouse.fetch_file(conn, "ops/stale_windows_since", {"after": floor})
    if not marks:
        return SensorResult(skip_reason="no late-data marks", cursor=context.cursor)
    newest = max(m.marked_at for m in marks)
    new_floor = next_floor(floor, newest, now or datetime.now(UTC))
    requests = run_requests(context.instance, stale_days(marks))
    context.log.info(f"{len(marks)} stale hours since {floor}: {len(requests)} run request(s)")
    cursor = json.dumps({"floor": new_floor.isoformat(), "newest": newest.isoformat()})
    return SensorResult(run_requests=requests, cursor=cursor)


def build_late_data_sensor(jobs: Sequence[Any]) -> SensorDefinition:
    """The sensor, targeting the daily and hourly-rollup jobs among ``jobs``."""
    targets = [j for j in jobs if j.name in TARGETS]

    @sensor(
        name=SENSOR_NAME,
        jobs=targets,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Rebuilds rollup partitions whose events changed after they were built "
        "(ops.stale_windows).",
    )
    def late_data_rollups(context: SensorEvaluationContext, warehouse: Warehouse) -> SensorResult:
        return evaluate(context, warehouse)

    return late_data_rollups
