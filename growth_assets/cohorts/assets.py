"""Cohort assets: growth accounting, retention triangles, LTV by cohort, power users and
feature adoption (DESIGN.md "Metric definitions"; SQL in ``sql/cohorts/``).

Every asset is daily-partitioned with ``BackfillPolicy.single_run()`` like the rollups, and
every run replaces what its days affect in one transaction, so re-runs converge and a killed
run leaves the previous state:

* ``growth.growth_accounting``: a day's activity decides its period, the next one and whether
  a user's later return is new or resurrected, so the periods from the window's first one to
  the last period with data are rebuilt (at each grain: day, ISO week, month).
* ``growth.retention_triangle`` and ``growth.cohort_ltv``: a day can move a user's cohort and
  changes every unbounded cell / cumulative revenue after it, so the whole table is
  rebuilt from ``growth.user_activity_daily`` (the triangle with polars, ``triangle.py``
  says why; LTV set-based, one pass per grain).
* ``growth.power_users``: the days of the window (each reads the 27 days before it),
  counted in one pass over the days in order (``histogram.py`` says why).
* ``growth.feature_adoption``: the periods holding a day of the window, recounted whole
  (the events are read once for the three grains, into a temporary table).

Active user = at least one user-initiated event (``growth.user_activity_daily.active``);
the portfolio row ``product_id = 'all'`` is the sum of the product rows, as in the rollups.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import sqlalchemy as sa
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)
from sqlalchemy.engine import Connection

from growth_assets import partitions
from growth_assets.cohorts.adoption import rebuild as rebuild_adoption
from growth_assets.cohorts.histogram import rebuild as rebuild_power_users
from growth_assets.cohorts.lifecycle import rebuild as rebuild_lifecycle
from growth_assets.cohorts.periods import COHORT_GRAINS
from growth_assets.cohorts.triangle import rebuild as rebuild_triangle
from growth_assets.metadata import markdown_table, window_metadata
from growth_assets.models.daily import EVENT_KEYS, USERS_KEY
from growth_assets.models.subscriptions import SUBSCRIPTIONS_KEY
from growth_assets.quality.results import check_spec, recorded
from growth_assets.rollups.assets import (
    ENGAGEMENT_DAILY_KEY,
    USER_ACTIVITY_DAILY_KEY,
    fresh_activity_statistics,
)
from resources.features import features_json
from resources.locks import lock_asset
from resources.settings import ModelSettings
from resources.warehouse import Warehouse

GROWTH_ACCOUNTING_KEY = AssetKey(["growth", "growth_accounting"])
RETENTION_TRIANGLE_KEY = AssetKey(["growth", "retention_triangle"])
COHORT_LTV_KEY = AssetKey(["growth", "cohort_ltv"])
POWER_USERS_KEY = AssetKey(["growth", "power_users"])
FEATURE_ADOPTION_KEY = AssetKey(["growth", "feature_adoption"])

GROUP = "cohorts"
DAILY = partitions.daily()


def _window(context: AssetExecutionContext) -> tuple[dict[str, Any], str]:
    window = context.partition_time_window
    keys = context.partition_key_range
    label = keys.start if keys.start == keys.end else f"{keys.start}...{keys.end}"
    return {"window_start": window.start, "window_end": window.end}, label


@contextmanager
def _transaction(warehouse: Warehouse) -> Iterator[Connection]:
    """A transaction without JIT compilation: these queries' cost estimates are high enough
    for PostgreSQL to JIT-compile them, which was measured to take longer than running them."""
    with warehouse.transaction() as conn:
        conn.execute(sa.text("SET LOCAL jit = off"))
        yield conn


def _checked(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    name: str,
    sql: str,
    params: dict[str, Any] | None,
    problems: Callable[[Any], dict[str, int]],
    extra: Callable[[Any], dict[str, Any]] = lambda _: {},
    sizes_of: str | None = None,
) -> AssetCheckResult:
    """Run the check query ``sql/cohorts/<sql>.sql`` (one row) and record its ERROR result in
    ``ops.quality_results`` in the same transaction: it passes when every problem count is 0.

    ``sizes_of`` (``retention_triangle`` / ``cohort_ltv``) adds the condition "cohort sizes
    consistent with the users table" (``check_sizes_vs_users.sql``), reported per product;
    both queries then read the per-user recount of ``check_firsts.sql``, made once."""
    with _transaction(warehouse) as conn:
        if sizes_of is not None:
            Warehouse.run_file(conn, "cohorts/check_firsts")
        (row,) = Warehouse.fetch_file(conn, f"cohorts/{sql}", params)
        found = problems(row)
        observed: dict[str, Any] = {**found, **extra(row)}
        if sizes_of is not None:
            per_product = Warehouse.fetch_file(
                conn, "cohorts/check_sizes_vs_users", {"relation": sizes_of}
            )
            found["users_table_mismatches"] = sum(int(r.mismatches) for r in per_product)
            observed["users_table_mismatches"] = found["users_table_mismatches"]
            observed["cohort_sizes_vs_users_table"] = {
                r.product_id: {
                    "cohorts": int(r.cohorts),
                    "mismatching_cohorts": int(r.mismatches),
                    "monthly_cohort_users": int(r.cohort_users),
                    "users_table_users": int(r.users_table_users),
                    "sample": list(r.sample or []),
                }
                for r in per_product
            }
        return recorded(
            conn,
            context,
            context.asset_key,
            name,
            not any(found.values()),
            AssetCheckSeverity.ERROR,
            observed,
        )


def _seconds(started: float) -> MetadataValue:
    return MetadataValue.float(round(time.perf_counter() - started, 3))


def _run_grains(
    conn: Connection, name: str, params: dict[str, Any], grains: tuple[str, ...]
) -> int:
    """Run ``sql/cohorts/<name>.sql`` once per grain; return the rows inserted."""
    return sum(
        Warehouse.run_file(conn, f"cohorts/{name}", {**params, "grain": g})[-1] for g in grains
    )


def _result(
    params: dict[str, Any],
    label: str,
    written: int,
    started: float,
    check: AssetCheckResult,
    preview: MetadataValue | None = None,
) -> MaterializeResult:
    metadata: dict[str, Any] = {
        **window_metadata(params["window_start"], params["window_end"], label),
        "rows": written,
        "seconds": _seconds(started),
    }
    if preview is not None:
        metadata["preview"] = preview
    return MaterializeResult(metadata=metadata, check_results=[check])


@asset(
    key=GROWTH_ACCOUNTING_KEY,
    description="Lifecycle and growth accounting per day, ISO week and month: new, retained, "
    "resurrected, churned, active, quick ratio, retention rate.",
    group_name=GROUP,
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=[USER_ACTIVITY_DAILY_KEY, USERS_KEY],
    check_specs=[
        check_spec(
            "accounting_identities",
            GROWTH_ACCOUNTING_KEY,
            "active = new + retained + resurrected; previous_active = retained + "
            "churned = the previous period's active; active = the distinct active users of the "
            "period; 'all' is the sum of the products.",
            partitions_def=DAILY,
        )
    ],
)
def growth_accounting(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    params, label = _window(context)
    started = time.perf_counter()
    with _transaction(warehouse) as conn:
        lock_asset(conn, GROWTH_ACCOUNTING_KEY.to_user_string())
        fresh_activity_statistics(conn)
        written = rebuild_lifecycle(conn, params["window_start"])
    check = _checked(
        context,
        warehouse,
        "accounting_identities",
        "check_growth_accounting",
        params,
        lambda c: {
            "identity_mismatches": int(c.identity),
            "previous_mismatches": int(c.previous),
            "all_mismatches": int(c.all_rows),
            "active_mismatches": int(c.recount),
        },
        lambda c: {"rows_checked": int(c.rows)},
    )
    with warehouse.engine.connect() as conn:
        preview = Warehouse.fetch_file(conn, "cohorts/preview_growth_accounting", params)
    columns = ["grain", "period", "product_id", "active_users", "new_users", "retained_users"]
    columns += ["resurrected_users", "churned_users", "quick_ratio", "retention_rate"]
    return _result(
        params,
        label,
        written,
        started,
        check,
        markdown_table(preview, columns),
    )


@asset(
    key=RETENTION_TRIANGLE_KEY,
    description="Retention triangles of weekly and monthly cohorts (N-period and unbounded), "
    "per product and by channel, country and plan.",
    group_name=GROUP,
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=[USER_ACTIVITY_DAILY_KEY, USERS_KEY, SUBSCRIPTIONS_KEY],
    check_specs=[
        check_spec(
            "cohorts_consistent",
            RETENTION_TRIANGLE_KEY,
            "Cohort sizes equal the users whose first activity falls in the cohort, "
            "recounted from growth.user_activity_daily and, per product, from the users of "
            "growth.users (the users table); no cell exceeds its cohort; every segment type "
            "splits each cohort exactly; 'all' is the sum of the products.",
            partitions_def=DAILY,
        )
    ],
)
def retention_triangle(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    params, label = _window(context)
    started = time.perf_counter()
    with _transaction(warehouse) as conn:
        lock_asset(conn, RETENTION_TRIANGLE_KEY.to_user_string())
        fresh_activity_statistics(conn)
        Warehouse.run_file(conn, "cohorts/members")
        written = rebuild_triangle(conn)
    check = _checked(
        context,
        warehouse,
        "cohorts_consistent",
        "check_retention_triangle",
        None,
        lambda c: {
            "size_mismatches": int(c.size_mismatches),
            "cells_over_size": int(c.cells_over_size),
            "split_mismatches": int(c.split_mismatches),
            "last_active_mismatches": int(c.last_mismatches),
            "all_mismatches": int(c.all_mismatches),
        },
        lambda c: {"rows": int(c.rows)},
        sizes_of="retention_triangle",
    )
    return _result(params, label, written, started, check)


@asset(
    key=COHORT_LTV_KEY,
    description="LTV by weekly and monthly cohort: cumulative net revenue (reporting currency, "
    "net of refunds) per cohort member by periods since first activity.",
    group_name=GROUP,
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=[USER_ACTIVITY_DAILY_KEY, USERS_KEY, SUBSCRIPTIONS_KEY],
    check_specs=[
        check_spec(
            "revenue_reconciles",
            COHORT_LTV_KEY,
            "Each product's cohorts hold all net revenue and all users ever active "
            "in growth.user_activity_daily; cohort sizes equal, per product, the users of "
            "growth.users whose first activity falls in the cohort; cumulative revenue is the "
            "running sum.",
            partitions_def=DAILY,
        )
    ],
)
def cohort_ltv(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    params, label = _window(context)
    started = time.perf_counter()
    with _transaction(warehouse) as conn:
        lock_asset(conn, COHORT_LTV_KEY.to_user_string())
        fresh_activity_statistics(conn)
        Warehouse.run_file(conn, "cohorts/numbered_users", {"since": date.min})
        written = _run_grains(conn, "cohort_ltv", {}, COHORT_GRAINS)
    check = _checked(
        context,
        warehouse,
        "revenue_reconciles",
        "check_cohort_ltv",
        None,
        lambda c: {
            "total_mismatches": int(c.total_mismatches),
            "running_mismatches": int(c.running_mismatches),
        },
        lambda c: {"rows": int(c.rows)},
        sizes_of="cohort_ltv",
    )
    return _result(params, label, written, started, check)


@asset(
    key=POWER_USERS_KEY,
    description="Power-user histogram per product and day: users by active days in the last "
    "7 (L7) and 28 (L28) days.",
    group_name=GROUP,
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=[USER_ACTIVITY_DAILY_KEY, ENGAGEMENT_DAILY_KEY],
    check_specs=[
        check_spec(
            "histogram_consistent",
            POWER_USERS_KEY,
            "L7 users add up to WAU (growth.engagement_daily); L28 active days x "
            "users add up to the active user-days of the 28 days; 'all' is the sum.",
            partitions_def=DAILY,
        )
    ],
)
def power_users(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    params, label = _window(context)
    started = time.perf_counter()
    with _transaction(warehouse) as conn:
        lock_asset(conn, POWER_USERS_KEY.to_user_string())
        fresh_activity_statistics(conn)
        written = rebuild_power_users(conn, params["window_start"], params["window_end"])
    check = _checked(
        context,
        warehouse,
        "histogram_consistent",
        "check_power_users",
        params,
        lambda c: {
            "wau_mismatches": int(c.wau_mismatches),
            "l28_mismatches": int(c.l28_mismatches),
            "all_mismatches": int(c.all_mismatches),
        },
        lambda c: {"rows": int(c.rows)},
    )
    return _result(params, label, written, started, check)


@asset(
    key=FEATURE_ADOPTION_KEY,
    description="Feature adoption per day, ISO week and month: the share of active users using "
    "each configured feature (GROWTH_FEATURES).",
    group_name=GROUP,
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=[*EVENT_KEYS, USER_ACTIVITY_DAILY_KEY],
    check_specs=[
        check_spec(
            "shares_valid",
            FEATURE_ADOPTION_KEY,
            "Feature users never exceed active users; active users equal the "
            "period's distinct active users; 'all' is the sum of the products.",
            partitions_def=DAILY,
        )
    ],
)
def feature_adoption(
    context: AssetExecutionContext, warehouse: Warehouse, settings: ModelSettings
) -> MaterializeResult:
    params, label = _window(context)
    started = time.perf_counter()
    features = features_json(settings.features)
    with _transaction(warehouse) as conn:
        lock_asset(conn, FEATURE_ADOPTION_KEY.to_user_string())
        fresh_activity_statistics(conn)
        Warehouse.run_file(conn, "cohorts/feature_usage", {**params, "features": features})
        written = rebuild_adoption(conn, params["window_start"], params["window_end"])
    configured = sorted(f.name for f in settings.features)
    check = _checked(
        context,
        warehouse,
        "shares_valid",
        "check_feature_adoption",
        params,
        lambda c: {
            "over_active": int(c.over_active),
            "active_mismatches": int(c.active_mismatches),
            "all_mismatches": int(c.all_mismatches),
        },
        lambda c: {
            "rows": int(c.rows),
            "features_not_seen": [f for f in configured if f not in set(c.features_seen)],
        },
    )
    return _result(params, label, written, started, check)


COHORT_ASSETS = [growth_accounting, retention_triangle, cohort_ltv, power_users, feature_adoption]
COHORT_KEYS: list[AssetKey] = [
    GROWTH_ACCOUNTING_KEY,
    RETENTION_TRIANGLE_KEY,
    COHORT_LTV_KEY,
    POWER_USERS_KEY,
    FEATURE_ADOPTION_KEY,
]
