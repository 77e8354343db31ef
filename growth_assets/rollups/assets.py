"""Rollup assets: the activity table, hourly / daily / monthly metrics, DAU / WAU / MAU.

Every asset is daily-partitioned and replaces its window in one transaction; a backfill of
any range runs once over the whole range (``BackfillPolicy.single_run``), the SQL taking the
window at once.

* ``growth.metrics_hourly`` is daily-partitioned on purpose: a partition writes its day's 24
  hourly rows. Hourly partitions would cost Dagster ~16 s of bookkeeping per two years per
  asset (17,520 partitions) for no gain: the SQL is the same. Its partitions include today
  (``partitions.daily_until_today``) so the hourly schedule can rebuild today's hours as they
  fill; it therefore has its own job.
* ``growth.metrics_monthly`` is daily-partitioned too and rewrites the whole month(s) its
  days fall in, from the daily rollup: the daily schedule keeps the month to date current,
  and a late event rebuilds its month through any day of that month.

The tier decides where the numbers come from (``Warehouse.tier()``, read at run time): on the
community tier the continuous aggregates are refreshed for the window and the tables are
filled from them; on the Apache and plain tiers the tables are computed from the events.
"""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)
from sqlalchemy.engine import Connection

from growth_assets import partitions
from growth_assets.metadata import markdown_table, window_metadata
from growth_assets.models.daily import EVENT_KEYS, METRICS_DAILY_KEY, USERS_KEY
from growth_assets.quality.results import check_spec, recorded
from growth_assets.rollups import sqlgen
from resources.locks import lock_asset, lock_window
from resources.settings import ModelSettings
from resources.warehouse import Tier, Warehouse

USER_ACTIVITY_DAILY_KEY = AssetKey(["growth", "user_activity_daily"])
METRICS_HOURLY_KEY = AssetKey(["growth", "metrics_hourly"])
METRICS_MONTHLY_KEY = AssetKey(["growth", "metrics_monthly"])
ENGAGEMENT_DAILY_KEY = AssetKey(["growth", "engagement_daily"])

DAILY = partitions.daily()
PREVIEW = ["bucket", "product_id", "net_revenue", "signups", "active_users", "churned_customers"]


def _window(context: AssetExecutionContext) -> tuple[dict[str, Any], str]:
    window = context.partition_time_window
    keys = context.partition_key_range
    label = keys.start if keys.start == keys.end else f"{keys.start}...{keys.end}"
    return {"window_start": window.start, "window_end": window.end}, label


def _bounds(params: dict[str, Any]) -> tuple[datetime, datetime]:
    return params["window_start"], params["window_end"]


def month_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The whole UTC months covering [start, end)."""
    first = start.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last = end.astimezone(UTC)
    if last.day == 1 and last.time() == datetime.min.time():
        stop = last
    else:
        stop = last.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        stop = (
            stop.replace(year=stop.year + 1, month=1)
            if stop.month == 12
            else stop.replace(month=stop.month + 1)
        )
    return first, stop


RECENT_DAYS = 2
"""Longest window (days) that :func:`refresh_engagement` computes with the short-window form
(``sql/rollups/engagement_daily_recent.sql``): a day's partition, or yesterday and today
rebuilt for late data. Longer ranges use the sweep (``engagement_daily.sql``). Both give the
same numbers (tests/test_rollups.py). The short form aggregates 30 days of activity per day of
the window, the sweep reads them once: measured on a month of activity at the 20M world's
density, the short form took 4.3 s against 5.0 s for one day, the same for three days, and
3.3x the sweep's time for seven (BENCHMARKS.md, measurement 9)."""


def engagement_file(start: datetime, end: datetime) -> str:
    """The engagement SQL file for the window [start, end)."""
    return (
        "rollups/engagement_daily_recent"
        if end - start <= timedelta(days=RECENT_DAYS)
        else "rollups/engagement_daily"
    )


