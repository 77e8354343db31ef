"""Clients for configured tabular sources: CSV / Parquet files (polars) and SQL queries.

Both implement :class:`~resources.clients.SourceClient`: ``fetch`` yields one record per row
whose mapped timestamp lies in the window, already in a canonical-ish shape::

    {"id", "occurred_at", "user_id", "product_id", "source_event", "event_type",
     "value", "currency", "properties", "row"}

``row`` is the original row (JSON-safe), so nothing the source said is lost. ``id`` is the
configured id column, or a SHA-256 of the row when there is none (identical rows then count
once). A row whose timestamp cannot be parsed keeps the raw value in ``occurred_at``; the
loader rejects it with the reason (``ops.rejected_events``, stage ``ingest``) instead of
dropping it.

Quirks handled here, with the reason:

* CSV files are read with every column as text (``infer_schema=False``): type inference
  guesses from the first rows and would turn ids with leading zeros into numbers, or fail on
  a late row. Values are parsed where they are used (timestamps here, amounts in SQL).
* Timestamps: native date/datetime columns (Parquet, SQL) are used as they are; numbers are
  epoch seconds; text is parsed with ``timestamp_format`` (Python ``strptime``), then as ISO
  8601. Values without an offset are read in the configured ``timezone``.
* A file row with an unparseable timestamp belongs to no window, so every fetch yields it
  again; its reject is keyed by a hash of the row and stays a single row.
* The SQL URL is a secret: it is read from the environment variable named in the config at
  fetch time, never stored on the resource, and scrubbed from any error before it is raised.
"""

from __future__ import annotations

import glob
import hashlib
import math
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import polars as pl
import sqlalchemy as sa
from pydantic import Field

from resources.clients import SourceClient

TS_COLUMN = "__growth_ts__"
FILE_COLUMN = "__growth_file__"


class TabularSourceError(RuntimeError):
    """A configured source that cannot be read: the message names the source and what to fix."""


