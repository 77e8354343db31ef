"""Assets of the configured tabular sources (CSV / Parquet files and SQL queries).

For each source in the sources file (``GROWTH_SOURCES_FILE``, see ``tabular_config``):

* ``raw/<kind>_<name>``: daily or hourly partitions as configured. The client is asked once
  for the partition range, and the rows are loaded with the shared
  :func:`~growth_assets.sources.load.load_window` into ``raw.tabular_records``, keyed by
  (source, id); rows without a usable timestamp go to ``ops.rejected_events`` (stage
  ``ingest``). Pool ``source_<name>``, check ``loaded_completely``.
* ``growth/events/<name>``: the shared normaliser (``models/events.py``) with
  ``sql/models/stage_tabular.sql``, so the vocabulary, currency, FX and reject rules and the
  ``reconciled`` check are the same as for every other source. It is **hourly even when the
  source is daily**, so a configured source's events can feed hourly rollups whatever its
  file's grain. An hour maps to the day that contains it (Dagster's default time-window
  mapping), so a daily file feeds 24 hourly windows, which a single-run backfill normalises
  in one run. (Built-in Stripe normalisation is daily instead: its cost is the two-year demo's.)

Downstream assets that depend on every built-in normaliser (``growth/users``,
``growth/metrics_daily``, and whatever else is added later with the same deps) get the
configured normalisers as extra deps through :func:`with_event_deps`: their SQL already reads
all of ``growth.events``, so only the lineage (and what automation and backfills order by)
needs to learn about the new sources.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    BackfillPolicy,
    MaterializeResult,
    asset,
)

from growth_assets import partitions
from growth_assets.models.events import NORMALISERS, Normaliser, build_normalise_asset
from growth_assets.quality.checks import raw_checks, raw_specs
from growth_assets.sources.assets import ingest_result
from growth_assets.sources.load import load_window
from growth_assets.sources.policies import INGEST_RETRY_POLICY
from growth_assets.sources.streams import StreamSpec
from growth_assets.sources.tabular_config import TabularConfig, TabularSource
from resources.locks import lock_window
from resources.tabular import FileSourceClient, SqlSourceClient, TabularClient
from resources.warehouse import Warehouse

SHARED_TABLE = "raw.tabular_records"
STAGE_SQL = "models/stage_tabular"


@dataclass(frozen=True)
class TabularKeys:
    """Asset keys of the configured sources, by the job (partitioning) they belong to."""

    hourly: tuple[AssetKey, ...] = ()  # hourly ingestion assets and every normaliser
    daily: tuple[AssetKey, ...] = ()  # daily ingestion assets
    events: tuple[AssetKey, ...] = ()  # the normalisers, growth/events/<name>


def raw_key(source: TabularSource) -> AssetKey:
    return AssetKey(["raw", source.label])


def events_key(source: TabularSource) -> AssetKey:
    return AssetKey(["growth", "events", source.name])


def resource_key(source: TabularSource) -> str:
    return f"tabular_{source.name}"


def stream_spec(source: TabularSource) -> StreamSpec:
    """How load_window keys and times the client's records: ``id`` and ``occurred_at``."""
    return StreamSpec(
        source=source.name,
        stream=source.kind,
        id_path=("id",),
        time_path=("occurred_at",),
        time_format="iso",
        description=source.description,
        grain=source.grain,
        shared_table=SHARED_TABLE,
    )


def client_for(source: TabularSource) -> TabularClient:
    m = source.mapping
    common: dict[str, Any] = {
        "name": source.name,
        "timestamp": m.timestamp,
        "user": m.user,
        "id_column": m.id,
        "event_type_column": m.event_type_column,
        "event_type": m.event_type,
        "event_types": dict(m.event_types),
        "product_column": m.product_column,
        "product": m.product,
        "value_column": m.value,
        "currency_column": m.currency_column,
        "currency": m.currency,
        "properties": list(m.properties),
        "timestamp_format": m.timestamp_format,
        "timezone": m.timezone,
    }
    if source.kind == "file":
        assert source.path is not None and source.format is not None
        return FileSourceClient(path=source.path, format=source.format, **common)
    assert source.url_env is not None and source.query is not None
    return SqlSourceClient(url_env=source.url_env, query=source.query, **common)