def refresh_engagement(warehouse: Warehouse, params: dict[str, Any]) -> int:
    """Replace ``growth.engagement_daily`` for the window in ``params`` in one transaction;
    return the rows written."""
    with warehouse.transaction() as conn:
        lock_window(conn, "growth.engagement_daily", *_bounds(params))
        _, written = Warehouse.run_file(conn, engagement_file(*_bounds(params)), params)
    return written


STALE_SHARE = 0.1
"""Analyse growth.user_activity_daily when more than this share of its rows changed since its
statistics were gathered (autovacuum's default analyse threshold)."""


def fresh_activity_statistics(conn: Connection, written: int = 0) -> None:
    """``ANALYZE growth.user_activity_daily`` when its statistics are stale: more than
    :data:`STALE_SHARE` of its rows changed since they were gathered, counting ``written``
    rows just committed (the server's counters may not show them yet; counting them twice
    only makes the analysis likelier).

    A backfill fills the table faster than autovacuum analyses it, and the plans that read
    it whole right after (the cohort assets, dashboards) chose external sorts and per-user
    index probes without statistics, several times slower at the design scale. So the
    activity rollup analyses what it has just filled, and the cohort assets check again
    before they read (the table may have been filled by another path). A role that owns
    neither the table nor the database gets a server warning and no analysis (PostgreSQL
    15), not an error."""
    (row,) = Warehouse.fetch_file(conn, "rollups/activity_changes")
    if int(row.changed) + written > STALE_SHARE * max(int(row.live), 1):
        conn.execute(sa.text("ANALYZE growth.user_activity_daily"))


def refresh_activity(warehouse: Warehouse, params: dict[str, Any]) -> int:
    """Replace ``growth.user_activity_daily`` for the window in ``params`` and bring
    ``growth.user_activity_totals`` in step, in one transaction, then analyse the daily
    table if the window changed much of it; return the daily rows written. (The analysis
    runs after the commit: in the writing transaction it took 4.2-4.9 s in the design-scale
    build, against 2.2 s when a later transaction ran it.)

    The totals: when the table holds no day outside the window (a first load, a full
    backfill) they are rebuilt whole; otherwise each user's totals move by the difference
    between what the window held before the replace and what it holds after. Concurrent
    windows take turns there (:func:`resources.locks.lock_asset`), so each reads the
    totals the other left."""
    with warehouse.transaction() as conn:
        lock_window(conn, "growth.user_activity_daily", *_bounds(params))
        (row,) = Warehouse.fetch_file(conn, "rollups/activity_outside_window", params)
        if row.outside:
            Warehouse.run_file(
                conn, "rollups/activity_window_totals", params, target="window_before"
            )
        _, written = Warehouse.run_file(conn, "rollups/user_activity_daily", params)
        lock_asset(conn, "growth.user_activity_totals")
        if row.outside:
            Warehouse.run_file(
                conn, "rollups/activity_window_totals", params, target="window_after"
            )
            Warehouse.run_file(conn, "rollups/user_activity_totals_window", params)
        else:
            Warehouse.run_file(conn, "rollups/user_activity_totals_all")
    with warehouse.transaction() as conn:
        fresh_activity_statistics(conn, written)
    return written


def _seconds(started: float) -> MetadataValue:
    return MetadataValue.float(round(time.perf_counter() - started, 3))