def jsonable(value: Any) -> Any:
    """A JSON-safe copy of a cell (Decimal → text, dates → ISO 8601, bytes → hex)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return str(value)


def parse_timestamp(value: Any, fmt: str | None, tz: str) -> datetime | None:
    """Parse a cell into an aware UTC datetime; None when it is missing or unparseable."""
    if value is None:
        return None
    zone = ZoneInfo(tz)
    parsed: datetime | None = None
    try:
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, date):
            parsed = datetime.combine(value, time())
        elif isinstance(value, bool):
            return None
        elif isinstance(value, int | float | Decimal) or fmt == "epoch":
            parsed = datetime.fromtimestamp(float(value), tz=UTC)
        else:
            text = str(value).strip()
            if not text:
                return None
            if fmt:
                try:
                    parsed = datetime.strptime(text, fmt)
                except ValueError:
                    parsed = None
            if parsed is None:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError, ArithmeticError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(jsonable(value)).strip()
    return text or None


class TabularClient(SourceClient):
    """The column mapping shared by file and SQL sources (see ``tabular_config``)."""

    name: str = Field(description="The configured source name (the events' source).")
    timestamp: str = Field(description="Column holding the event time.")
    user: str = Field(description="Column holding the product's user id.")
    id_column: str | None = Field(default=None, description="Id column; None: row hash.")
    event_type_column: str | None = None
    event_type: str | None = Field(default=None, description="Constant event type.")
    event_types: dict[str, str] = Field(
        default_factory=dict, description="Source value → canonical event type (optional)."
    )
    product_column: str | None = None
    product: str | None = Field(default=None, description="Constant product id.")
    value_column: str | None = None
    currency_column: str | None = None
    currency: str | None = Field(default=None, description="Constant ISO 4217 currency.")
    properties: list[str] = Field(default_factory=list)
    timestamp_format: str | None = None
    timezone: str = "UTC"

    @property
    def kind(self) -> str:
        return "tabular"

    def mapped_columns(self) -> dict[str, str]:
        """Configured field → column, for the columns every row must have."""
        fields = {
            "timestamp": self.timestamp,
            "user": self.user,
            "id": self.id_column,
            "event_type": self.event_type_column,
            "product": self.product_column,
            "value": self.value_column,
            "currency": self.currency_column,
        }
        found = {k: v for k, v in fields.items() if v is not None}
        found.update({f"properties[{i}]": c for i, c in enumerate(self.properties)})
        return found

    def check_columns(self, columns: list[str]) -> None:
        missing = {f: c for f, c in self.mapped_columns().items() if c not in columns}
        if missing:
            listed = ", ".join(f"{c!r} (columns.{f})" for f, c in missing.items())
            raise TabularSourceError(
                f"{self.kind} source {self.name!r}: column(s) {listed} not in the data; "
                f"its columns are {sorted(columns)}"
            )

    def to_record(self, row: dict[str, Any], ts: datetime | None) -> dict[str, Any]:
        """The canonical-ish record of one row (``ts``: its parsed timestamp, or None)."""
        original = {str(k): jsonable(v) for k, v in row.items()}
        if self.id_column is not None:
            source_id = _text(row.get(self.id_column))
        else:
            digest = hashlib.sha256(orjson.dumps(original, option=orjson.OPT_SORT_KEYS))
            source_id = digest.hexdigest()[:32]
        raw_ts = row.get(self.timestamp)
        source_event = (
            self.event_type
            if self.event_type is not None
            else _text(row.get(self.event_type_column or ""))
        )
        # With an event_types map, values it does not know stay unmapped (rejected later).
        event_type = self.event_types.get(source_event or "") if self.event_types else source_event
        return {
            "id": source_id,
            "occurred_at": ts.isoformat() if ts else _text(raw_ts),
            "user_id": _text(row.get(self.user)),
            "product_id": self.product or _text(row.get(self.product_column or "")),
            "source_event": source_event,
            "event_type": event_type,
            "value": jsonable(row.get(self.value_column)) if self.value_column else None,
            "currency": self.currency or _text(row.get(self.currency_column or "")),
            "properties": {c: original.get(c) for c in self.properties},
            "row": original,
        }


class FileSourceClient(TabularClient):
    """Rows of CSV or Parquet files matching a path or glob, read with polars."""

    path: str = Field(description="File path or glob (absolute).")
    format: str = Field(description="'csv' or 'parquet'.")

    @property
    def kind(self) -> str:
        return "file"

    def files(self) -> list[str]:
        # glob.glob, not Path.glob: the configured pattern is an absolute path.
        pattern = self.path
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]  # noqa: PTH207
        matches = [m for m in matches if Path(m).is_file()]
        if not matches:
            raise TabularSourceError(f"file source {self.name!r}: no file matches {self.path}")
        return matches

    def _scan(self, files: list[str]) -> pl.LazyFrame:
        if self.format == "csv":
            return pl.scan_csv(files, infer_schema=False, include_file_paths=FILE_COLUMN)
        return pl.scan_parquet(files, include_file_paths=FILE_COLUMN)

    def _timestamp_expr(self, dtype: pl.DataType) -> pl.Expr:
        column = pl.col(self.timestamp)
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is None:
                column = column.dt.replace_time_zone(self.timezone)
            return column.dt.convert_time_zone("UTC").cast(pl.Datetime("us", "UTC"))
        if dtype == pl.Date:
            return (
                column.cast(pl.Datetime("us"))
                .dt.replace_time_zone(self.timezone)
                .dt.convert_time_zone("UTC")
            )
        fmt, tz = self.timestamp_format, self.timezone
        if dtype.is_numeric():
            fmt = "epoch"
        return column.cast(pl.String).map_elements(
            lambda v: parse_timestamp(v, fmt, tz), return_dtype=pl.Datetime("us", "UTC")
        )

    def fetch(self, stream: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        files = self.files()
        try:
            frame = self._scan(files)
            schema = frame.collect_schema()
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise TabularSourceError(
                f"file source {self.name!r}: cannot read the {len(files)} file(s) matching "
                f"{self.path}: {exc}"
            ) from exc
        self.check_columns([c for c in schema.names() if c != FILE_COLUMN])
        ts = pl.col(TS_COLUMN)
        try:
            selected = (
                frame.with_columns(self._timestamp_expr(schema[self.timestamp]).alias(TS_COLUMN))
                .filter(ts.is_null() | ((ts >= start) & (ts < end)))
                .collect()
            )
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise TabularSourceError(
                f"file source {self.name!r}: cannot read the {len(files)} file(s) matching "
                f"{self.path}: {exc}"
            ) from exc
        for row in selected.iter_rows(named=True):
            parsed = row.pop(TS_COLUMN)
            file = row.pop(FILE_COLUMN)
            record = self.to_record(row, parsed)
            record["file"] = Path(file).name
            yield record

    def describe(self) -> dict[str, str]:
        return {"client": f"file source ({self.format})", "path": self.path}


class SqlSourceClient(TabularClient):
    """Rows of a windowed SQL query against any SQLAlchemy URL (read from ``url_env``)."""

    url_env: str = Field(description="Environment variable holding the SQLAlchemy URL.")
    query: str = Field(description="SELECT with :window_start and :window_end binds.")

    @property
    def kind(self) -> str:
        return "sql"

    def _url(self) -> str:
        url = os.environ.get(self.url_env)
        if not url:
            raise TabularSourceError(
                f"sql source {self.name!r}: environment variable {self.url_env} is not set "
                "(it must hold the SQLAlchemy URL of the database to read)"
            )
        return url

    def _scrub(self, message: str, url: str) -> str:
        secrets = {url}
        try:
            parsed = sa.engine.make_url(url)
            secrets.add(parsed.render_as_string(hide_password=False))
            secrets.add(parsed.render_as_string(hide_password=True))
            if parsed.password:
                secrets.add(str(parsed.password))
        except Exception:  # noqa: S110 - an unparseable URL: scrub the raw string only
            pass
        for secret in sorted(secrets, key=len, reverse=True):
            if secret:
                message = message.replace(secret, "***")
        return message

    def fetch(self, stream: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        url = self._url()
        failure: str | None = None
        engine = None
        try:
            engine = sa.create_engine(url)
            with engine.connect() as conn:
                result = conn.execution_options(stream_results=True, yield_per=1000).execute(
                    sa.text(self.query), {"window_start": start, "window_end": end}
                )
                self.check_columns(list(result.keys()))
                for row in result.mappings():
                    values = dict(row)
                    yield self.to_record(
                        values,
                        parse_timestamp(
                            values.get(self.timestamp), self.timestamp_format, self.timezone
                        ),
                    )
        except TabularSourceError:
            raise
        except Exception as exc:  # driver errors may quote the URL: re-raised scrubbed
            failure = self._scrub(f"{type(exc).__name__}: {exc}", url)
        finally:
            if engine is not None:
                engine.dispose()
        if failure is not None:
            # Raised outside the except block, so the original (unscrubbed) exception is not
            # attached as context to what Dagster logs.
            raise TabularSourceError(
                f"sql source {self.name!r} (URL from {self.url_env}) failed: {failure}"
            )

    def describe(self) -> dict[str, str]:
        return {"client": "sql source", "url_env": self.url_env}
