"""The code location: every asset, check and resource of growth-assets in one Definitions."""

from __future__ import annotations

from dagster import AssetsDefinition, Definitions, definitions

from growth_assets.alerts.sensors import SENSORS
from growth_assets.cohorts.assets import COHORT_ASSETS
from growth_assets.environment import build_resources, sources_config
from growth_assets.jobs import RUN_EXECUTOR, jobs
from growth_assets.models.daily import users
from growth_assets.models.events import NORMALISE_ASSETS
from growth_assets.models.fx import fx_rates
from growth_assets.models.late_data import build_late_data_sensor
from growth_assets.models.subscriptions import subscriptions
from growth_assets.operations import with_operations
from growth_assets.quality.freshness import with_freshness
from growth_assets.reports.assets import REPORT_ASSETS
from growth_assets.rollups.assets import ROLLUP_ASSETS
from growth_assets.rollups.retention import retention
from growth_assets.rollups.schedules import build_rollup_schedules
from growth_assets.saas.assets import SAAS_ASSETS
from growth_assets.sources.assets import INGEST_ASSETS
from growth_assets.sources.stripe_schedules import STRIPE_SCHEDULES
from growth_assets.sources.tabular_assets import tabular_assets, tabular_keys, with_event_deps
from growth_assets.sources.tabular_config import TabularConfig

ASSETS: list[AssetsDefinition] = [
    *INGEST_ASSETS,
    fx_rates,
    *NORMALISE_ASSETS,
    users,
    subscriptions,
    *ROLLUP_ASSETS,
    retention,
    *COHORT_ASSETS,
    *SAAS_ASSETS,
]


def assets_for(tabular: TabularConfig) -> list[AssetsDefinition]:
    """The built-in assets plus the configured tabular sources' (GROWTH_SOURCES_FILE)."""
    keys = tabular_keys(tabular)
    return [*with_event_deps(ASSETS, keys.events), *tabular_assets(tabular)]


def build_definitions() -> Definitions:
    tabular = sources_config()
    keys = tabular_keys(tabular)
    all_jobs = jobs(extra_hourly=keys.hourly, extra_daily=keys.daily)
    return with_freshness(
        with_operations(
            Definitions(
                assets=[*assets_for(tabular), *REPORT_ASSETS],
                jobs=all_jobs,
                schedules=[*STRIPE_SCHEDULES, *build_rollup_schedules(all_jobs)],
                sensors=[*SENSORS, build_late_data_sensor(all_jobs)],
                resources=build_resources(tabular),
                executor=RUN_EXECUTOR,  # runs launched by automation and sensors too
            )
        )
    )


@definitions
def defs() -> Definitions:
    return build_definitions()