def refresh_rollup(
    warehouse: Warehouse, grain: sqlgen.Grain, params: dict[str, Any], events_days: int = 0
) -> int:
    """Replace ``grain``'s rollup for the window in ``params``; return the rows written.

    On the community tier the continuous aggregates are re-aggregated for the window first
    (only where the events are still retained, ``events_days``), so late data is in."""
    tier = warehouse.tier()
    if tier is Tier.COMMUNITY:
        ensure_community(warehouse)
        window = sqlgen.retained_window(
            params["window_start"], params["window_end"], grain, events_days, datetime.now(UTC)
        )
        if window is not None:
            bounds = {"window_start": window[0], "window_end": window[1]}
            # refresh_continuous_aggregate refuses to run inside a transaction block.
            autocommit = warehouse.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            with autocommit as conn:
                for stmt in sqlgen.community_refresh_sql(grain):
                    conn.execute(sa.text(stmt), bounds)
    with warehouse.transaction() as conn:
        lock_window(conn, grain.table, params["window_start"], params["window_end"])
        counts = [
            conn.execute(sa.text(s), params).rowcount for s in sqlgen.refresh_sql(grain, tier)
        ]
    return counts[-1]


def ensure_community(warehouse: Warehouse) -> None:
    """Create the community tier's continuous aggregates and policies (idempotent)."""
    with warehouse.transaction() as conn:
        conn.execute(sa.text("SET LOCAL client_min_messages = warning"))
        for stmt in sqlgen.community_setup_sql():
            conn.execute(sa.text(stmt))


def rollup_check(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    grain: sqlgen.Grain,
    params: dict[str, Any],
) -> tuple[AssetCheckResult, list[Any]]:
    with warehouse.transaction() as conn:
        row = conn.execute(sa.text(sqlgen.check_sql(grain)), params).one()
        preview = list(conn.execute(sa.text(sqlgen.preview_sql(grain)), params))
        mismatches = sqlgen.check_mismatches(row, grain)
        result = recorded(
            conn,
            context,
            context.asset_key,
            "totals_match_inputs",
            not mismatches,
            AssetCheckSeverity.ERROR,
            {"mismatches": mismatches, "rows": int(row.rows)},
        )
    return result, preview


def _totals_check(key: AssetKey, what: str) -> AssetCheckSpec:
    return check_spec(
        "totals_match_inputs",
        key,
        f"Additive metrics equal {what} they summarise; every metric's 'all' row "
        "equals the sum of the product rows.",
        partitions_def=DAILY,
    )


def _rollup_result(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    settings: ModelSettings,
    grain: sqlgen.Grain,
    params: dict[str, Any],
    label: str,
    started: float,
) -> MaterializeResult:
    written = refresh_rollup(warehouse, grain, params, settings.retention_events_days)
    check, preview = rollup_check(context, warehouse, grain, params)
    return MaterializeResult(
        metadata={
            **window_metadata(params["window_start"], params["window_end"], label),
            "rows": written,
            "timescaledb_tier": warehouse.tier().value,
            "seconds": _seconds(started),
            "preview": markdown_table(preview, PREVIEW),
        },
        check_results=[check],
    )


