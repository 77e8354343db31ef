"""Daily models: the users dimension and ``growth.metrics_daily``.

Both are daily partitions over the canonical events. ``growth.users`` merges a window (first
and last seen only widen); ``growth.metrics_daily`` replaces its days in one transaction.
"""

import time

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

from growth_assets import partitions
from growth_assets.metadata import markdown_table, window_metadata
from growth_assets.models.events import NORMALISERS
from resources.warehouse import Warehouse

USERS_KEY = AssetKey(["growth", "users"])
METRICS_DAILY_KEY = AssetKey(["growth", "metrics_daily"])
EVENT_KEYS = [n.key for n in NORMALISERS]


def _window(context: AssetExecutionContext) -> tuple[dict[str, object], str]:
    window = context.partition_time_window
    keys = context.partition_key_range
    label = keys.start if keys.start == keys.end else f"{keys.start}...{keys.end}"
    return {"window_start": window.start, "window_end": window.end}, label


@asset(
    key=USERS_KEY,
    description="One row per product user: signup attributes, first and last seen.",
    group_name="canonical",
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=EVENT_KEYS,
    check_specs=[
        AssetCheckSpec(
            "users_cover_events",
            asset=USERS_KEY,
            description="Every user with events in the window has a users row.",
        )
    ],
)
def users(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    params, label = _window(context)
    started = time.perf_counter()
    with warehouse.transaction() as conn:
        (merged,) = Warehouse.run_file(conn, "models/upsert_users", params)
    with warehouse.engine.connect() as conn:
        (check,) = Warehouse.fetch_file(conn, "checks/users_cover_events", params)
    return MaterializeResult(
        metadata={
            **window_metadata(params["window_start"], params["window_end"], label),  # type: ignore[arg-type]
            "rows_merged": merged,
            "seconds": MetadataValue.float(round(time.perf_counter() - started, 3)),
        },
        check_results=[
            AssetCheckResult(
                check_name="users_cover_events",
                passed=check.missing == 0,
                severity=AssetCheckSeverity.ERROR,
                metadata={"missing_users": int(check.missing)},
            )
        ],
    )


@asset(
    key=METRICS_DAILY_KEY,
    description="Daily KPIs per product and for all products: revenue, signups, churn, actives.",
    group_name="rollups",
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=[*EVENT_KEYS, USERS_KEY],
    check_specs=[
        AssetCheckSpec(
            "totals_match_events",
            asset=METRICS_DAILY_KEY,
            description="Revenue, refunds, signups and event counts equal the events summarised; "
            "the 'all' row equals the sum of the products.",
        )
    ],
)
def metrics_daily(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    params, label = _window(context)
    started = time.perf_counter()
    with warehouse.transaction() as conn:
        _, written = Warehouse.run_file(conn, "models/metrics_daily", params)
    with warehouse.engine.connect() as conn:
        (t,) = Warehouse.fetch_file(conn, "checks/metrics_daily_totals", params)
        last_day = Warehouse.fetch_file(conn, "models/metrics_daily_last_day", params)
    mismatches = {
        name: [str(a), str(b)]
        for name, a, b in (
            ("revenue", t.events_revenue, t.rollup_revenue),
            ("refunds", t.events_refunds, t.rollup_refunds),
            ("signups", t.events_signups, t.rollup_signups),
            ("events", t.events_events, t.rollup_events),
            ("all_revenue", t.rollup_revenue, t.all_revenue),
            ("all_events", t.rollup_events, t.all_events),
        )
        if a != b
    }
    return MaterializeResult(
        metadata={
            **window_metadata(params["window_start"], params["window_end"], label),  # type: ignore[arg-type]
            "rows": written,
            "timescaledb_tier": warehouse.tier().value,
            "seconds": MetadataValue.float(round(time.perf_counter() - started, 3)),
            "preview": markdown_table(
                last_day,
                [
                    "day",
                    "product_id",
                    "net_revenue",
                    "signups",
                    "active_users",
                    "churned_customers",
                ],
            ),
        },
        check_results=[
            AssetCheckResult(
                check_name="totals_match_events",
                passed=not mismatches,
                severity=AssetCheckSeverity.ERROR,
                metadata={"mismatches": MetadataValue.json(mismatches)},
            )
        ],
    )
