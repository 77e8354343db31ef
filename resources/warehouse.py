"""The warehouse resource: one SQLAlchemy engine, the TimescaleDB tier, SQL files, COPY.

Every asset reaches PostgreSQL through this class. It owns three decisions the rest of the
code must not make on its own:

* **the tier** (``community`` / ``apache`` / ``none``) is read from the server at run time,
  never assumed: the Apache build that Debian ships has hypertables but refuses continuous
  aggregates, and plain PostgreSQL has neither;
* **transactions**: a partition is replaced inside one transaction, so readers see the old
  or the new window, never half of one, and a killed run leaves the previous state;
* **bulk loads** go through ``COPY`` on the same connection as the surrounding transaction.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

import polars as pl
import sqlalchemy as sa
from dagster import ConfigurableResource
from pydantic import Field
from sqlalchemy.engine import Connection, Engine

from resources import sqlfiles


class Tier(StrEnum):
    """What the connected server can do; every tier-specific SQL path branches on this."""

    COMMUNITY = "community"  # TimescaleDB, Timescale License: continuous aggregates, policies
    APACHE = "apache"  # TimescaleDB, Apache-only build: hypertables, time_bucket, drop_chunks
    NONE = "none"  # plain PostgreSQL


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` / ``postgres://`` URLs and select the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# Set on every pipeline session where TimescaleDB is loaded: its parallel ChunkAppend can
# return zero rows when a chunk filter uses an InitPlan parameter (timescale/timescaledb#10503;
# migration 0022 sets the same for every other session of the database).
_SAFE_SESSION = (
    "SELECT set_config('timescaledb.enable_parallel_chunk_append', 'off', false) "
    "WHERE current_setting('timescaledb.enable_parallel_chunk_append', true) IS NOT NULL"
)


SESSION_OPTIONS = "-c jit=off -c temp_buffers=256MB"
"""Settings of the pipeline's sessions (BI sessions keep the server's). ``temp_buffers``:
the cohort assets number a run's users in temporary tables (about 140-175 MB each at 20
million events); with the default 8 MB of session memory for them, their pages were written
out and read back as they were filled and joined (members 8.4 -> 7.0 s, numbered users
5.4 -> 4.2 s there). The memory is taken only as temporary tables grow."""


def _configure_session(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute(_SAFE_SESSION)
    dbapi_connection.commit()


@functools.cache
def _engine(url: str) -> Engine:
    engine = sa.create_engine(
        normalise_url(url),
        pool_pre_ping=True,
        pool_size=4,
        max_overflow=8,
        # JIT compilation is off for the pipeline's sessions: its statements are large, run
        # once per window, and compiling them took longer than running them (15.5 s of a 26 s
        # MRR refresh at the demo scale). BI sessions keep the server's setting.
        connect_args={"application_name": "growth-assets", "options": SESSION_OPTIONS},
    )
    sa.event.listen(engine, "connect", _configure_session)
    return engine


def _driver(conn: Connection) -> Any:
    """The psycopg connection under a SQLAlchemy one (for ``COPY`` in its transaction)."""
    driver = conn.connection.driver_connection
    assert driver is not None
    return driver


def detect_tier(conn: Connection) -> Tier:
    """Read the TimescaleDB tier of the database behind ``conn``."""
    installed = conn.execute(
        sa.text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
    ).scalar()
    if not installed:
        return Tier.NONE
    license_ = conn.execute(sa.text("SELECT current_setting('timescaledb.license', true)")).scalar()
    return Tier.COMMUNITY if license_ == "timescale" else Tier.APACHE


class Warehouse(ConfigurableResource):
    """The PostgreSQL (+ TimescaleDB) warehouse the pipeline reads and writes."""

    url: str = Field(description="SQLAlchemy URL of the warehouse database (a secret).")
    timescaledb: str = Field(
        default="auto",
        description="'auto': create the timescaledb extension when the server offers it; "
        "'off': run as plain PostgreSQL even when it is available.",
    )

    @property
    def engine(self) -> Engine:
        return _engine(self.url)

    def tier(self) -> Tier:
        with self.engine.connect() as conn:
            return detect_tier(conn)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back on any error."""
        with self.engine.begin() as conn:
            yield conn

    @staticmethod
    def run_file(
        conn: Connection,
        name: str,
        params: Mapping[str, Any] | None = None,
        **identifiers: str,
    ) -> list[int]:
        """Run every statement of ``sql/<name>.sql`` with bound ``params``; return rowcounts."""
        counts = []
        for stmt in sqlfiles.statements(sqlfiles.render(name, **identifiers)):
            result = conn.execute(sa.text(stmt), dict(params or {}))
            counts.append(result.rowcount)
        return counts

    @staticmethod
    def fetch_file(
        conn: Connection,
        name: str,
        params: Mapping[str, Any] | None = None,
        **identifiers: str,
    ) -> list[sa.Row[Any]]:
        """Run a single-statement query file and return its rows."""
        text = sqlfiles.strip_comments(sqlfiles.render(name, **identifiers))
        return list(conn.execute(sa.text(text), dict(params or {})))

    @staticmethod
    def copy_rows(
        conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> int:
        """``COPY`` rows into ``table`` on the transaction's own connection; return the count."""
        cols = ", ".join(sqlfiles.quote_ident(c) for c in columns)
        statement = f"COPY {sqlfiles.quote_ident(table)} ({cols}) FROM STDIN"
        n = 0
        with _driver(conn).cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        return n

    @staticmethod
    def read_frames(
        conn: Connection,
        name: str,
        params: Mapping[str, Any],
        schema: Mapping[str, pl.DataType | type[pl.DataType]],
        chunk_bytes: int = 1 << 18,
        *,
        escaped: bool = False,
    ) -> Generator[pl.DataFrame, None, None]:
        """The rows of the single-query file ``sql/<name>.sql`` as polars frames of about
        ``chunk_bytes`` of CSV each, streamed by ``COPY ... TO STDOUT (FORMAT csv)`` on the
        transaction's own connection: no Python object per row and memory bounded by the
        chunk, whatever the result's size. ``schema`` names and types the query's columns,
        in order. Chunks are cut at line ends, so the query must return numbers, dates or
        other values without line breaks (no free text). The connection is busy with the
        ``COPY`` until the iterator is exhausted: read it to the end before other statements.

        ``escaped`` streams ``COPY``'s text format instead (tab-separated, no NULLs, an empty
        field is the empty string): a line break, tab or backslash in a value comes as
        ``\\n``, ``\\t`` or ``\\\\`` and is left so, which keeps every value on its line and
        tells distinct values apart, for text used as keys rather than shown.
        """
        query = sa.text(sqlfiles.strip_comments(sqlfiles.render(name)).rstrip().rstrip(";"))
        compiled = query.compile(dialect=conn.dialect)
        pending = bytearray()

        def parse(data: bytes) -> pl.DataFrame:
            if escaped:
                return pl.read_csv(
                    data,
                    has_header=False,
                    schema=schema,
                    separator="\t",
                    quote_char=None,
                    empty_string_is_null=False,
                )
            return pl.read_csv(data, has_header=False, schema=schema)

        with _driver(conn).cursor() as cur:
            options = "" if escaped else " (FORMAT csv)"
            statement = f"COPY ({compiled}) TO STDOUT{options}"
            with cur.copy(statement, compiled.construct_params(dict(params))) as copy:
                for block in copy:
                    pending += block
                    if len(pending) >= chunk_bytes:
                        cut = pending.rindex(b"\n") + 1
                        yield parse(bytes(pending[:cut]))
                        del pending[:cut]
        if pending:
            yield parse(bytes(pending))

    @staticmethod
    def read_frame(
        conn: Connection,
        name: str,
        params: Mapping[str, Any],
        schema: Mapping[str, pl.DataType | type[pl.DataType]],
        *,
        line_safe: bool = False,
    ) -> pl.DataFrame:
        """The whole result of the single-query file ``sql/<name>.sql`` as one polars frame
        (``COPY ... TO STDOUT``), for results that fit in memory; see :meth:`read_frames`.
        By default the CSV is parsed once at the end, so text values may hold anything, line
        breaks included; ``line_safe`` (the values are numbers, dates or names without line
        breaks) parses it in chunks as it streams, so the CSV is never held whole."""
        chunk_bytes = 1 << 18 if line_safe else sys.maxsize
        frames = list(Warehouse.read_frames(conn, name, params, schema, chunk_bytes))
        return pl.concat(frames) if frames else pl.DataFrame(schema=dict(schema))

    @staticmethod
    def write_frame(conn: Connection, table: str, frame: pl.DataFrame) -> int:
        """``COPY`` a polars frame into ``table`` (columns by the frame's names) on the
        transaction's own connection, as CSV; return the rows written."""
        if frame.is_empty():
            return 0
        cols = ", ".join(sqlfiles.quote_ident(c) for c in frame.columns)
        statement = f"COPY {sqlfiles.quote_ident(table)} ({cols}) FROM STDIN (FORMAT csv)"
        with _driver(conn).cursor() as cur, cur.copy(statement) as copy:
            copy.write(frame.write_csv(include_header=False))
        return frame.height
