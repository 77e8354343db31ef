"""Ingestion assets: one per source object, hourly partitions, idempotent upserts into ``raw``.

Event streams are hourly partitions, slowly changing objects daily ones (see ``streams``).
Each asset asks its source client for the partition's window, loads it with
:func:`growth_assets.sources.load.load_window` in one transaction, and reports what it read as
metadata, including the client's own ``stats(stream)`` (requests, pages, retries, cursor before
and after). Clients that resume from a cursor read and save it in ``ops.source_cursors``
through the load's transaction. A backfill of many hours runs as a single run over the whole range
(``BackfillPolicy.single_run``): the client is asked once for the union window.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from growth_assets import partitions
from growth_assets.metadata import window_metadata
from growth_assets.quality.checks import raw_checks, raw_specs
from growth_assets.sources.load import LoadStats, load_window
from growth_assets.sources.policies import INGEST_RETRY_POLICY, fail_fast_on_credentials
from growth_assets.sources.streams import STREAMS, StreamSpec
from resources.clients import SourceClient
from resources.cursors import SqlCursorStore
from resources.locks import lock_window
from resources.warehouse import Warehouse

CHUNK = timedelta(days=1)


def fetch_in_chunks(
    client: SourceClient, stream: str, start: datetime, end: datetime
) -> Iterator[dict[str, Any]]:
    """Ask the client for at most a day at a time, so a backfill of months streams through
    memory (and through the API's paging) instead of holding every record at once."""
    chunk_start = start
    while chunk_start < end:
        chunk_end = min(chunk_start + CHUNK, end)
        yield from client.fetch(stream, chunk_start, chunk_end)
        chunk_start = chunk_end


def ingest_result(
    context: AssetExecutionContext,
    table: str,
    window: tuple[datetime, datetime, str],
    client_metadata: dict[str, Any],
    stats: LoadStats,
    checks: list[AssetCheckResult],
) -> MaterializeResult:
    """Log a window's load and report it: metadata (window, client, rows read, written and
    rejected) and the raw checks (``growth_assets.quality.checks.raw_checks``)."""
    start, end, label = window
    context.log.info(
        f"{table} {label}: fetched {stats.fetched}, inserted {stats.inserted}, updated "
        f"{stats.updated}, rejected {stats.rejected}, outside the window "
        f"{stats.outside_window} in {stats.seconds:.2f}s"
    )
    return MaterializeResult(
        metadata={
            **window_metadata(start, end, label),
            **client_metadata,
            "rows_fetched": stats.fetched,
            "rows_in_window": stats.keyed,
            "distinct_ids": stats.distinct_ids,
            "duplicates_in_batch": stats.keyed - stats.distinct_ids,
            "rows_inserted": stats.inserted,
            "rows_updated": stats.updated,
            "rows_unchanged": stats.unchanged,
            "rows_outside_window": stats.outside_window,
            "rows_rejected": stats.rejected,
            "reject_reasons": MetadataValue.json(stats.reject_reasons),
            "load_seconds": MetadataValue.float(round(stats.seconds, 3)),
        },
        check_results=checks,
    )


def build_ingest_asset(spec: StreamSpec) -> AssetsDefinition:
    """The raw-table asset for one stream of one source."""

    partitions_def = partitions.hourly() if spec.grain == "hourly" else partitions.daily()

    @asset(
        key=spec.asset_key,
        description=spec.description,
        group_name="sources",
        kinds={"postgres", spec.source},
        partitions_def=partitions_def,
        backfill_policy=BackfillPolicy.single_run(),
        required_resource_keys={"warehouse", spec.source},
        pool=f"source_{spec.source}",
        retry_policy=INGEST_RETRY_POLICY,
        check_specs=raw_specs(
            spec.asset_key,
            partitions_def,
            "Every keyed record of the window is in the raw table; records that could not be "
            "keyed are counted in the metadata and kept in ops.rejected_events.",
        ),
    )
    @fail_fast_on_credentials
    def ingest(context: AssetExecutionContext) -> MaterializeResult:
        warehouse: Warehouse = context.resources.warehouse
        client: SourceClient = getattr(context.resources, spec.source)
        window = context.partition_time_window
        partition = context.partition_key_range
        label = (
            partition.start
            if partition.start == partition.end
            else f"{partition.start}...{partition.end}"
        )
        with warehouse.transaction() as conn:
            lock_window(conn, spec.asset_key.to_user_string(), window.start, window.end)
            cursors = SqlCursorStore(conn, spec.source, spec.stream)  # commits with the rows
            client.use_cursor_store(cursors)
            records = fetch_in_chunks(client, spec.stream, window.start, window.end)
            stats = load_window(conn, spec, records, (window.start, window.end), label)
            cursors.flush()
        with warehouse.transaction() as conn:
            checks = raw_checks(
                conn,
                context,
                warehouse,
                spec.asset_key,
                raw_table=spec.raw_table,
                source=spec.source,
                stream=spec.stream,
                grain=spec.grain,
                shared=spec.shared_table is not None,
                stats=stats,
            )
        return ingest_result(
            context,
            spec.raw_table,
            (window.start, window.end, label),
            {**client.describe(), **client.stats(spec.stream)},
            stats,
            checks,
        )

    return ingest


INGEST_ASSETS: list[AssetsDefinition] = [build_ingest_asset(spec) for spec in STREAMS]
