"""SaaS analytics assets: MRR movements, funnels, the north-star metric, the customer 360.

Every asset is daily-partitioned with ``BackfillPolicy.single_run()`` so a range runs once,
the SQL taking the whole window, and replaces what the window affects in one transaction:

* ``growth.mrr_monthly`` (with ``growth.mrr_customer_monthly``): a day rewrites its month and
  every later month already built (a late subscription event moves every later month's start).
* ``growth.funnel_conversion`` (with ``growth.funnel_users``): a day re-reaches the users whose
  first step lies in the conversion window before it (their later steps may still come) and
  rewrites the week and month cohorts they belong to.
* ``growth.north_star``: the window's days and the weeks and months covering them.
* ``growth.customer_360``: a snapshot, rebuilt whole as of the latest activity day by any run
  (the partition is when it runs, not what it shows).

The configuration (funnel steps, window, north-star expression) is read when a run starts
(:mod:`growth_assets.saas.config`). The definitions are in ``docs``/the README and
migration 0015's view comments.
"""

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from dagster import (
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from growth_assets import partitions
from growth_assets.metadata import markdown_table, window_metadata
from growth_assets.models.daily import EVENT_KEYS, METRICS_DAILY_KEY, USERS_KEY
from growth_assets.models.events import FX_RATES_KEY
from growth_assets.models.subscriptions import SUBSCRIPTIONS_KEY
from growth_assets.quality.results import check_spec, recorded
from growth_assets.rollups.assets import METRICS_MONTHLY_KEY, USER_ACTIVITY_DAILY_KEY
from growth_assets.saas import northstar
from growth_assets.saas.config import ConfigError, FunnelConfig, load_config
from growth_assets.saas.windows import (
    first_day,
    last_day,
    month_start,
    next_month,
    period_bounds,
)
from resources.locks import lock_asset
from resources.settings import ModelSettings
from resources.warehouse import Warehouse

MRR_MONTHLY_KEY = AssetKey(["growth", "mrr_monthly"])
FUNNEL_KEY = AssetKey(["growth", "funnel_conversion"])
NORTH_STAR_KEY = AssetKey(["growth", "north_star"])
CUSTOMER_360_KEY = AssetKey(["growth", "customer_360"])

DAILY = partitions.daily()
SAAS_KEYS = [MRR_MONTHLY_KEY, FUNNEL_KEY, NORTH_STAR_KEY, CUSTOMER_360_KEY]


def _label(context: AssetExecutionContext) -> str:
    keys = context.partition_key_range
    return keys.start if keys.start == keys.end else f"{keys.start}...{keys.end}"


def _seconds(started: float) -> MetadataValue:
    return MetadataValue.float(round(time.perf_counter() - started, 3))


def _config_or_fail() -> Any:
    try:
        return load_config()
    except ConfigError as exc:
        raise Failure(description=f"analytics configuration: {exc}") from exc


# --- MRR ------------------------------------------------------------------------------------


def mrr_months(warehouse: Warehouse, start: datetime, end: datetime) -> dict[str, Any]:
    """The months a window rebuilds: its own, and every later month already in the table."""
    first = month_start(first_day(start))
    stop = next_month(last_day(end))
    with warehouse.engine.connect() as conn:
        built = conn.execute(sa.text("SELECT max(month) FROM growth.mrr_customer_monthly")).scalar()
    if built is not None and next_month(built) > stop:
        stop = next_month(built)
    return {"range_start": first, "range_end": stop}


def refresh_mrr(warehouse: Warehouse, params: dict[str, Any]) -> tuple[int, int]:
    """Rebuild the customer rows and the summary for ``params``' months in one transaction;
    a missing FX rate stops it (DESIGN.md: never 1.0)."""
    with warehouse.engine.connect() as conn:
        missing = Warehouse.fetch_file(conn, "saas/mrr_missing_fx", params)
    if missing:
        gaps = ", ".join(f"{r.currency} (from {r.first_month_without_rate})" for r in missing)
        raise Failure(
            description=f"no FX rate into {params['reporting_currency']} for MRR in: {gaps}",
            metadata={"missing": MetadataValue.json([list(map(str, r)) for r in missing])},
        )
    with warehouse.transaction() as conn:
        lock_asset(conn, MRR_MONTHLY_KEY.to_user_string())
        customers = Warehouse.run_file(conn, "saas/mrr_customers", params)[-1]
        summary = Warehouse.run_file(conn, "saas/mrr_monthly", params)[-1]
    return customers, summary


@asset(
    key=MRR_MONTHLY_KEY,
    description="MRR per customer and month with its movement (new, expansion, contraction, "
    "churn, reactivation) and the monthly MRR bridge with quick ratio, GRR, NRR, churn rates, "
    "ARPA and ARPU, per product and for all products.",
    group_name="saas",
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=[*EVENT_KEYS, FX_RATES_KEY, SUBSCRIPTIONS_KEY, METRICS_MONTHLY_KEY],
    check_specs=[
        check_spec(
            "mrr_bridge",
            MRR_MONTHLY_KEY,
            "start MRR + net new MRR = end MRR per customer, product and month; "
            "the summary equals its customer rows; 'all' equals the sum of the products.",
            partitions_def=DAILY,
        )
    ],
)
def mrr_monthly(
    context: AssetExecutionContext, warehouse: Warehouse, settings: ModelSettings
) -> MaterializeResult:
    window = context.partition_time_window
    started = time.perf_counter()
    params = {
        **mrr_months(warehouse, window.start, window.end),
        "reporting_currency": settings.reporting_currency,
    }
    customers, summary = refresh_mrr(warehouse, params)
    with warehouse.transaction() as conn:
        (c,) = Warehouse.fetch_file(conn, "saas/mrr_check", params)
        broken = list(c.bridge_broken) + [["all", m] for m in c.all_mismatch]
        check = recorded(
            conn,
            context,
            MRR_MONTHLY_KEY,
            "mrr_bridge",
            not broken and int(c.customer_bridge_broken) == 0,
            AssetCheckSeverity.ERROR,
            {
                "customer_rows_broken": int(c.customer_bridge_broken),
                "summary_rows_broken": broken[:50],
            },
        )
        preview = conn.execute(
            sa.text(
                "SELECT month, product_id, start_mrr, net_new_mrr, end_mrr, nrr, quick_ratio "
                "FROM growth.mrr_monthly WHERE product_id = 'all' AND month >= :range_start "
                "AND month < :range_end ORDER BY month DESC LIMIT 12"
            ),
            params,
        ).all()
    return MaterializeResult(
        metadata={
            **window_metadata(window.start, window.end, _label(context)),
            "months": f"{params['range_start']}..{params['range_end']}",
            "customer_rows": customers,
            "summary_rows": summary,
            "seconds": _seconds(started),
            "preview": markdown_table(
                preview,
                [
                    "month",
                    "product_id",
                    "start_mrr",
                    "net_new_mrr",
                    "end_mrr",
                    "nrr",
                    "quick_ratio",
                ],
            ),
        },
        check_results=[check],
    )


# --- Funnel ---------------------------------------------------------------------------------


def funnel_params(funnel: FunnelConfig, start: datetime, end: datetime) -> dict[str, Any]:
    """Bound parameters of the funnel SQL for a window: the users re-reached are those whose
    first step is at most ``window_days`` before the window (their steps may still come)."""

    reach_start = start.astimezone(UTC) - timedelta(days=funnel.window_days)
    bounds = period_bounds(first_day(reach_start), last_day(end))
    return {
        "funnel": funnel.name,
        "step_types": [s.event_type for s in funnel.steps],
        "step_filters": [json.dumps(s.properties, sort_keys=True) for s in funnel.steps],
        "step_names": [s.name for s in funnel.steps],
        "step_count": len(funnel.steps),
        "window_days": funnel.window_days,
        "reach_start": reach_start,
        "window_end": end.astimezone(UTC),
        **{k: v for k, v in bounds.items() if not k.startswith("day_")},
    }


def refresh_funnel(warehouse: Warehouse, params: dict[str, Any]) -> tuple[int, int]:
    """Re-reach the window's users step by step (one set-based statement per step) and
    rewrite their cohorts, in one transaction."""
    with warehouse.transaction() as conn:
        lock_asset(conn, FUNNEL_KEY.to_user_string())
        Warehouse.run_file(conn, "saas/funnel_reach", params)
        for step_no in range(2, params["step_count"] + 1):
            Warehouse.run_file(conn, "saas/funnel_step", {**params, "step_no": step_no})
        _, users = Warehouse.run_file(conn, "saas/funnel_users", params)
        _, rows = Warehouse.run_file(conn, "saas/funnel_conversion", params)
    return users, rows


@asset(
    key=FUNNEL_KEY,
    description="The configured funnel per signup cohort (week, month), product and segment "
    "(channel, country): users per step reached in order within the conversion window, "
    "conversion and drop-off.",
    group_name="saas",
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=[*EVENT_KEYS, USERS_KEY],
    check_specs=[
        check_spec(
            "steps_consistent",
            FUNNEL_KEY,
            "Step counts never increase along the funnel; segments add up to "
            "the whole; 'all' equals the sum of the products.",
            partitions_def=DAILY,
        )
    ],
)
def funnel_conversion(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    window = context.partition_time_window
    config = _config_or_fail()
    started = time.perf_counter()
    params = funnel_params(config.funnel, window.start, window.end)
    users, rows = refresh_funnel(warehouse, params)
    with warehouse.transaction() as conn:
        (c,) = Warehouse.fetch_file(conn, "saas/funnel_check", params)
        problems = {
            "increasing_steps": int(c.increasing),
            "segment_mismatches": int(c.segment_mismatches),
            "product_mismatches": int(c.product_mismatches),
        }
        check = recorded(
            conn,
            context,
            FUNNEL_KEY,
            "steps_consistent",
            not any(problems.values()),
            AssetCheckSeverity.ERROR,
            {**problems, "rows": int(c.rows)},
        )
        preview = conn.execute(
            sa.text(
                "SELECT cohort_start, step_no, step_name, users, conversion_from_first "
                "FROM growth.funnel_conversion WHERE funnel = CAST(:funnel AS text) "
                "AND cohort_grain = 'month' AND product_id = 'all' AND segment = 'all' "
                "AND cohort_start >= :month_start AND cohort_start < :month_end "
                "ORDER BY cohort_start DESC, step_no LIMIT 24"
            ),
            params,
        ).all()
    return MaterializeResult(
        metadata={
            **window_metadata(window.start, window.end, _label(context)),
            "funnel": config.funnel.name,
            "steps": " → ".join(s.name for s in config.funnel.steps),
            "window_days": config.funnel.window_days,
            "users_reached": users,
            "rows": rows,
            "seconds": _seconds(started),
            "preview": markdown_table(
                preview, ["cohort_start", "step_no", "step_name", "users", "conversion_from_first"]
            ),
        },
        check_results=[check],
    )


# --- North star -----------------------------------------------------------------------------


def refresh_north_star(warehouse: Warehouse, params: dict[str, Any]) -> int:
    """Replace the window's periods with the configured expression's values."""
    compiled = northstar.compile_expression(params["ns_expression"])
    bound = {**params, **compiled.params}
    with warehouse.transaction() as conn:
        lock_asset(conn, NORTH_STAR_KEY.to_user_string())
        counts = [conn.execute(sa.text(s), bound).rowcount for s in northstar.refresh_sql(compiled)]
    return counts[-1]


@asset(
    key=NORTH_STAR_KEY,
    description="The configured north-star metric (an expression over the rollup metrics) "
    "per day, ISO week and month, product and all products; the view adds its trend.",
    group_name="saas",
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=[METRICS_DAILY_KEY, METRICS_MONTHLY_KEY, USER_ACTIVITY_DAILY_KEY],
    check_specs=[
        check_spec(
            "covers_rollups",
            NORTH_STAR_KEY,
            "Every daily and monthly rollup row of the window has a north-star "
            "value row, and every row carries the configured expression.",
            partitions_def=DAILY,
        )
    ],
)
def north_star(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    window = context.partition_time_window
    config = _config_or_fail()
    started = time.perf_counter()
    params: dict[str, Any] = {
        **period_bounds(first_day(window.start), last_day(window.end)),
        "ns_name": config.north_star.name,
        "ns_expression": config.north_star.expression,
    }
    written = refresh_north_star(warehouse, params)
    with warehouse.transaction() as conn:
        (c,) = Warehouse.fetch_file(conn, "saas/north_star_check", params)
        missing = int(c.missing_day) + int(c.missing_month)
        check = recorded(
            conn,
            context,
            NORTH_STAR_KEY,
            "covers_rollups",
            missing == 0 and int(c.other_expression) == 0,
            AssetCheckSeverity.ERROR,
            {
                "rollup_rows_without_value": missing,
                "rows_with_another_expression": int(c.other_expression),
            },
        )
        preview = conn.execute(
            sa.text(
                "SELECT grain, period_start, value, previous_value, change_ratio "
                "FROM analytics.north_star WHERE product_id = 'all' "
                "AND period_start >= :week_start ORDER BY period_start DESC, grain LIMIT 15"
            ),
            params,
        ).all()
    return MaterializeResult(
        metadata={
            **window_metadata(window.start, window.end, _label(context)),
            "name": config.north_star.name,
            "expression": config.north_star.expression,
            "rows": written,
            "seconds": _seconds(started),
            "preview": markdown_table(
                preview, ["grain", "period_start", "value", "previous_value", "change_ratio"]
            ),
        },
        check_results=[check],
    )


# --- Customer 360 ---------------------------------------------------------------------------


@asset(
    key=CUSTOMER_360_KEY,
    description="One row per product and user: usage (last active, active days, features), "
    "billing (plan, MRR, lifetime revenue, refunds), support tickets and a health score.",
    group_name="saas",
    kinds={"postgres"},
    partitions_def=partitions.daily(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=[*EVENT_KEYS, USERS_KEY, USER_ACTIVITY_DAILY_KEY, SUBSCRIPTIONS_KEY, MRR_MONTHLY_KEY],
    check_specs=[
        check_spec(
            "covers_users",
            CUSTOMER_360_KEY,
            "One row per growth.users row; lifetime revenue adds up to the "
            "revenue of growth.user_activity_daily up to as_of.",
            partitions_def=DAILY,
        )
    ],
)
def customer_360(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    window = context.partition_time_window
    started = time.perf_counter()
    with warehouse.transaction() as conn:
        lock_asset(conn, CUSTOMER_360_KEY.to_user_string())
        written = Warehouse.run_file(conn, "saas/customer_360")[-1]
    with warehouse.transaction() as conn:
        (c,) = Warehouse.fetch_file(conn, "saas/customer_360_check")
        check = recorded(
            conn,
            context,
            CUSTOMER_360_KEY,
            "covers_users",
            c.rows == c.users and c.revenue == c.activity_revenue,
            AssetCheckSeverity.ERROR,
            {
                "rows": int(c.rows),
                "users": int(c.users),
                "revenue": str(c.revenue),
                "activity_revenue": str(c.activity_revenue),
            },
        )
        bands = conn.execute(
            sa.text(
                "SELECT health_band, count(*) AS customers, round(avg(health_score), 2) AS avg "
                "FROM growth.customer_360 GROUP BY 1 ORDER BY 1"
            )
        ).all()
    return MaterializeResult(
        metadata={
            **window_metadata(window.start, window.end, _label(context)),
            "as_of": str(c.as_of),
            "rows": written,
            "at_risk": int(c.at_risk),
            "seconds": _seconds(started),
            "health_bands": markdown_table(bands, ["health_band", "customers", "avg"]),
        },
        check_results=[check],
    )


SAAS_ASSETS = [mrr_monthly, funnel_conversion, north_star, customer_360]
