"""Re-snapshot Stripe subscriptions and invoices for the trailing 35 days, every day.

Why: the daily partitions of ``raw/stripe_subscriptions`` and ``raw/stripe_invoices`` hold the
objects *created* that day, in the state they had when the partition ran. Subscriptions and
invoices keep changing afterwards (trial conversions, upgrades, cancellations, payments), and
the ``/v1/events`` stream that reports those changes is kept by Stripe for 30 days only. So
once a day the last 35 daily partitions (30 days of events plus margin for a missed day) are
re-materialised as one run over the partition range (``BackfillPolicy.single_run``), together
with ``growth/subscriptions`` built from them. Changes to objects older than 35 days still
land when those partitions are re-run by hand (or by a wider backfill).
"""

from datetime import date, timedelta

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from growth_assets import partitions
from growth_assets.models.subscriptions import SUBSCRIPTIONS_KEY
from growth_assets.sources.streams import STREAMS

RESNAPSHOT_DAYS = 35
RESNAPSHOT_JOB = "stripe_resnapshot"
RESNAPSHOT_KEYS = [
    *(
        s.asset_key
        for s in STREAMS
        if s.source == "stripe" and s.stream in ("subscriptions", "invoices")
    ),
    SUBSCRIPTIONS_KEY,
]

stripe_resnapshot_job = define_asset_job(
    RESNAPSHOT_JOB,
    selection=AssetSelection.assets(*RESNAPSHOT_KEYS),
    partitions_def=partitions.daily(),
    description="Stripe subscriptions and invoices re-snapshotted, then growth.subscriptions.",
)


def resnapshot_range(today: date, first_partition: date) -> tuple[date, date] | None:
    """The trailing ``RESNAPSHOT_DAYS`` complete days before ``today`` (UTC), never before the
    first partition; None when there is no complete day yet."""
    last = today - timedelta(days=1)
    first = max(last - timedelta(days=RESNAPSHOT_DAYS - 1), first_partition)
    return None if last < first else (first, last)


@schedule(
    job=stripe_resnapshot_job,
    cron_schedule="30 3 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description=f"Daily: re-materialise the last {RESNAPSHOT_DAYS} days of Stripe subscriptions "
    "and invoices (Stripe keeps change events 30 days) and growth.subscriptions.",
)
def stripe_resnapshot_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    today = context.scheduled_execution_time.date()
    span = resnapshot_range(today, date.fromisoformat(partitions.partitions_start()))
    if span is None:
        return SkipReason("no complete day since the partitions' start")
    first, last = span
    # Imported here: growth_assets.backfill imports the Definitions, which import this module.
    from growth_assets.backfill import range_tags

    return RunRequest(
        run_key=f"{RESNAPSHOT_JOB}:{first}:{last}",
        tags={**range_tags(first, last, "daily"), "growth/resnapshot": "stripe"},
    )


STRIPE_SCHEDULES: list[ScheduleDefinition] = [stripe_resnapshot_schedule]
