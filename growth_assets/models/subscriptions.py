"""``growth.subscriptions``: one row per Stripe subscription, with its MRR (DESIGN.md "MRR").

A daily partition upserts the subscriptions *created* that day from their latest raw snapshot
(``raw.stripe_subscriptions`` is re-snapshotted for the trailing 35 days by the Stripe
re-snapshot schedule, so recent changes reach this table). The MRR arithmetic lives in two SQL
functions created by migration 0005 (``growth.stripe_subscription_items`` and
``growth.stripe_subscription_list_mrr``) so the subscription events in ``growth.events`` use the
very same definition.
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
from growth_assets.metadata import markdown_table, window_metadata
from growth_assets.models.events import FX_RATES_KEY
from growth_assets.models.pseudonyms import check_space, subscription_pseudonyms
from growth_assets.quality.results import check_spec, recorded
from resources.locks import lock_window
from resources.settings import ModelSettings
from resources.warehouse import Warehouse

SUBSCRIPTIONS_KEY = AssetKey(["growth", "subscriptions"])
RAW_SUBSCRIPTIONS_KEY = AssetKey(["raw", "stripe_subscriptions"])
DAILY = partitions.daily()


@asset(
    key=SUBSCRIPTIONS_KEY,
    description="One row per Stripe subscription: status, items, dates and MRR (minor, major, "
    "reporting currency).",
    group_name="canonical",
    kinds={"postgres"},
    partitions_def=DAILY,
    backfill_policy=BackfillPolicy.single_run(),
    deps=[RAW_SUBSCRIPTIONS_KEY, FX_RATES_KEY],
    check_specs=[
        check_spec(
            "subscriptions_complete",
            SUBSCRIPTIONS_KEY,
            "Every raw subscription of the window has a row with a status, a "
            "customer and a known currency, and every paying one an MRR in the reporting "
            "currency (a missing FX rate fails the check).",
            partitions_def=DAILY,
        )
    ],
)
def subscriptions(
    context: AssetExecutionContext, warehouse: Warehouse, settings: ModelSettings
) -> MaterializeResult:
    window = context.partition_time_window
    keys = context.partition_key_range
    label = keys.start if keys.start == keys.end else f"{keys.start}...{keys.end}"
    params = {
        "window_start": window.start,
        "window_end": window.end,
        "reporting_currency": settings.reporting_currency,
    }
    pseudonyms = settings.pseudonyms()
    started = time.perf_counter()
    with warehouse.transaction() as conn:
        lock_window(conn, "growth/subscriptions", window.start, window.end)
        check_space(conn, pseudonyms)
        subscription_pseudonyms(conn, pseudonyms, params)
        (written,) = Warehouse.run_file(
            conn,
            "models/upsert_subscriptions",
            {**params, "pseudonymise": pseudonyms is not None},
        )
    with warehouse.transaction() as conn:
        (check,) = Warehouse.fetch_file(conn, "checks/subscriptions_window", params)
        by_product = Warehouse.fetch_file(conn, "models/subscriptions_by_product")
        missing = list(check.missing or [])
        incomplete = list(check.incomplete or [])
        without_fx = list(check.without_fx or [])
        result = recorded(
            conn,
            context,
            SUBSCRIPTIONS_KEY,
            "subscriptions_complete",
            not (missing or incomplete or without_fx),
            AssetCheckSeverity.ERROR,
            {
                "missing_rows": missing,
                "incomplete_rows": incomplete,
                "paying_without_fx_rate": without_fx,
            },
        )
    context.log.info(
        f"growth.subscriptions {label}: {check.raw_rows} snapshots, {written} rows written"
    )
    return MaterializeResult(
        metadata={
            **window_metadata(window.start, window.end, label),
            "raw_snapshots": int(check.raw_rows),
            "rows_written": written,
            "reporting_currency": settings.reporting_currency,
            "user_ids_pseudonymised": pseudonyms is not None,
            "window_mrr_reporting": MetadataValue.float(float(check.mrr_reporting)),
            "seconds": MetadataValue.float(round(time.perf_counter() - started, 3)),
            "preview": markdown_table(
                by_product, ["product_id", "status", "subscriptions", "mrr_reporting"]
            ),
        },
        check_results=[result],
    )
