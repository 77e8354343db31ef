"""The one path of every check evaluation: ``ops.quality_results`` + ``AssetCheckResult``.

:func:`recorded` writes one row (check, asset, partition, window, passed, severity, blocking,
observed values, run id) with the connection of the transaction that ran the check's SQL,
and returns the ``AssetCheckResult`` the asset hands to Dagster with the same observed values
as metadata. BI reads the rows through ``analytics.quality_results`` and
``analytics.quality_scorecard`` (migration 0016).

:func:`check_spec` declares a check on purpose: ERROR checks are ``blocking`` (a failed one
stops downstream assets of the same run, and the automation's ``all_deps_blocking_checks_passed``
waits for it), WARN checks only report. Checks of partitioned assets carry the asset's
partitioning, so a single-partition run records its evaluation against that partition in the
UI (a single-run backfill over a range records one evaluation for the range: Dagster 1.13
attaches no partition to a ranged step's check results; ``ops.quality_results`` keeps the
range label and window).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MetadataValue,
    PartitionsDefinition,
    PreviewWarning,
)
from sqlalchemy.engine import Connection

from resources.warehouse import Warehouse


@dataclass(frozen=True)
class Scope:
    """What a run's checks read: the partition label, its time window, the run."""

    partition: str | None
    window_start: datetime | None
    window_end: datetime | None
    run_id: str | None


def scope_of(context: AssetExecutionContext) -> Scope:
    run_id = context.run.run_id
    if not (context.has_partition_key or context.has_partition_key_range):
        return Scope(None, None, None, run_id)
    keys = context.partition_key_range
    label = keys.start if keys.start == keys.end else f"{keys.start}...{keys.end}"
    window = context.partition_time_window
    return Scope(label, window.start, window.end, run_id)


def check_spec(
    name: str,
    asset: AssetKey,
    description: str,
    *,
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
    partitions_def: PartitionsDefinition | None = None,
) -> AssetCheckSpec:
    """A check declared with its severity: ERROR checks block downstream, WARN ones report."""
    blocking = severity is AssetCheckSeverity.ERROR
    # A partitions_def on an AssetCheckSpec is "preview" in Dagster 1.13; what it does here
    # (single-partition runs record per partition, ranges unpartitioned) is pinned by
    # tests/test_quality.py.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return AssetCheckSpec(
            name,
            asset=asset,
            description=f"[{severity.value}{', blocking' if blocking else ''}] {description}",
            blocking=blocking,
            partitions_def=partitions_def,
        )


def _plain(value: Any) -> Any:
    """A JSON-safe copy of an observed value (Decimals and datetimes as strings)."""
    return orjson.loads(
        orjson.dumps(
            value,
            default=lambda v: str(v) if isinstance(v, Decimal | datetime) else repr(v),
            option=orjson.OPT_NON_STR_KEYS,
        )
    )


def _metadata(observed: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in observed.items():
        if isinstance(value, bool | int | float | str) or value is None:
            out[key] = value if value is not None else MetadataValue.null()
        else:
            out[key] = MetadataValue.json(value)
    return out


def recorded(
    conn: Connection,
    context: AssetExecutionContext,
    asset_key: AssetKey,
    check_name: str,
    passed: bool,
    severity: AssetCheckSeverity,
    observed: Mapping[str, Any],
    scope: Scope | None = None,
) -> AssetCheckResult:
    """Record one evaluation in ``ops.quality_results`` (inside ``conn``'s transaction) and
    return it as the ``AssetCheckResult`` for Dagster."""
    scope = scope or scope_of(context)
    plain = _plain(dict(observed))
    spec = context.assets_def.get_spec_for_check_key(AssetCheckKey(asset_key, check_name))
    Warehouse.run_file(
        conn,
        "quality/record_result",
        {
            "check_name": check_name,
            "asset_key": asset_key.to_user_string(),
            "partition": scope.partition,
            "window_start": scope.window_start,
            "window_end": scope.window_end,
            "passed": passed,
            "severity": severity.value,
            "blocking": spec.blocking,
            "observed": orjson.dumps(plain).decode(),
            "run_id": scope.run_id,
        },
    )
    return AssetCheckResult(
        check_name=check_name,
        asset_key=asset_key,
        passed=passed,
        severity=severity,
        metadata=_metadata(plain),
    )