@asset(
    key=USER_ACTIVITY_DAILY_KEY,
    description="One row per product, user and day with any event: events, revenue, flags.",
    group_name="rollups",
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=EVENT_KEYS,
    check_specs=[
        check_spec(
            "totals_match_events",
            USER_ACTIVITY_DAILY_KEY,
            "Events, revenue, refunds and (product, user, day) triples equal the events of the "
            "window.",
            partitions_def=DAILY,
        )
    ],
)
def user_activity_daily(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    params, label = _window(context)
    started = time.perf_counter()
    written = refresh_activity(warehouse, params)
    with warehouse.transaction() as conn:
        (t,) = Warehouse.fetch_file(conn, "checks/user_activity_totals", params)
        mismatches = {
            name: [str(getattr(t, f"events_{name}")), str(getattr(t, f"activity_{name}"))]
            for name in ("events", "revenue", "refunds", "user_days")
            if getattr(t, f"events_{name}") != getattr(t, f"activity_{name}")
        }
        result = recorded(
            conn,
            context,
            USER_ACTIVITY_DAILY_KEY,
            "totals_match_events",
            not mismatches,
            AssetCheckSeverity.ERROR,
            {"mismatches": mismatches},
        )
    return MaterializeResult(
        metadata={
            **window_metadata(params["window_start"], params["window_end"], label),
            "rows": written,
            "timescaledb_tier": warehouse.tier().value,
            "seconds": _seconds(started),
        },
        check_results=[result],
    )


@asset(
    key=METRICS_HOURLY_KEY,
    description="Hourly KPIs per product and for all products (a partition is a day's 24 hours).",
    group_name="rollups",
    kinds={"postgres"},
    partitions_def=partitions.daily_until_today(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=[*EVENT_KEYS, USERS_KEY],
    check_specs=[_totals_check(METRICS_HOURLY_KEY, "the events")],
)
def metrics_hourly(
    context: AssetExecutionContext, warehouse: Warehouse, settings: ModelSettings
) -> MaterializeResult:
    params, label = _window(context)
    return _rollup_result(
        context, warehouse, settings, sqlgen.HOURLY, params, label, time.perf_counter()
    )


@asset(
    key=METRICS_DAILY_KEY,
    description="Daily KPIs per product and for all products: revenue, signups, churn, actives.",
    group_name="rollups",
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=[*EVENT_KEYS, USERS_KEY, USER_ACTIVITY_DAILY_KEY],
    check_specs=[_totals_check(METRICS_DAILY_KEY, "the events")],
)
def metrics_daily(
    context: AssetExecutionContext, warehouse: Warehouse, settings: ModelSettings
) -> MaterializeResult:
    params, label = _window(context)
    return _rollup_result(
        context, warehouse, settings, sqlgen.DAILY, params, label, time.perf_counter()
    )


@asset(
    key=METRICS_MONTHLY_KEY,
    description="Monthly KPIs per product and for all products; a day rewrites its whole month.",
    group_name="rollups",
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=[METRICS_DAILY_KEY, USER_ACTIVITY_DAILY_KEY],
    check_specs=[_totals_check(METRICS_MONTHLY_KEY, "the daily rollup rows")],
)
def metrics_monthly(
    context: AssetExecutionContext, warehouse: Warehouse, settings: ModelSettings
) -> MaterializeResult:
    params, label = _window(context)
    start, end = month_window(params["window_start"], params["window_end"])
    return _rollup_result(
        context,
        warehouse,
        settings,
        sqlgen.MONTHLY,
        {"window_start": start, "window_end": end},
        label,
        time.perf_counter(),
    )


@asset(
    key=ENGAGEMENT_DAILY_KEY,
    description="DAU, WAU (trailing 7 days), MAU (trailing 30 days) and stickiness per day.",
    group_name="rollups",
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=[USER_ACTIVITY_DAILY_KEY, USERS_KEY],
    check_specs=[
        check_spec(
            "consistent_with_activity",
            ENGAGEMENT_DAILY_KEY,
            "DAU equals the active users of growth.user_activity_daily, DAU <= WAU <= MAU, and "
            "'all' is the sum of the products.",
            partitions_def=DAILY,
        )
    ],
)
def engagement_daily(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    params, label = _window(context)
    started = time.perf_counter()
    written = refresh_engagement(warehouse, params)
    with warehouse.transaction() as conn:
        (c,) = Warehouse.fetch_file(conn, "checks/engagement_daily", params)
        problems = {
            "dau_mismatches": int(c.dau_mismatches),
            "unordered": int(c.unordered),
            "all_mismatches": int(c.all_mismatches),
        }
        result = recorded(
            conn,
            context,
            ENGAGEMENT_DAILY_KEY,
            "consistent_with_activity",
            not any(problems.values()),
            AssetCheckSeverity.ERROR,
            {**problems, "rows": int(c.rows)},
        )
    return MaterializeResult(
        metadata={
            **window_metadata(params["window_start"], params["window_end"], label),
            "rows": written,
            "seconds": _seconds(started),
        },
        check_results=[result],
    )


ROLLUP_ASSETS = [
    user_activity_daily,
    metrics_hourly,
    metrics_daily,
    metrics_monthly,
    engagement_daily,
]
