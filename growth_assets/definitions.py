"""The code location: every asset, check and resource of growth-assets in one Definitions."""

from __future__ import annotations

from dagster import AssetsDefinition, Definitions, definitions

from growth_assets.environment import build_resources
from growth_assets.jobs import jobs
from growth_assets.models.daily import users
from growth_assets.models.events import NORMALISE_ASSETS
from growth_assets.models.fx import fx_rates
from growth_assets.models.late_data import build_late_data_sensor
from growth_assets.rollups.assets import ROLLUP_ASSETS
from growth_assets.rollups.retention import retention
from growth_assets.rollups.schedules import build_rollup_schedules
from growth_assets.sources.assets import INGEST_ASSETS

ASSETS: list[AssetsDefinition] = [
    *INGEST_ASSETS,
    fx_rates,
    *NORMALISE_ASSETS,
    users,
    *ROLLUP_ASSETS,
    retention,
]


def build_definitions() -> Definitions:
    all_jobs = jobs()
    return Definitions(
        assets=ASSETS,
        jobs=all_jobs,
        schedules=build_rollup_schedules(all_jobs),
        sensors=[build_late_data_sensor(all_jobs)],
        resources=build_resources(),
    )


@definitions
def defs() -> Definitions:
    return build_definitions()