def tabular_resources(config: TabularConfig) -> dict[str, TabularClient]:
    """One client resource per configured source, keyed ``tabular_<name>``."""
    return {resource_key(s): client_for(s) for s in config.sources}


def build_tabular_ingest_asset(source: TabularSource) -> AssetsDefinition:
    """The ``raw/<kind>_<name>`` asset of one configured source."""
    spec = stream_spec(source)
    key = raw_key(source)
    client_key = resource_key(source)
    partitions_def = partitions.hourly() if source.grain == "hourly" else partitions.daily()

    @asset(
        key=key,
        description=source.description,
        group_name="sources",
        kinds={"postgres", "csv" if source.format == "csv" else source.format or "sql"},
        partitions_def=partitions_def,
        backfill_policy=BackfillPolicy.single_run(),
        required_resource_keys={"warehouse", client_key},
        pool=f"source_{source.name}",
        retry_policy=INGEST_RETRY_POLICY,
        check_specs=raw_specs(
            key,
            partitions_def,
            "Every keyed row of the window is in raw.tabular_records; rows whose timestamp "
            "cannot be parsed are counted and kept in ops.rejected_events.",
        ),
    )
    def ingest(context: AssetExecutionContext) -> MaterializeResult:
        warehouse: Warehouse = context.resources.warehouse
        client: TabularClient = getattr(context.resources, client_key)
        window = context.partition_time_window
        keys = context.partition_key_range
        label = keys.start if keys.start == keys.end else f"{keys.start}...{keys.end}"
        # One fetch for the whole range (not day by day): a file row without a usable
        # timestamp belongs to no window and is returned by every fetch, so one fetch per
        # run counts it once.
        records = client.fetch(source.kind, window.start, window.end)
        with warehouse.transaction() as conn:
            lock_window(conn, key.to_user_string(), window.start, window.end)
            stats = load_window(conn, spec, records, (window.start, window.end), label)
        with warehouse.transaction() as conn:  # after the load's commit: GX reads it too
            checks = raw_checks(
                conn,
                context,
                warehouse,
                key,
                raw_table=SHARED_TABLE,
                source=source.name,
                stream=source.kind,
                grain=source.grain,
                shared=True,
                stats=stats,
            )
        return ingest_result(
            context,
            key.to_user_string(),
            (window.start, window.end, label),
            client.describe(),
            stats,
            checks,
        )

    return ingest


def normaliser_for(source: TabularSource) -> Normaliser:
    return Normaliser(
        source.name,
        (source.kind,),
        f"Rows of the {source.kind} source {source.name!r} as canonical events.",
        stage_sql=STAGE_SQL,
        raw_keys=(raw_key(source),),
        fixed_grain="hourly",  # hourly whatever the source's grain: see tabular_keys
    )


def tabular_assets(config: TabularConfig) -> list[AssetsDefinition]:
    """The ingestion and normalisation assets of every configured source."""
    built: list[AssetsDefinition] = []
    for source in config.sources:
        built.append(build_tabular_ingest_asset(source))
        built.append(build_normalise_asset(normaliser_for(source)))
    return built


def tabular_keys(config: TabularConfig) -> TabularKeys:
    ingest_hourly = tuple(raw_key(s) for s in config.sources if s.grain == "hourly")
    ingest_daily = tuple(raw_key(s) for s in config.sources if s.grain == "daily")
    events = tuple(events_key(s) for s in config.sources)
    return TabularKeys(hourly=(*ingest_hourly, *events), daily=ingest_daily, events=events)


def with_event_deps(
    assets: Sequence[AssetsDefinition], event_keys: Iterable[AssetKey]
) -> list[AssetsDefinition]:
    """Add ``event_keys`` as deps of every asset spec that depends on all built-in
    normalisers (the assets that read the whole of ``growth.events``)."""
    extra = list(event_keys)
    if not extra:
        return list(assets)
    builtin = {n.key for n in NORMALISERS}

    def add(spec: AssetSpec) -> AssetSpec:
        deps = {d.asset_key for d in spec.deps}
        if builtin <= deps and spec.key not in builtin:
            return spec.merge_attributes(deps=[k for k in extra if k not in deps])
        return spec

    return [a.map_asset_specs(add) for a in assets]
