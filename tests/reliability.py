"""Helpers for the reliability tests: a digest of the warehouse's contents.

A digest covers every table of the ``raw``, ``growth`` and ``ops`` schemas, each row as text,
sorted, leaving out the columns that record *when* something was written (a ``now()`` default)
and generated ids (identity / sequence columns): two warehouses holding the same data digest
equal whatever the order or the number of runs that wrote it.
"""

from __future__ import annotations

import sqlalchemy as sa

from resources.sqlfiles import quote_ident
from resources.warehouse import Warehouse

SCHEMAS = ("raw", "growth", "ops")
# Bookkeeping of runs, not data: when and by which run things were written.
# ``ops.quality_results`` is the log of check evaluations: one row per evaluation, so it grows
# with every run (a re-run of identical data is evaluated, and logged, again).
SKIP_TABLES = {"ops.schema_migrations", "ops.quality_results"}

_COLUMNS = sa.text(
    """
    SELECT c.table_schema || '.' || c.table_name AS tbl, c.column_name
    FROM information_schema.columns AS c
    JOIN information_schema.tables AS t
      ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = ANY(CAST(:schemas AS text[]))
      AND t.table_type = 'BASE TABLE'
      AND c.is_identity = 'NO'
      AND coalesce(c.column_default, '') NOT LIKE '%now()%'
      AND coalesce(c.column_default, '') NOT LIKE '%nextval(%'
      AND coalesce(c.column_default, '') NOT LIKE '%clock_timestamp()%'
    ORDER BY 1, c.ordinal_position
    """
)


def table_columns(
    warehouse: Warehouse, tables: set[str] | None = None, skip: frozenset[str] = frozenset()
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with warehouse.engine.connect() as conn:
        for tbl, col in conn.execute(_COLUMNS, {"schemas": list(SCHEMAS)}):
            if tbl in SKIP_TABLES or (tables is not None and tbl not in tables):
                continue
            if f"{tbl}.{col}" in skip:
                continue
            out.setdefault(tbl, []).append(col)
    return out


def digests(
    warehouse: Warehouse, tables: set[str] | None = None, skip: frozenset[str] = frozenset()
) -> dict[str, str]:
    """{table: md5 of its sorted rows} (the data columns only; see the module docstring);
    ``skip``: further ``schema.table.column`` names to leave out."""
    out = {}
    with warehouse.engine.connect() as conn:
        for tbl, cols in table_columns(warehouse, tables, skip).items():
            select = ", ".join(quote_ident(c) for c in cols)
            sql = (
                f"SELECT count(*) AS n, md5(coalesce(string_agg(r, '|' ORDER BY r), '')) AS d "
                f"FROM (SELECT CAST(ROW({select}) AS text) AS r FROM {quote_ident(tbl)}) AS x"
            )
            row = conn.execute(sa.text(sql)).one()
            out[tbl] = f"{row.n}:{row.d}"
    return out
