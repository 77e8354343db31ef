"""``growth.fx_rates``: daily rates into the reporting currency, from configuration."""

from datetime import date

from dagster import (
    AssetCheckSeverity,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from growth_assets import partitions
from growth_assets.models.events import FX_RATES_KEY
from growth_assets.quality.results import check_spec, recorded
from resources.fx import FxRatesSource, to_reporting
from resources.locks import lock_asset
from resources.settings import ModelSettings
from resources.warehouse import Warehouse

MAX_GAP_DAYS = 7


@asset(
    key=FX_RATES_KEY,
    description="Daily FX rates into the reporting currency (latest rate on or before a day).",
    group_name="canonical",
    kinds={"postgres"},
    check_specs=[
        check_spec(
            "covers_history",
            FX_RATES_KEY,
            "Every currency has a rate from the partitions' start, without long gaps.",
            severity=AssetCheckSeverity.WARN,
        )
    ],
)
def fx_rates(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    settings: ModelSettings,
    fx_source: FxRatesSource,
) -> MaterializeResult:
    rows = to_reporting(fx_source.rates(), settings.reporting_currency)
    params = {"reporting_currency": settings.reporting_currency}
    with warehouse.transaction() as conn:
        lock_asset(conn, FX_RATES_KEY.to_user_string())
        Warehouse.run_file(conn, "models/stage_fx_rates")
        Warehouse.copy_rows(conn, "fx_batch", ("day", "currency", "rate"), rows)
        Warehouse.run_file(conn, "models/replace_fx_rates", params)
    start = date.fromisoformat(partitions.partitions_start())
    with warehouse.transaction() as conn:
        coverage = Warehouse.fetch_file(conn, "checks/fx_coverage", params)
        problems = {
            r.currency: {"first_day": str(r.first_day), "max_gap_days": int(r.max_gap_days)}
            for r in coverage
            if r.first_day > start or r.max_gap_days > MAX_GAP_DAYS
        }
        result = recorded(
            conn,
            context,
            FX_RATES_KEY,
            "covers_history",
            not problems,
            AssetCheckSeverity.WARN,
            {"problems": problems},
        )
    context.log.info(f"growth.fx_rates: {len(rows)} rates for {len(coverage)} currencies")
    return MaterializeResult(
        metadata={
            "rows": len(rows),
            "reporting_currency": settings.reporting_currency,
            "currencies": MetadataValue.json(
                {r.currency: [str(r.first_day), str(r.last_day)] for r in coverage}
            ),
        },
        check_results=[result],
    )
