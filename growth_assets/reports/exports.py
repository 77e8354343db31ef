"""CSV and Parquet exports of the main analytics views for a report period (polars).

Each view's rows for the period are written twice, ``<view>.csv`` and ``<view>.parquet``, in
the report's ``exports/`` folder. Views of later stages are exported once they exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from growth_assets.reports.data import view_exists
from growth_assets.reports.periods import Period
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


def _frame(rows: list[Any]) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame()
    columns = list(rows[0]._mapping.keys())
    data = {c: [r._mapping[c] for r in rows] for c in columns}
    return pl.DataFrame(data, strict=False)


def write_exports(warehouse: Warehouse, period: Period, folder: Path) -> list[Export]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    params = {"start": period.start, "end": period.end}
    with warehouse.engine.connect() as conn:
        for view in EXPORT_VIEWS:
            if not view_exists(conn, f"analytics.{view}"):
                continue
            rows = Warehouse.fetch_file(conn, f"reports/export/{view}", params)
            frame = _frame(rows)
            csv, parquet = folder / f"{view}.csv", folder / f"{view}.parquet"
            frame.write_csv(csv)
            frame.write_parquet(parquet)
            out.append(Export(view, frame.height, csv, parquet))
    return out
