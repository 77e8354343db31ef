"""Ingest against the physical limit: the pipeline's load path vs a plain binary COPY.

The same Mixpanel payloads (the demo world's, at the chosen scale) go through the real load
path, without Dagster, in two timed stages:

* ``raw``: :func:`growth_assets.sources.load.load_window` (keying, COPY into a staging table,
  idempotent upsert by ``$insert_id`` into ``raw.mixpanel_events``, rejects);
* ``canonical``: the normalisation SQL (staging, validation against the vocabulary,
  currencies and FX, deterministic event ids, replace of the window in ``growth.events``,
  rejects, late-data marks).

The physical limit is a binary ``COPY`` of the resulting canonical rows into an unindexed
table with the same columns, in the same run on the same server. Rates are rows per second
of canonical events.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from growth_assets.models.events import NORMALISERS, _params
from growth_assets.sources.assets import fetch_in_chunks
from growth_assets.sources.load import load_window
from growth_assets.sources.streams import streams_of
from resources.clients import DemoSettings, DemoSourceClient
from resources.migrations import migrate
from resources.settings import ModelSettings
from resources.warehouse import Warehouse

EVENT_COLUMNS = (
    "event_id",
    "occurred_at",
    "product_id",
    "source",
    "stream",
    "source_id",
    "event_type",
    "user_id",
    "value",
    "currency",
    "value_reporting",
    "properties",
)


def _normalise(conn: sa.Connection, start: datetime, end: datetime) -> None:
    norm = next(n for n in NORMALISERS if n.source == "mixpanel")
    params = {
        **_params(ModelSettings()),
        "source": "mixpanel",
        "stream": "events",
        "window_start": start,
        "window_end": end,
        "partition": "bench",
    }
    for _stream in norm.streams:
        Warehouse.run_file(conn, "models/stage_events_table")
        Warehouse.run_file(conn, "models/stage_mixpanel_events", params)
        Warehouse.run_file(conn, "models/load_events", params)
        Warehouse.run_file(conn, "models/drop_stage_tables")


def _binary_copy(wh: Warehouse, rows: list[tuple[Any, ...]]) -> float:
    with wh.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_copy_target")
        conn.exec_driver_sql(
            "CREATE TABLE bench_copy_target AS SELECT "
            + ", ".join(EVENT_COLUMNS)
            + " FROM growth.events WITH NO DATA"
        )
    with wh.engine.begin() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        started = time.perf_counter()
        with (
            driver.cursor() as cur,
            cur.copy(
                f"COPY bench_copy_target ({', '.join(EVENT_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(
                [
                    "uuid",
                    "timestamptz",
                    "text",
                    "text",
                    "text",
                    "text",
                    "text",
                    "text",
                    "numeric",
                    "text",
                    "numeric",
                    "jsonb",
                ]
            )
            for row in rows:
                copy.write_row(row)
        seconds = time.perf_counter() - started
        conn.exec_driver_sql("DROP TABLE bench_copy_target")
    return seconds


def mixpanel_records(demo: DemoSettings, days: int | None = None) -> list[dict[str, Any]]:
    """The demo world's Mixpanel payloads for its first ``days`` days (all by default)."""
    start = datetime.fromisoformat(demo.start).replace(tzinfo=UTC)
    end = start + timedelta(days=days or demo.days)
    client = DemoSourceClient(source="mixpanel", demo=demo)
    return list(fetch_in_chunks(client, "events", start, end))


def measure(url: str, records: list[dict[str, Any]], copy_limit: bool = True) -> dict[str, Any]:
    """Load ``records`` on a fresh database at ``url`` through the pipeline's path (raw, then
    canonical), then, when ``copy_limit``, binary-COPY the resulting canonical rows into an
    unindexed table; seconds and rows of each."""
    wh = Warehouse(url=url)
    migrate(wh.engine, "auto")
    spec = next(s for s in streams_of("mixpanel") if s.stream == "events")
    start = datetime(1970, 1, 1, tzinfo=UTC)
    end = datetime.now(UTC) + timedelta(days=1)

    # Mixpanel events carry no money, so no FX rates are needed.
    t0 = time.perf_counter()
    with wh.transaction() as conn:
        stats = load_window(conn, spec, records, (start, end), "bench")
    t1 = time.perf_counter()
    with wh.transaction() as conn:
        _normalise(conn, start, end)
    t2 = time.perf_counter()

    with wh.engine.connect() as conn:
        events = int(conn.execute(sa.text("SELECT count(*) FROM growth.events")).scalar_one())
        rows = (
            [
                tuple(r)
                for r in conn.execute(
                    sa.text(f"SELECT {', '.join(EVENT_COLUMNS)} FROM growth.events")
                )
            ]
            if copy_limit
            else []
        )
    wh.engine.dispose()
    return {
        "records": stats.fetched,
        "raw_rows": stats.distinct_ids,
        "events": events,
        "rejected": stats.rejected,
        "raw_s": t1 - t0,
        "canonical_s": t2 - t1,
        "copy_s": _binary_copy(wh, rows) if copy_limit else None,
    }
