"""The checks every raw and canonical asset carries, declared and evaluated in one place.

Raw tables (one per source object), evaluated in the ingest step:

* ``loaded_completely`` (ERROR): every keyed record of the window is in the raw table;
* ``volume`` (ERROR when a partition that normally has thousands of rows has none, WARN when
  it is outside the bounds of its trailing median);
* ``quarantine`` (WARN): records rejected at ingest (missing id, malformed JSON, bad, future
  or ancient timestamps), per reason, kept in ``ops.rejected_events``;
* ``expectations`` (GX suite ``raw``).

Canonical slices (``growth.events/<source>``), evaluated in the normalisation step:

* ``reconciled`` (ERROR): raw = canonical + rejected per stream, no duplicate event id;
* ``events_valid`` (ERROR): the canonical invariants (:func:`.sqlchecks.events_valid`);
* ``quarantine`` (WARN): rows rejected at normalisation, per reason;
* ``expectations`` (GX suite ``events``).
"""

from __future__ import annotations

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    PartitionsDefinition,
)
from sqlalchemy.engine import Connection

from growth_assets.quality import expectations as gx_checks
from growth_assets.quality import sqlchecks
from growth_assets.quality.results import check_spec, recorded, scope_of
from growth_assets.sources.load import LoadStats
from resources.warehouse import Warehouse

WARN = AssetCheckSeverity.WARN


def raw_specs(
    key: AssetKey, partitions_def: PartitionsDefinition, loaded_description: str
) -> list[AssetCheckSpec]:
    return [
        check_spec("loaded_completely", key, loaded_description, partitions_def=partitions_def),
        check_spec(
            "volume",
            key,
            "Rows per partition against the median of the same partition-hour (or day) on the "
            "previous 7 days: none where there are normally thousands is an ERROR, outside "
            "[median / 5, median × 5] a warning.",
            partitions_def=partitions_def,
        ),
        check_spec(
            "quarantine",
            key,
            "Records rejected at ingest (no id, malformed, bad, future or ancient timestamp) "
            "are kept in ops.rejected_events; reported per reason with a sample.",
            severity=WARN,
            partitions_def=partitions_def,
        ),
        check_spec(
            "expectations",
            key,
            "Great Expectations suite 'raw' (growth_assets/quality/suites/raw.json) over the "
            "partition window; failed expectations and offending values in the metadata.",
            partitions_def=partitions_def,
        ),
    ]


def raw_checks(
    conn: Connection,
    context: AssetExecutionContext,
    warehouse: Warehouse,
    key: AssetKey,
    *,
    raw_table: str,
    source: str,
    stream: str,
    grain: str,
    shared: bool,
    stats: LoadStats,
) -> list[AssetCheckResult]:
    """Evaluate and record the raw checks of one ingest run, in ``conn``'s transaction."""
    scope = scope_of(context)
    window = {"window_start": scope.window_start, "window_end": scope.window_end}
    (row,) = Warehouse.fetch_file(
        conn,
        "checks/shared_raw_loaded" if shared else "checks/raw_loaded",
        {**window, "source": source} if shared else window,
        raw_table=raw_table,
    )
    rows_in_raw = int(row.rows_in_window)
    loaded = recorded(
        conn,
        context,
        key,
        "loaded_completely",
        rows_in_raw >= stats.distinct_ids,
        AssetCheckSeverity.ERROR,
        {
            "distinct_ids_loaded": stats.distinct_ids,
            "rows_in_raw": rows_in_raw,
            "unkeyable_rejected": stats.rejected,
            "rows_outside_window": stats.outside_window,
        },
        scope,
    )
    lag, periods, _ = sqlchecks.volume_bounds().baseline(grain)
    volume_rows = Warehouse.fetch_file(
        conn,
        "quality/volume_shared" if shared else "quality/volume",
        {
            **window,
            "source": source,
            "step": "1 hour" if grain == "hourly" else "1 day",
            "lag": lag,
            "periods": periods,
        },
        raw_table=raw_table,
    )
    v = sqlchecks.judge_volume(list(volume_rows), grain)
    volume = recorded(conn, context, key, "volume", v.passed, v.severity, v.observed, scope)
    quarantined = sqlchecks.quarantine(conn, context, key, source, (stream,), "ingest", scope)
    query = gx_checks.literal_sql(
        "quality/gx_raw_shared" if shared else "quality/gx_raw",
        {**window, "source": source} if shared else window,
        raw_table=raw_table,
    )
    gx = gx_checks.expectations(conn, context, warehouse, key, "raw", query, scope)
    return [loaded, volume, quarantined, gx]


def canonical_specs(key: AssetKey, partitions_def: PartitionsDefinition) -> list[AssetCheckSpec]:
    return [
        check_spec(
            "reconciled",
            key,
            "Per window and stream: the candidate events of the raw rows = canonical rows + "
            "rejected rows (rows that are by rule no event, like failed charges, counted "
            "apart), and no event id occurs twice.",
            partitions_def=partitions_def,
        ),
        check_spec(
            "events_valid",
            key,
            "Canonical invariants: user and product ids present, event types in the "
            "vocabulary, timestamps neither in the future nor before the product start, ISO "
            "4217 currencies, no negative value, no duplicate event id, no refund above its "
            "charge.",
            partitions_def=partitions_def,
        ),
        check_spec(
            "quarantine",
            key,
            "Rows rejected at normalisation (missing user id, unknown event type or currency, "
            "negative amount, ...) are kept in ops.rejected_events; reported per reason.",
            severity=WARN,
            partitions_def=partitions_def,
        ),
        check_spec(
            "expectations",
            key,
            "Great Expectations suite 'events' (growth_assets/quality/suites/events.json) "
            "over the source's slice of the window.",
            partitions_def=partitions_def,
        ),
    ]


def canonical_checks(
    conn: Connection,
    context: AssetExecutionContext,
    warehouse: Warehouse,
    key: AssetKey,
    *,
    source: str,
    streams: tuple[str, ...],
    reconcile_sql: dict[str, str],
) -> list[AssetCheckResult]:
    """Evaluate and record the canonical checks of one normalisation run."""
    scope = scope_of(context)
    window = {"window_start": scope.window_start, "window_end": scope.window_end}
    query = gx_checks.literal_sql("quality/gx_events", {**window, "source": source})
    return [
        sqlchecks.reconciled(conn, context, key, source, reconcile_sql, scope),
        sqlchecks.events_valid(conn, context, key, source, scope),
        sqlchecks.quarantine(conn, context, key, source, streams, "normalise", scope),
        gx_checks.expectations(conn, context, warehouse, key, "events", query, scope),
    ]
