"""CSV and Parquet exports of the main analytics views for a report period (polars).

Each view's rows for the period are written twice, ``<view>.csv`` and ``<view>.parquet``, in
the report's ``exports/`` folder. Views of later stages are exported once they exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from growth_assets.reports.data import view_exists
from growth_assets.reports.periods import Period
from resources import sqlfiles
from resources.warehouse import Warehouse

EXPORT_VIEWS = (
    "metrics_daily",
    "metrics_monthly",
    "engagement_daily",
    "alerts",
    "growth_accounting",
    "mrr_monthly",
    "retention_triangle",
    "funnel_conversion",
)


@dataclass(frozen=True)
class Export:
    view: str
    rows: int
    csv: Path
    parquet: Path


def _frame(columns: list[str], rows: Sequence[Any]) -> pl.DataFrame:
    """Rows as a frame; an empty result keeps its columns (a CSV with its header)."""
    data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    return pl.DataFrame(data, strict=False)


def _csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV has no duration type: intervals (a funnel's conversion window) as ISO 8601 text
    (``P30D``); Parquet keeps them as durations."""
    durations = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Duration)]
    return frame.with_columns(pl.col(d).dt.to_string("iso") for d in durations)


def write_exports(warehouse: Warehouse, period: Period, folder: Path) -> list[Export]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    params = {"start": period.start, "end": period.end}
    with warehouse.engine.connect() as conn:
        for view in EXPORT_VIEWS:
            if not view_exists(conn, f"analytics.{view}"):
                continue
            sql = sqlfiles.strip_comments(sqlfiles.render(f"reports/export/{view}"))
            result = conn.execute(sa.text(sql), params)
            frame = _frame(list(result.keys()), result.all())
            csv, parquet = folder / f"{view}.csv", folder / f"{view}.parquet"
            _csv_ready(frame).write_csv(csv)
            frame.write_parquet(parquet)
            out.append(Export(view, frame.height, csv, parquet))
    return out
