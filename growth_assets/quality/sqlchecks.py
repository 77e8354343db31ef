"""Set-based SQL checks shared by the raw and canonical assets.

Each function runs its SQL over the run's whole window (a single-run backfill of a month is
one query, not one per partition), records the evaluation through
:func:`growth_assets.quality.results.recorded` on the caller's connection, and returns the
``AssetCheckResult``. Several conditions go into one check and are all reported in its
metadata, so Dagster stores few check evaluations per partition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, AssetExecutionContext, AssetKey
from sqlalchemy.engine import Connection

from growth_assets.quality.config import product_start, volume_bounds

__all__ = ["events_valid", "judge_volume", "quarantine", "reconciled", "volume_bounds"]
from growth_assets.quality.results import Scope, recorded
from resources.warehouse import Warehouse

SAMPLE = 20  # flagged partitions listed in metadata at most


@dataclass(frozen=True)
class Verdict:
    passed: bool
    severity: AssetCheckSeverity
    observed: dict[str, Any]


def judge_volume(rows: list[Any], grain: str) -> Verdict:
    """ERROR: a partition with zero rows whose trailing median reaches ``normal_rows``
    (a source that went silent on a day that normally has thousands). WARN: a partition
    outside [median / ratio, median × ratio] where the median reaches ``min_rows``. Smaller
    baselines (no history yet, a quiet hour of a small source) are counting noise: not judged
    for drift, and counted in ``partitions_too_small_to_judge``."""
    bounds = volume_bounds()
    empty: list[dict[str, Any]] = []
    drift: list[dict[str, Any]] = []
    too_small = 0
    for r in rows:
        median = float(r.baseline_median or 0)
        n = int(r.rows_in_partition)
        entry = {"partition": r.bucket.isoformat(), "rows": n, "median": median}
        if n == 0 and median >= bounds.normal_rows:
            empty.append(entry)
        elif median < bounds.min_rows:
            too_small += 1
        elif n < median / bounds.ratio or n > median * bounds.ratio:
            drift.append(entry)
    observed = {
        "partitions_judged": len(rows) - too_small,
        "partitions_too_small_to_judge": too_small,
        "rows": sum(int(r.rows_in_partition) for r in rows),
        "empty_where_normally_busy": empty[:SAMPLE],
        "outside_bounds": drift[:SAMPLE],
        "bounds": {
            "normal_rows": bounds.normal_rows,
            "ratio": bounds.ratio,
            "min_rows": bounds.min_rows,
            "baseline": bounds.baseline(grain)[2],
        },
    }
    if empty:
        return Verdict(False, AssetCheckSeverity.ERROR, observed)
    return Verdict(not drift, AssetCheckSeverity.WARN, observed)


def quarantine(
    conn: Connection,
    context: AssetExecutionContext,
    key: AssetKey,
    source: str,
    streams: tuple[str, ...],
    stage: str,
    scope: Scope,
) -> AssetCheckResult:
    """``quarantine`` (WARN): rows of the run kept in ``ops.rejected_events``, per reason,
    with a sample of source ids. Fails (as a warning) when anything was rejected."""
    by_stream: dict[str, dict[str, Any]] = {}
    for stream in streams:
        rows = Warehouse.fetch_file(
            conn,
            "quality/quarantine",
            {
                "source": source,
                "stream": stream,
                "stage": stage,
                "window_start": scope.window_start,
                "window_end": scope.window_end,
                "partition": scope.partition,
            },
        )
        if rows:
            by_stream[stream] = {r.reason: {"rows": int(r.rows), "sample": r.sample} for r in rows}
    total = sum(v["rows"] for reasons in by_stream.values() for v in reasons.values())
    observed = {"stage": stage, "rows_quarantined": total, "reasons": by_stream}
    return recorded(
        conn, context, key, "quarantine", total == 0, AssetCheckSeverity.WARN, observed, scope
    )


def events_valid(
    conn: Connection, context: AssetExecutionContext, key: AssetKey, source: str, scope: Scope
) -> AssetCheckResult:
    """``events_valid`` (ERROR): the canonical invariants of the source's slice of
    ``growth.events`` (ids present, vocabulary, timestamps neither in the future nor before
    the product start, ISO 4217 currencies, non-negative values, value-carrying events with
    a value, no duplicate event id, no charge refunded above its amount)."""
    rows = Warehouse.fetch_file(
        conn,
        "quality/events_valid",
        {
            "source": source,
            "window_start": scope.window_start,
            "window_end": scope.window_end,
            "product_start": product_start(),
        },
    )
    problems = {
        r.problem: {"rows": int(r.offending), "sample": r.sample} for r in rows if r.problem
    }
    observed = {
        "rows_checked": int(rows[0].rows_checked) if rows else 0,
        "problems": problems,
        "product_start": product_start().date().isoformat(),
    }
    return recorded(
        conn, context, key, "events_valid", not problems, AssetCheckSeverity.ERROR, observed, scope
    )


def reconciled(
    conn: Connection,
    context: AssetExecutionContext,
    key: AssetKey,
    source: str,
    reconcile_sql: Mapping[str, str],
    scope: Scope,
) -> AssetCheckResult:
    """``reconciled`` (ERROR): per stream, the candidate events the raw rows of the window
    yield (``sql/quality/reconcile/*``, computed from raw alone) = canonical rows + rows
    rejected at normalisation; and no event id twice. Rows that are by rule no event
    (a failed charge) are counted as ``not_events``."""
    params = {
        "source": source,
        "window_start": scope.window_start,
        "window_end": scope.window_end,
    }
    streams: dict[str, dict[str, int]] = {}
    duplicates: dict[str, int] = {}
    for stream, sql_name in reconcile_sql.items():
        (raw,) = Warehouse.fetch_file(conn, sql_name, params)
        (got,) = Warehouse.fetch_file(conn, "checks/events_slice", {**params, "stream": stream})
        streams[stream] = {
            "raw_rows": int(raw.raw_rows),
            "not_events": int(raw.not_events),
            "expected": int(raw.expected),
            "canonical": int(got.events),
            "rejected": int(got.rejected),
        }
        duplicates[stream] = int(got.duplicate_ids)
    mismatched = sorted(
        s for s, v in streams.items() if v["expected"] != v["canonical"] + v["rejected"]
    )
    observed = {
        "streams": streams,
        "mismatched_streams": mismatched,
        "duplicate_ids": duplicates,
    }
    passed = not mismatched and not any(duplicates.values())
    return recorded(
        conn, context, key, "reconciled", passed, AssetCheckSeverity.ERROR, observed, scope
    )
