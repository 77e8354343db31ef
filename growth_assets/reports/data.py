"""What a report reads: the analytics views for one period, fetched once for every product.

The base sections read views every warehouse has (migrations 0009 and 0011):
``analytics.metrics_daily`` / ``metrics_monthly`` / ``engagement_daily`` / ``alerts``. The
optional sections read views that other stages add (:data:`OPTIONAL_SECTIONS`); whether each
exists is checked at run time with ``to_regclass``, so a section lights up as soon as its
view is deployed, and a missing one is left out and named, never drawn empty or faked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dagster import AssetCheckEvaluation, AssetCheckKey, AssetKey, DagsterInstance
from sqlalchemy.engine import Connection

from growth_assets.reports.periods import TREND_PERIODS, Period, add_months
from resources.warehouse import Warehouse

PORTFOLIO = "all"


@dataclass(frozen=True)
class OptionalSection:
    name: str
    view: str
    title: str


OPTIONAL_SECTIONS = (
    OptionalSection("mrr", "analytics.mrr_monthly", "MRR trend and MRR movements"),
    OptionalSection("growth_accounting", "analytics.growth_accounting", "Growth accounting"),
    OptionalSection("retention", "analytics.retention_triangle", "Retention triangle"),
    OptionalSection("funnel", "analytics.funnel_conversion", "Funnel"),
    OptionalSection("quality", "analytics.quality_results", "Data-quality results"),
)

# The checks of the report's inputs, read from Dagster's records when analytics.quality_results
# is not deployed: (asset, check) as declared by growth_assets/rollups/assets.py.
INPUT_CHECKS = (
    AssetCheckKey(AssetKey(["growth", "user_activity_daily"]), "totals_match_events"),
    AssetCheckKey(AssetKey(["growth", "metrics_daily"]), "totals_match_inputs"),
    AssetCheckKey(AssetKey(["growth", "metrics_monthly"]), "totals_match_inputs"),
    AssetCheckKey(AssetKey(["growth", "engagement_daily"]), "consistent_with_activity"),
)


@dataclass(frozen=True)
class QualityRow:
    asset_key: str
    check_name: str
    status: str  # passed / failed / not run
    severity: str
    partition: str | None
    checked_at: datetime | None


@dataclass
class ReportData:
    period: Period
    present: dict[str, bool]
    products: list[str]
    kpis: dict[str, Any]  # product → row of sql/reports/kpis.sql
    previous_kpis: dict[str, Any]
    revenue: dict[str, list[Any]]
    engagement: dict[str, list[Any]]
    alerts: list[Any]
    quality: list[QualityRow]
    quality_source: str
    mrr: dict[str, list[Any]] = field(default_factory=dict)
    growth_accounting: dict[str, list[Any]] = field(default_factory=dict)
    retention: dict[str, list[Any]] = field(default_factory=dict)
    funnels: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def missing(self) -> list[OptionalSection]:
        """Optional sections whose view is not in the warehouse (quality has a fallback)."""
        return [s for s in OPTIONAL_SECTIONS if not self.present[s.name]]


def view_exists(conn: Connection, name: str) -> bool:
    return bool(Warehouse.fetch_file(conn, "reports/view_exists", {"name": name})[0].present)


def _by_product(rows: Sequence[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        out[r.product_id].append(r)
    return dict(out)


def _kpis(conn: Connection, period: Period) -> dict[str, Any]:
    params = {
        "start": period.start,
        "end": period.end,
        "grain": period.grain,
    }
    return {r.product_id: r for r in Warehouse.fetch_file(conn, "reports/kpis", params)}


def dagster_quality(instance: DagsterInstance | None) -> list[QualityRow]:
    """The latest evaluation of each input check as Dagster recorded it (not per period:
    Dagster keeps the latest evaluation per check, whichever partitions its run covered)."""
    rows = []
    for key in INPUT_CHECKS:
        record = instance.get_latest_asset_check_evaluation_record(key) if instance else None
        if record is None:
            rows.append(
                QualityRow(key.asset_key.to_user_string(), key.name, "not run", "", None, None)
            )
            continue
        evaluation = None
        if record.event is not None and record.event.dagster_event is not None:
            data = record.event.dagster_event.event_specific_data
            evaluation = data if isinstance(data, AssetCheckEvaluation) else None
        status = record.status.value.lower()
        rows.append(
            QualityRow(
                asset_key=key.asset_key.to_user_string(),
                check_name=key.name,
                status="passed" if status == "succeeded" else status,
                severity=evaluation.severity.value if evaluation is not None else "",
                partition=record.partition,
                checked_at=datetime.fromtimestamp(record.create_timestamp, tz=UTC),
            )
        )
    return rows


def fetch(
    warehouse: Warehouse, period: Period, instance: DagsterInstance | None = None
) -> ReportData:
    """Everything the report of ``period`` shows, for the portfolio and every product."""
    trend = {"since": period.trend_start, "end": period.end}
    window = {"start": period.start, "end": period.end}
    month_since = add_months(period.month, 1 - TREND_PERIODS)
    with warehouse.engine.connect() as conn:
        present = {s.name: view_exists(conn, s.view) for s in OPTIONAL_SECTIONS}
        kpis = _kpis(conn, period)
        previous = _kpis(conn, period.previous)
        revenue_file = (
            "reports/revenue_daily" if period.grain == "week" else "reports/revenue_monthly"
        )
        data = ReportData(
            period=period,
            present=present,
            products=list(kpis),
            kpis=kpis,
            previous_kpis=previous,
            revenue=_by_product(Warehouse.fetch_file(conn, revenue_file, trend)),
            engagement=_by_product(Warehouse.fetch_file(conn, "reports/engagement", trend)),
            alerts=Warehouse.fetch_file(conn, "reports/alerts", window),
            quality=[],
            quality_source="",
        )
        if present["quality"]:
            data.quality = [
                QualityRow(
                    r.asset_key,
                    r.check_name,
                    "passed" if r.passed else "failed",
                    r.severity,
                    r.partition,
                    r.checked_at,
                )
                for r in Warehouse.fetch_file(conn, "reports/quality_results", window)
            ]
            data.quality_source = (
                "analytics.quality_results: the latest evaluation of each check whose window "
                "overlaps the period"
            )
        if present["mrr"]:
            data.mrr = _by_product(
                Warehouse.fetch_file(
                    conn, "reports/mrr_monthly", {"since": month_since, "until": period.month}
                )
            )
        if present["growth_accounting"]:
            data.growth_accounting = _by_product(
                Warehouse.fetch_file(
                    conn,
                    "reports/growth_accounting",
                    {"grain": period.grain, "since": period.trend_start, "until": period.start},
                )
            )
        if present["retention"]:
            data.retention = _by_product(
                Warehouse.fetch_file(
                    conn,
                    "reports/retention_triangle",
                    {
                        "grain": period.grain,
                        "since": period.trend_start,
                        "until": period.start,
                        "end": period.end,
                    },
                )
            )
        if present["funnel"]:
            data.funnels = _by_product(
                Warehouse.fetch_file(
                    conn, "reports/funnel_conversion", {"grain": period.grain, **window}
                )
            )
    if not present["quality"]:
        data.quality = dagster_quality(instance)
        data.quality_source = (
            "Dagster's latest evaluation of each input check (analytics.quality_results is "
            "not deployed)"
        )
    return data
