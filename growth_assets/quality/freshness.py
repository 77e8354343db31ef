"""Freshness policies: how old each asset may get before the UI shows it as late.

Dagster 1.13's ``FreshnessPolicy`` (``dagster.FreshnessPolicy.time_window`` /
``.cron``; the former ``InternalFreshnessPolicy``, evaluated by the daemon's freshness
daemon, on by default, and shown on each asset's page and in the asset graph) is used: the
pre-1.11 ``FreshnessPolicy(maximum_lag_minutes=...)`` is ``LegacyFreshnessPolicy`` now and
deprecated, and ``build_last_update_freshness_checks`` would add one more check per asset
evaluated by a sensor, for what the policy already shows.

The windows follow the schedules (``growth_assets.schedules``, ``automation``,
``rollups.schedules``):

* every partitioned asset, sources and everything downstream of them, is rebuilt every hour
  (the sources' hourly tick at ``HH:10`` requests each grain's current partition, daily
  ones included; the automation follows within a minute or two): warn after 2 hours,
  fail after 3, so one missed tick warns and two fail;
* ``growth.fx_rates`` is refreshed daily at 00:05 UTC, ``ops.retention`` at 03:30 UTC:
  fail when a day's run is missing (26 h), warn an hour before.

:func:`with_freshness` attaches them to every asset that declares none, so assets added
later (cohorts, MRR) get one too; ``tests/test_quality.py`` holds every asset to it.
"""

import warnings
from datetime import timedelta

from dagster import AssetsDefinition, AssetSpec, Definitions, FreshnessPolicy, PreviewWarning

HOURLY = FreshnessPolicy.time_window(fail_window=timedelta(hours=3), warn_window=timedelta(hours=2))
DAILY = FreshnessPolicy.time_window(
    fail_window=timedelta(hours=26), warn_window=timedelta(hours=25)
)


def policy_for(spec: AssetSpec, partitioned: bool) -> FreshnessPolicy:
    """Hourly rebuilds for partitioned assets; a daily run for the unpartitioned ones."""
    return HOURLY if partitioned else DAILY


def with_freshness(defs: Definitions) -> Definitions:
    """``defs`` with a freshness policy on every asset that has none."""
    partitioned = {
        key
        for assets_def in defs.assets or []
        if isinstance(assets_def, AssetsDefinition) and assets_def.partitions_def is not None
        for key in assets_def.keys
    }

    def attach(spec: AssetSpec) -> AssetSpec:
        if spec.freshness_policy is not None:
            return spec
        return spec.replace_attributes(freshness_policy=policy_for(spec, spec.key in partitioned))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return defs.map_asset_specs(func=attach)
