"""The peer a user would pick for ingestion: dlt loading the same payloads into PostgreSQL.

dlt (``dlt[postgres]``) is the usual open-source choice for "API records into Postgres". It
gets the same Mixpanel payloads our raw load gets, merged on the same key (``$insert_id``,
lifted to a top-level ``insert_id`` column; records without it are skipped), into its own
dataset of the same database. dlt flattens nested objects into columns and writes through
its extract → normalise → load stages (files on local disk in between); the time is the
whole ``pipeline.run``.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def measure(url: str, records: list[dict[str, Any]], tag: str) -> dict[str, Any]:
    """Load ``records`` with dlt into the database at ``url``; seconds and rows loaded."""
    import dlt  # the optional `bench` extra

    pg = make_url(url).set(drivername="postgresql")
    if not pg.password:  # dlt insists on a password; trust authentication ignores it
        pg = pg.set(password="unused")  # noqa: S106 (not a secret: trust auth)
    with tempfile.TemporaryDirectory() as pipelines_dir:
        pipeline = dlt.pipeline(
            pipeline_name=f"bench_{tag}",
            destination=dlt.destinations.postgres(
                credentials=pg.render_as_string(hide_password=False)
            ),
            dataset_name="dlt_mixpanel",
            pipelines_dir=pipelines_dir,
        )

        @dlt.resource(name="events", write_disposition="merge", primary_key="insert_id")
        def events() -> Iterator[dict[str, Any]]:
            for record in records:
                key = (record.get("properties") or {}).get("$insert_id")
                if key:  # records without the key are rejected by our path too
                    yield {"insert_id": key, **record}

        started = time.perf_counter()
        pipeline.run(events())
        seconds = time.perf_counter() - started
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = int(conn.execute(sa.text("SELECT count(*) FROM dlt_mixpanel.events")).scalar_one())
    engine.dispose()
    return {"seconds": seconds, "rows": rows}


def reconcile(ours_url: str, dlt_url: str) -> dict[str, int]:
    """Key by key: every record dlt kept must be in our raw table or in our ingest rejects
    (``ops.rejected_events``, kept with a reason), and nothing else. Returns the counts and
    the keys found on one side only (both 0 when the loads agree)."""
    ours = sa.create_engine(ours_url)
    theirs = sa.create_engine(dlt_url)
    try:
        with ours.connect() as conn:
            raw = set(conn.execute(sa.text("SELECT id FROM raw.mixpanel_events")).scalars())
            rejected = set(
                conn.execute(
                    sa.text(
                        "SELECT source_id FROM ops.rejected_events "
                        "WHERE stage = 'ingest' AND source = 'mixpanel'"
                    )
                ).scalars()
            )
        with theirs.connect() as conn:
            kept = set(conn.execute(sa.text("SELECT insert_id FROM dlt_mixpanel.events")).scalars())
    finally:
        ours.dispose()
        theirs.dispose()
    return {
        "dlt_rows": len(kept),
        "ours_raw_rows": len(raw),
        "ours_ingest_rejects": len(rejected),
        "only_dlt": len(kept - raw - rejected),
        "only_ours": len((raw | rejected) - kept),
    }
