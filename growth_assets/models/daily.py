"""Daily models: the users dimension.

``growth.users`` is a daily partition over the canonical events that merges its window (first
and last seen only widen). The rollups, ``growth.metrics_daily`` among them, live in
``growth_assets/rollups``; its key stays here, where other modules import it from.
"""

import time

from dagster import (
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from growth_assets import partitions
from growth_assets.metadata import window_metadata
from growth_assets.models.events import NORMALISERS
from growth_assets.quality.results import check_spec, recorded
from resources.locks import lock_window
from resources.warehouse import Warehouse

USERS_KEY = AssetKey(["growth", "users"])
METRICS_DAILY_KEY = AssetKey(["growth", "metrics_daily"])
EVENT_KEYS = [n.key for n in NORMALISERS]
DAILY = partitions.daily()


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
    partitions_def=DAILY,
    backfill_policy=BackfillPolicy.single_run(),
    deps=EVENT_KEYS,
    check_specs=[
        check_spec(
            "users_cover_events",
            USERS_KEY,
            "Every user with events in the window has a users row.",
            partitions_def=DAILY,
        )
    ],
)
def users(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    params, label = _window(context)
    started = time.perf_counter()
    with warehouse.transaction() as conn:
        window = context.partition_time_window
        lock_window(conn, USERS_KEY.to_user_string(), window.start, window.end)
        (merged,) = Warehouse.run_file(conn, "models/upsert_users", params)
    with warehouse.transaction() as conn:
        (check,) = Warehouse.fetch_file(conn, "checks/users_cover_events", params)
        result = recorded(
            conn,
            context,
            USERS_KEY,
            "users_cover_events",
            check.missing == 0,
            AssetCheckSeverity.ERROR,
            {"missing_users": int(check.missing)},
        )
    return MaterializeResult(
        metadata={
            **window_metadata(params["window_start"], params["window_end"], label),  # type: ignore[arg-type]
            "rows_merged": merged,
            "seconds": MetadataValue.float(round(time.perf_counter() - started, 3)),
        },
        check_results=[result],
    )
