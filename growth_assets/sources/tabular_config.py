"""Configuration of tabular sources (CSV / Parquet files, SQL queries): parse and validate.

The file named by ``GROWTH_SOURCES_FILE`` (TOML) declares any number of ``[[file_source]]``
and ``[[sql_source]]`` tables. Each becomes an ingestion asset ``raw/<kind>_<name>`` and a
normalisation asset ``growth/events/<name>``, so exports from other tools and product
databases load without code. Everything here is pure: it reads the TOML and returns frozen
dataclasses, or raises :class:`TabularConfigError` naming the file, the source and the field.

Why the rules are strict:

* ``name`` becomes an asset key, a resource key, a Dagster pool and the ``source`` of canonical
  events, so it is limited to ``^[a-z][a-z0-9_]{0,40}$`` and must not shadow a built-in source.
* A SQL source's URL is a secret: the file names the environment variable that holds it
  (``url_env``) and may not contain the URL. Error messages never repeat a value that might
  be a URL.
* A SQL source's query is run with SQLAlchemy ``text()`` and exactly two bound parameters,
  ``:window_start`` and ``:window_end``; any other ``:name`` would be an unbound parameter, and a
  ``;`` would allow a second statement, so both are refused here rather than at run time.
  Column names are only ever used as keys of result rows, never written into SQL.
* Columns and constants: ``event_type``, ``product`` and ``currency`` come either from a column
  (``[…columns]``) or from a constant (``[…constants]``), never both.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CURRENCY = re.compile(r"^[A-Za-z]{3}$")
# SQLAlchemy text()'s own bind-parameter pattern: what it will treat as ``:name``.
BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")
WINDOW_BINDS = frozenset({"window_start", "window_end"})
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Kind = Literal["file", "sql"]
Grain = Literal["hourly", "daily"]
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}

_COLUMN_KEYS = {"timestamp", "user", "id", "event_type", "product", "value", "currency"}
_CONSTANT_KEYS = {"event_type", "product", "currency"}
_COMMON_KEYS = {
    "name",
    "grain",
    "columns",
    "constants",
    "event_types",
    "timestamp_format",
    "timezone",
    "description",
}
_FILE_KEYS = _COMMON_KEYS | {"path", "format"}
_SQL_KEYS = _COMMON_KEYS | {"url_env", "query"}


class TabularConfigError(ValueError):
    """A sources file that cannot be used; the message names the file, source and field."""


@dataclass(frozen=True)
class ColumnMapping:
    """Which column (or constant) gives each canonical field of an event."""

    timestamp: str
    user: str
    id: str | None = None  # None: a deterministic hash of the whole row
    event_type_column: str | None = None
    event_type: str | None = None  # constant
    event_types: Mapping[str, str] = field(default_factory=dict)  # source value → canonical
    product_column: str | None = None
    product: str | None = None  # constant
    value: str | None = None
    currency_column: str | None = None
    currency: str | None = None  # constant
    properties: tuple[str, ...] = ()
    timestamp_format: str | None = None  # strptime format, "epoch", or None: ISO 8601
    timezone: str = "UTC"  # for timestamps without an offset


@dataclass(frozen=True)
class TabularSource:
    kind: Kind
    name: str
    grain: Grain
    mapping: ColumnMapping
    description: str
    path: str | None = None  # file sources: absolute path or glob
    format: Literal["csv", "parquet"] | None = None
    url_env: str | None = None  # sql sources: the variable holding the SQLAlchemy URL
    query: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}_{self.name}"


@dataclass(frozen=True)
class TabularConfig:
    sources: tuple[TabularSource, ...] = ()
    file: str | None = None


EMPTY = TabularConfig()


class _Ctx:
    """Formats errors as ``<file>: <kind> '<name>': <field>: <problem>``."""

    def __init__(self, file: str, where: str) -> None:
        self.file = file
        self.where = where

    def fail(self, field_name: str, problem: str) -> TabularConfigError:
        prefix = f"{self.file}: {self.where}"
        return TabularConfigError(
            f"{prefix}: {field_name}: {problem}" if field_name else f"{prefix}: {problem}"
        )


def _text(ctx: _Ctx, table: Mapping[str, Any], key: str, *, required: bool) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ctx.fail(key, "is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ctx.fail(key, "must be a non-empty string")
    return value


def _column(ctx: _Ctx, field_name: str, value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 256 or CONTROL.search(value):
        raise ctx.fail(
            field_name, "must be a column name (1-256 characters, no control characters)"
        )
    return value


def _unknown(ctx: _Ctx, table: Mapping[str, Any], allowed: set[str], where: str = "") -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise ctx.fail(
            where,
            f"unknown key(s) {', '.join(repr(k) for k in extra)}; "
            f"allowed: {', '.join(sorted(allowed))}",
        )


def _mapping(ctx: _Ctx, table: Mapping[str, Any]) -> ColumnMapping:
    columns = table.get("columns")
    if not isinstance(columns, dict):
        raise ctx.fail("columns", "is required: a table mapping timestamp, user, … to columns")
    constants = table.get("constants", {})
    if not isinstance(constants, dict):
        raise ctx.fail("constants", "must be a table")
    _unknown(ctx, columns, _COLUMN_KEYS | {"properties"}, "columns")
    _unknown(ctx, constants, _CONSTANT_KEYS, "constants")

    def col(key: str, required: bool = False) -> str | None:
        if key not in columns:
            if required:
                raise ctx.fail(f"columns.{key}", "is required")
            return None
        return _column(ctx, f"columns.{key}", columns[key])

    for key in _CONSTANT_KEYS:
        if key in columns and key in constants:
            raise ctx.fail(key, f"set either columns.{key} or constants.{key}, not both")

    event_type = constants.get("event_type")
    if event_type is not None and (
        not isinstance(event_type, str) or not EVENT_TYPE.match(event_type)
    ):
        raise ctx.fail(
            "constants.event_type", "must be a canonical event type such as 'engagement'"
        )
    if event_type is None and "event_type" not in columns:
        raise ctx.fail("event_type", "set columns.event_type or constants.event_type")
    product = constants.get("product")
    if product is not None and (
        not isinstance(product, str) or not product or len(product) > 200 or product == "all"
    ):
        raise ctx.fail("constants.product", "must be a product id (not 'all')")
    if product is None and "product" not in columns:
        raise ctx.fail("product", "set columns.product or constants.product")
    currency = constants.get("currency")
    if currency is not None and (not isinstance(currency, str) or not CURRENCY.match(currency)):
        raise ctx.fail("constants.currency", "must be a 3-letter ISO 4217 code")
    if "value" in columns and currency is None and "currency" not in columns:
        raise ctx.fail("currency", "columns.value needs columns.currency or constants.currency")

    props = columns.get("properties", [])
    if not isinstance(props, list):
        raise ctx.fail("columns.properties", "must be a list of column names")
    properties = tuple(_column(ctx, "columns.properties", p) for p in props)

    event_types = table.get("event_types", {})
    if not isinstance(event_types, dict):
        raise ctx.fail("event_types", "must be a table of source value = canonical type")
    for source_value, canonical in event_types.items():
        if not isinstance(canonical, str) or not EVENT_TYPE.match(canonical):
            raise ctx.fail(f"event_types.{source_value}", "must map to a canonical event type name")

    fmt = _text(ctx, table, "timestamp_format", required=False)
    tz = _text(ctx, table, "timezone", required=False) or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ctx.fail("timezone", f"unknown time zone {tz!r}") from exc

    return ColumnMapping(
        timestamp=col("timestamp", required=True) or "",
        user=col("user", required=True) or "",
        id=col("id"),
        event_type_column=col("event_type"),
        event_type=event_type,
        event_types=dict(event_types),
        product_column=col("product"),
        product=product,
        value=col("value"),
        currency_column=col("currency"),
        currency=currency.upper() if currency else None,
        properties=properties,
        timestamp_format=fmt,
        timezone=tz,
    )


def validate_query(ctx: _Ctx, query: str) -> str:
    """A single SELECT (or WITH … SELECT) with exactly the two window binds."""
    body = query.strip().rstrip(";").strip()
    if ";" in body:
        raise ctx.fail("query", "must be a single statement (no ';' inside the query)")
    if not re.match(r"^(select|with)\b", body, flags=re.IGNORECASE):
        raise ctx.fail("query", "must be a SELECT (or WITH … SELECT) query")
    binds = set(BIND.findall(body))
    missing = WINDOW_BINDS - binds
    if missing:
        raise ctx.fail(
            "query",
            "must filter on the partition window with both :window_start and :window_end "
            f"(missing {', '.join(':' + m for m in sorted(missing))})",
        )
    extra = binds - WINDOW_BINDS
    if extra:
        raise ctx.fail(
            "query",
            f"unknown bind parameter(s) {', '.join(':' + e for e in sorted(extra))}; "
            "only :window_start and :window_end are bound",
        )
    return body


def _source(
    kind: Kind, index: int, table: Any, file: str, base: Path, reserved: set[str]
) -> TabularSource:
    ctx = _Ctx(file, f"{kind}_source #{index + 1}")
    if not isinstance(table, dict):
        raise ctx.fail("", "must be a table")
    name = table.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ctx.fail("name", "must match ^[a-z][a-z0-9_]{0,40}$ (it becomes an asset key)")
    if name in reserved:
        raise ctx.fail("name", f"{name!r} is a built-in source or reserved")
    ctx = _Ctx(file, f"{kind}_source {name!r}")
    if kind == "sql" and "url" in table:
        raise ctx.fail(
            "url",
            "the URL may not be written in the sources file (it is a secret): put it in an "
            "environment variable and name that variable in url_env",
        )
    _unknown(ctx, table, _FILE_KEYS if kind == "file" else _SQL_KEYS)
    grain = table.get("grain", "daily")
    if grain not in ("daily", "hourly"):
        raise ctx.fail("grain", "must be 'daily' or 'hourly'")
    mapping = _mapping(ctx, table)
    description = _text(ctx, table, "description", required=False) or (
        f"Rows of the {kind} source {name!r} (configured in the sources file)."
    )
    if kind == "file":
        raw_path = _text(ctx, table, "path", required=True) or ""
        path = Path(raw_path).expanduser()
        if not path.is_absolute():
            path = base / path
        fmt = table.get("format")
        if fmt is None:
            suffix = path.suffix.lower()
            fmt = FORMATS.get(suffix)
            if fmt is None:
                raise ctx.fail(
                    "format", f"cannot tell the format from {path.name!r}: set csv or parquet"
                )
        if fmt not in ("csv", "parquet"):
            raise ctx.fail("format", "must be 'csv' or 'parquet'")
        return TabularSource(
            kind,
            name,
            grain,
            mapping,
            description,
            path=str(path),
            format="csv" if fmt == "csv" else "parquet",
        )
    url_env = table.get("url_env")
    if not isinstance(url_env, str) or not ENV_NAME.match(url_env):
        # The value is not repeated: a user who put the URL here must not see it in logs.
        raise ctx.fail(
            "url_env",
            "must be the NAME of the environment variable holding the SQLAlchemy URL "
            "(upper-case letters, digits, _), not the URL itself",
        )
    query = _text(ctx, table, "query", required=True) or ""
    return TabularSource(
        kind,
        name,
        grain,
        mapping,
        description,
        url_env=url_env,
        query=validate_query(ctx, query),
    )


def parse_config(
    text: str, file: str = "<sources>", base: Path | None = None, reserved: Iterable[str] = ()
) -> TabularConfig:
    """Parse and validate a sources file's text. Relative file paths resolve against ``base``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TabularConfigError(f"{file}: not valid TOML: {exc}") from None
    ctx = _Ctx(file, "top level")
    _unknown(ctx, data, {"file_source", "sql_source"})
    reserved_set = set(reserved)
    sources: list[TabularSource] = []
    for kind in ("file", "sql"):
        tables = data.get(f"{kind}_source", [])
        if not isinstance(tables, list):
            raise ctx.fail(f"{kind}_source", f"use [[{kind}_source]] (an array of tables)")
        for i, table in enumerate(tables):
            source = _source(kind, i, table, file, base or Path.cwd(), reserved_set)
            if any(s.name == source.name for s in sources):
                raise TabularConfigError(f"{file}: source name {source.name!r} is used twice")
            sources.append(source)
    return TabularConfig(tuple(sources), file)


def load_config(path: str | Path, reserved: Iterable[str] = ()) -> TabularConfig:
    """Read and validate the sources file at ``path``."""
    file = Path(path)
    if not file.is_file():
        raise TabularConfigError(f"sources file {file} (GROWTH_SOURCES_FILE) does not exist")
    return parse_config(
        file.read_text(encoding="utf-8"), str(file), file.resolve().parent, reserved
    )
