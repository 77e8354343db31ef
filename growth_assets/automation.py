"""Declarative automation: everything downstream of the sources follows its inputs.

The schedules (``growth_assets.schedules``) ingest the sources; every other asset carries an
``AutomationCondition`` and is materialised by the automation sensor when its inputs change,
in dependency order, at the grain of each asset. The conditions are attached here to every
asset that does not declare its own, so assets added later follow without more code:

* **partitioned downstream assets** (normalisers, users, rollups, cohorts, reports):
  :func:`follow_upstream`, Dagster's ``eager()`` widened to the partitions of the last
  :data:`LOOKBACK`, and waiting for upstream blocking checks. A partition runs once after any
  of its upstream partitions updates, only when none of them is missing or in progress and
  every upstream check declared ``blocking=True`` has passed. Widened because ``eager()``
  considers the latest partition only: after midnight the latest daily partition is today,
  but it is yesterday's that must be rebuilt when yesterday's last hour and its closing
  Stripe run land. Upstream partitions that do not exist yet (the rest of today's hours)
  are not missing, so today's daily partition follows every hour.
* **unpartitioned sources** (FX rates): :func:`refresh_daily`, once a day after midnight, and
  on the first evaluation when never materialised (a fresh clone).
* **unpartitioned downstream assets**: :func:`follow_upstream` too (no time window applies).

Nothing older than the look-back is rebuilt automatically: history is rebuilt by backfills
(the UI's *Materialize* over a range, or ``growth_assets.backfill``).
"""

import warnings
from datetime import timedelta

from dagster import (
    AssetsDefinition,
    AssetSelection,
    AssetSpec,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    Definitions,
    PreviewWarning,
)

LOOKBACK = timedelta(hours=48)
FX_REFRESH_CRON = "5 0 * * *"
SENSOR_NAME = "growth_automation"


def follow_upstream(lookback: timedelta = LOOKBACK) -> AutomationCondition:
    """``eager()`` over the partitions of the last ``lookback``, gated on blocking checks."""
    return (
        AutomationCondition.eager()
        .replace("in_latest_time_window", AutomationCondition.in_latest_time_window(lookback))
        .with_label(f"eager within {lookback.total_seconds() / 3600:g}h")
        & AutomationCondition.all_deps_blocking_checks_passed()
    ).with_label("follow_upstream")


def refresh_daily(cron: str = FX_REFRESH_CRON) -> AutomationCondition:
    """Daily at ``cron`` (UTC), and at once when the asset was never materialised."""
    return (
        AutomationCondition.on_cron(cron)
        | (AutomationCondition.initial_evaluation() & AutomationCondition.missing()).with_label(
            "missing at first evaluation"
        )
    ).with_label("refresh_daily")


def condition_for(spec: AssetSpec, partitioned: bool) -> AutomationCondition | None:
    """The condition an asset gets when it declares none; None for scheduled sources."""
    if spec.deps:
        return follow_upstream()
    return None if partitioned else refresh_daily()


def with_automation(defs: Definitions) -> Definitions:
    """``defs`` with a condition on every asset that has none (partitioned roots excepted:
    the schedules ingest them)."""
    partitioned = {
        key
        for assets_def in defs.assets or []
        if isinstance(assets_def, AssetsDefinition) and assets_def.partitions_def is not None
        for key in assets_def.keys
    }

    def attach(spec: AssetSpec) -> AssetSpec:
        if spec.automation_condition is not None:
            return spec
        condition = condition_for(spec, spec.key in partitioned)
        return (
            spec if condition is None else spec.replace_attributes(automation_condition=condition)
        )

    # Definitions.map_asset_specs is "preview" in Dagster 1.13; what it does here is pinned by
    # tests/test_schedules.py.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return defs.map_asset_specs(func=attach)


def automation_sensor(default_status: DefaultSensorStatus) -> AutomationConditionSensorDefinition:
    """The sensor that evaluates every asset's condition (every 30 s in the daemon)."""
    return AutomationConditionSensorDefinition(
        SENSOR_NAME,
        target=AssetSelection.all(),
        default_status=default_status,
        minimum_interval_seconds=30,
        description="Materialises downstream assets when their inputs change "
        "(growth_assets.automation).",
    )
