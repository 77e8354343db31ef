"""Normalisation: raw source tables → ``growth.events`` (one asset per source).

A normaliser has the grain of its source's event streams (hourly for Mixpanel and Zendesk,
daily for Stripe; see ``sources/streams``).

Each asset owns the rows of its own source in ``growth.events``. For a window it stages the
candidate events of every stream of its source (``sql/models/stage_<source>_<stream>.sql``),
validates them against the vocabulary, currencies and FX rates, and replaces its slice of the
window plus the matching rejects, all in one transaction (``sql/models/load_events.sql``).
With ``GROWTH_PSEUDONYMISE_KEY`` set, the staged user ids are replaced by their pseudonyms
before validation (``models/pseudonyms.py``).
"""

import time
from dataclasses import dataclass
from typing import Any

import orjson
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
)

from growth_assets import partitions
from growth_assets.metadata import window_metadata
from growth_assets.models.pseudonyms import check_space, pseudonymise_staged
from growth_assets.quality.checks import canonical_checks, canonical_specs
from growth_assets.quality.config import product_start
from growth_assets.sources.streams import StreamSpec, streams_of
from resources.locks import lock_window
from resources.settings import ModelSettings
from resources.warehouse import Warehouse

FX_RATES_KEY = AssetKey(["growth", "fx_rates"])


@dataclass(frozen=True)
class Normaliser:
    source: str
    streams: tuple[str, ...]  # the streams that produce canonical events
    description: str
    # Configured sources (tabular_assets) share one staging file and name their raw assets;
    # None: sql/models/stage_<source>_<stream>.sql and the source's streams' raw assets.
    stage_sql: str | None = None
    raw_keys: tuple[AssetKey, ...] | None = None
    # Configured sources set their partitioning here; built-in sources take their streams'.
    fixed_grain: str | None = None
    # Key paths of the staged ``properties`` that hold user identifiers: pseudonymised with
    # ``user_id`` when pseudonymisation is on (paths a record lacks are left alone).
    identity_paths: tuple[tuple[str, ...], ...] = ()

    @property
    def key(self) -> AssetKey:
        return AssetKey(["growth", "events", self.source])

    def stream_specs(self) -> tuple[StreamSpec, ...]:
        return streams_of(self.source)

    @property
    def reconcile_sql(self) -> dict[str, str]:
        """Per stream, the SQL that counts the candidate events of the raw rows of a window
        (``sql/quality/reconcile/``), for the ``reconciled`` check."""
        if self.stage_sql is not None:
            return {stream: "quality/reconcile/tabular" for stream in self.streams}
        return {s: f"quality/reconcile/{self.source}_{s}" for s in self.streams}

    @property
    def grain(self) -> str:
        """The partitioning of the source's event streams (one grain per source)."""
        if self.fixed_grain is not None:
            return self.fixed_grain
        grains = {s.grain for s in self.stream_specs() if s.stream in self.streams}
        if len(grains) != 1:
            raise ValueError(f"{self.source}: event streams mix grains {sorted(grains)}")
        return grains.pop()


NORMALISERS: tuple[Normaliser, ...] = (
    Normaliser(
        "mixpanel",
        ("events",),
        "Mixpanel product events as canonical signup/activation/engagement.",
        # Mixpanel's identity-merge properties (distinct_id itself becomes user_id).
        identity_paths=(
            ("$user_id",),
            ("$device_id",),
            ("$anon_distinct_id",),
            ("$distinct_id_before_identity",),
        ),
    ),
    Normaliser(
        "stripe",
        ("charges", "refunds", "events"),
        "Stripe charges, refunds and subscription lifecycle as canonical events.",
        # The customer id the staging copies, and what an update event says it was before.
        identity_paths=(
            ("customer",),
            ("previous_attributes", "customer"),
            ("previous_attributes", "metadata", "user_id"),
        ),
    ),
    Normaliser("zendesk", ("tickets",), "Zendesk tickets as canonical support events."),
)


def _params(settings: ModelSettings) -> dict[str, Any]:
    return {
        "product_start": product_start(),
        "reporting_currency": settings.reporting_currency,
        "event_map": orjson.dumps(settings.mixpanel_events).decode(),
        "product_field_id": settings.zendesk_product_field_id,
        "user_field_id": settings.zendesk_user_field_id,
    }


def build_normalise_asset(norm: Normaliser) -> AssetsDefinition:
    """The asset that writes ``norm.source``'s slice of ``growth.events``."""
    raw_deps = (
        list(norm.raw_keys)
        if norm.raw_keys is not None
        else [s.asset_key for s in norm.stream_specs()]
    )

    partitions_def = partitions.hourly() if norm.grain == "hourly" else partitions.daily()

    @asset(
        key=norm.key,
        description=norm.description,
        group_name="canonical",
        kinds={"postgres"},
        partitions_def=partitions_def,
        backfill_policy=BackfillPolicy.single_run(),
        deps=[*raw_deps, FX_RATES_KEY],
        check_specs=canonical_specs(norm.key, partitions_def),
    )
    def normalise(
        context: AssetExecutionContext, warehouse: Warehouse, settings: ModelSettings
    ) -> MaterializeResult:
        started = time.perf_counter()
        window = context.partition_time_window
        keys = context.partition_key_range
        label = keys.start if keys.start == keys.end else f"{keys.start}...{keys.end}"
        base = {
            **_params(settings),
            "source": norm.source,
            "window_start": window.start,
            "window_end": window.end,
            "partition": label,
        }
        per_stream: dict[str, dict[str, Any]] = {}
        pseudonyms = settings.pseudonyms()
        with warehouse.transaction() as conn:
            lock_window(conn, norm.key.to_user_string(), window.start, window.end)
            check_space(conn, pseudonyms)
            for stream in norm.streams:
                params = {**base, "stream": stream}
                Warehouse.run_file(conn, "models/stage_events_table")
                stage = norm.stage_sql or f"models/stage_{norm.source}_{stream}"
                Warehouse.run_file(conn, stage, params)
                if pseudonyms is not None:
                    pseudonymise_staged(conn, pseudonyms, norm.identity_paths)
                Warehouse.run_file(conn, "models/load_events", params)
                (summary,) = Warehouse.fetch_file(conn, "models/load_events_summary")
                per_stream[stream] = {
                    "staged": int(summary.staged),
                    "loaded": int(summary.loaded),
                    "rejected": int(summary.rejected),
                    "reasons": summary.reasons,
                }
                Warehouse.run_file(conn, "models/drop_stage_tables")
        with warehouse.transaction() as conn:
            checks = canonical_checks(
                conn,
                context,
                warehouse,
                norm.key,
                source=norm.source,
                streams=norm.streams,
                reconcile_sql=norm.reconcile_sql,
            )
        loaded = sum(v["loaded"] for v in per_stream.values())
        rejected = sum(v["rejected"] for v in per_stream.values())
        context.log.info(
            f"growth.events[{norm.source}] {label}: {loaded} loaded, {rejected} rejected"
        )
        return MaterializeResult(
            metadata={
                **window_metadata(window.start, window.end, label),
                "timescaledb_tier": warehouse.tier().value,
                "rows_loaded": loaded,
                "rows_rejected": rejected,
                "streams": MetadataValue.json(per_stream),
                "user_ids_pseudonymised": pseudonyms is not None,
                "seconds": MetadataValue.float(round(time.perf_counter() - started, 3)),
            },
            check_results=checks,
        )

    return normalise


NORMALISE_ASSETS: list[AssetsDefinition] = [build_normalise_asset(n) for n in NORMALISERS]
