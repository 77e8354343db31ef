"""The code location: every asset, check and resource of growth-assets in one Definitions."""

from __future__ import annotations

from dagster import AssetsDefinition, Definitions, definitions

from growth_assets.environment import build_resources
from growth_assets.jobs import jobs
from growth_assets.models.daily import metrics_daily, users
from growth_assets.models.events import NORMALISE_ASSETS
from growth_assets.models.fx import fx_rates
from growth_assets.operations import with_operations
from growth_assets.sources.assets import INGEST_ASSETS

ASSETS: list[AssetsDefinition] = [*INGEST_ASSETS, fx_rates, *NORMALISE_ASSETS, users, metrics_daily]


def build_definitions() -> Definitions:
    return with_operations(Definitions(assets=ASSETS, jobs=jobs(), resources=build_resources()))


@definitions
def defs() -> Definitions:
    return build_definitions()
