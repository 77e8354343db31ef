"""Board reports on the demo world: the numbers are the analytics views', every chart is
drawn, the HTML is self-contained, headless Chromium renders it, the exports match the views,
and the sections of views deployed later light up by name."""

from __future__ import annotations

import os
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from dagster import DagsterInstance

from growth_assets.backfill import materialize_reports
from growth_assets.environment import build_resources
from growth_assets.reports import browser, render
from growth_assets.reports.assets import MONTHLY_REPORT_KEY, WEEKLY_REPORT_KEY, build_report
from growth_assets.reports.data import OPTIONAL_SECTIONS
from growth_assets.reports.periods import Period, last_complete
from growth_assets.reports.settings import ReportSettings
from resources.warehouse import Warehouse
from tests.report_data import LAST, SCALE, demo_warehouse  # noqa: F401

WEEK = Period.of("week", date(2024, 11, 25))
MONTH = Period.of("month", date(2024, 11, 1))
SPIKE_WEEK = Period.of("week", date(2024, 12, 2))
BASE_CHARTS = {"revenue", "dau_mau"}


class _Report(HTMLParser):
    """KPI cards, charts and the not-available list of a report, by their data attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.kpis: dict[tuple[str, str], str] = {}
        self.charts: dict[tuple[str, str], int] = {}
        self.svg_parts: dict[tuple[str, str], int] = {}
        self.missing: list[str] = []
        self._chart: tuple[str, str] | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "div" and "data-metric" in a:
            self.kpis[(a["data-scope"] or "", a["data-metric"] or "")] = a["data-value"] or ""
        if tag == "li" and "data-missing" in a:
            self.missing.append(a["data-missing"] or "")
        if tag == "figure" and "data-chart" in a:
            self._chart = (a["data-scope"] or "", a["data-chart"] or "")
            self.charts[self._chart] = self.charts.get(self._chart, 0) + 1
            self._depth = 0
        elif self._chart is not None:
            self._depth += 1
            if tag in ("path", "rect", "text", "use", "line", "polyline"):
                self.svg_parts[self._chart] = self.svg_parts.get(self._chart, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._chart = None


def parse(html: str) -> _Report:
    p = _Report()
    p.feed(html)
    return p


@pytest.fixture(scope="module")
def built(demo_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # noqa: F811
    """The demo's two reports through the demo's own step, and the spike week's directly."""
    out = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GROWTH_WAREHOUSE_URL", demo_warehouse.url)
        mp.setenv("GROWTH_REPORTS_DIR", str(out))
        mp.setenv("GROWTH_REPORTS_PDF", "off")
        for name, value in SCALE.items():
            mp.setenv(name, value)
        resources = build_resources()
        with DagsterInstance.ephemeral() as instance:
            steps, checks = materialize_reports(LAST, resources, instance)
            metadata = {
                key: event.asset_materialization.metadata
                for key in (WEEKLY_REPORT_KEY, MONTHLY_REPORT_KEY)
                if (event := instance.get_latest_materialization_event(key)) is not None
                and event.asset_materialization is not None
            }
    settings = ReportSettings(output_dir=str(out), pdf="off")
    spike = build_report(demo_warehouse, settings, SPIKE_WEEK)
    return {"dir": out, "steps": steps, "checks": checks, "spike": spike, "metadata": metadata}


def _html(built: dict[str, Any], period: Period) -> str:
    folder = "weekly" if period.grain == "week" else "monthly"
    return (built["dir"] / folder / f"{period.start}" / "report.html").read_text()


def test_demo_step_writes_the_last_complete_week_and_month(built: dict[str, Any]) -> None:
    assert last_complete("week", LAST) == WEEK and last_complete("month", LAST) == MONTH
    assert sorted(built["steps"]) == ["monthly report 2024-11", "weekly report 2024-W48"]
    assert built["checks"] and all(c.passed for c in built["checks"]), built["checks"]
    for period in (WEEK, MONTH):
        assert "<svg" in _html(built, period)


def _present(warehouse: Warehouse) -> dict[str, bool]:
    with warehouse.engine.connect() as conn:
        return {
            s.name: conn.execute(sa.text("SELECT to_regclass(:v)"), {"v": s.view}).scalar()
            is not None
            for s in OPTIONAL_SECTIONS
        }


def test_asset_metadata_links_the_files_and_previews_the_kpis(
    built: dict[str, Any],
    demo_warehouse: Warehouse,  # noqa: F811
) -> None:
    meta = built["metadata"][MONTHLY_REPORT_KEY]
    html = Path(meta["report"].value)
    assert html.is_file() and html.name == "report.html"
    assert meta["report_url"].value == html.resolve().as_uri()
    kpis = meta["kpis"].value
    assert kpis.startswith("| scope | Net revenue |") and "| all |" in kpis
    assert kpis.count("\n") == 2 + 11  # header, rule, the portfolio and ten products
    exports = meta["exports"].value
    assert "metrics_daily" in exports and ".parquet" in exports and ".csv" in exports
    present = _present(demo_warehouse)
    assert meta["not_available"].value == [s.view for s in OPTIONAL_SECTIONS if not present[s.name]]
    assert meta["charts_drawn"].value >= 2 * 11
    assert meta["pdf"].value == "off"
    print(f"report seconds: {built['steps']}, html bytes: {meta['html_bytes'].value}")


def _truth(warehouse: Warehouse, period: Period) -> dict[str, dict[str, float]]:
    """The KPIs recomputed from the views independently of sql/reports/kpis.sql: distinct
    active users straight from analytics.user_activity_daily."""
    p = {"s": period.start, "e": period.end, "l": period.last_day}
    with warehouse.engine.connect() as conn:
        sums = conn.execute(
            sa.text(
                "SELECT product_id, sum(net_revenue) AS rev, sum(signups) AS su, "
                "sum(churned_customers) AS ch FROM analytics.metrics_daily "
                "WHERE day >= :s AND day < :e GROUP BY product_id"
            ),
            p,
        ).all()
        active = dict(
            conn.execute(
                sa.text(
                    "SELECT product_id, count(DISTINCT user_id) FROM analytics.user_activity_daily "
                    "WHERE day >= :s AND day < :e AND active GROUP BY product_id"
                ),
                p,
            ).all()
        )
        eng = conn.execute(
            sa.text(
                "SELECT product_id, avg(dau) AS dau, max(mau) FILTER (WHERE day = :l) AS mau "
                "FROM analytics.engagement_daily WHERE day >= :s AND day < :e GROUP BY product_id"
            ),
            p,
        ).all()
        monthly = dict(
            conn.execute(
                sa.text(
                    "SELECT product_id, churned_customers FROM analytics.metrics_monthly "
                    "WHERE month = :s"
                ),
                p,
            ).all()
        )
    active["all"] = sum(v for k, v in active.items() if k != "all")
    out: dict[str, dict[str, float]] = {}
    for r in sums:
        churned = monthly[r.product_id] if period.grain == "month" else r.ch
        out[r.product_id] = {
            "net_revenue": float(r.rev),
            "signups": float(r.su),
            "churned_customers": float(churned),
            "active_users": float(active.get(r.product_id, 0)),
        }
    for r in eng:
        out[r.product_id]["avg_dau"] = round(float(r.dau), 2)
        out[r.product_id]["mau"] = float(r.mau)
    return out


@pytest.mark.parametrize("period", [WEEK, MONTH], ids=["week", "month"])
def test_kpi_cards_are_the_warehouse_numbers(
    built: dict[str, Any],
    demo_warehouse: Warehouse,  # noqa: F811
    period: Period,
) -> None:
    report = parse(_html(built, period))
    truth = _truth(demo_warehouse, period)
    assert set(truth) == {scope for scope, _ in report.kpis}
    assert len(truth) == 11  # the portfolio and ten products
    for product, metrics in truth.items():
        for metric, value in metrics.items():
            shown = report.kpis[(product, metric)]
            assert float(shown) == pytest.approx(value, abs=0.005), (product, metric)
    # change vs the previous period: the previous value is the previous period's
    previous = _truth(demo_warehouse, period.previous)
    cards = re.findall(
        r'data-scope="all" data-metric="net_revenue"\s+data-value="[^"]*"\s+'
        r'data-previous="([^"]*)"',
        _html(built, period),
    )
    if "all" in previous:
        assert float(cards[0]) == pytest.approx(previous["all"]["net_revenue"], abs=0.005)
    else:  # October 2024 is before the demo's first day: no change is shown, not a zero
        assert period.grain == "month" and cards == [""]


@pytest.mark.parametrize("period", [WEEK, MONTH], ids=["week", "month"])
def test_every_chart_is_drawn_or_named_unavailable(
    built: dict[str, Any],
    demo_warehouse: Warehouse,  # noqa: F811
    period: Period,
) -> None:
    html = _html(built, period)
    report = parse(html)
    scopes = {s for s, _ in report.kpis}
    for scope in scopes:
        for chart in BASE_CHARTS:
            assert report.charts.get((scope, chart)) == 1, (scope, chart)
            assert report.svg_parts.get((scope, chart), 0) > 20, (scope, chart)
    present = _present(demo_warehouse)
    # a deployed section is drawn for the portfolio at least (products may lack data: said)
    optional_charts = {
        "mrr": "mrr_trend",
        "growth_accounting": "growth_accounting",
        "retention": "retention",
        "funnel": "funnel",
    }
    for name, chart in optional_charts.items():
        if present[name]:
            assert report.svg_parts.get(("all", chart), 0) > 20, chart
        else:
            assert not any(c == chart for _, c in report.charts), chart
    assert sorted(report.missing) == sorted(n for n, ok in present.items() if not ok)


def test_the_html_references_nothing_outside_itself(built: dict[str, Any]) -> None:
    for period in (WEEK, MONTH):
        html = _html(built, period)
        assert render.external_references(html) == []
        assert not re.search(r"(?i)https?://", html)
        assert not re.search(r"(?i)<(script|link|img|iframe|object|embed)\b", html)
        assert not re.search(r"(?i)url\((?!#)|@import", html)


def test_external_references_are_detected() -> None:
    for bad in (
        '<script src="https://cdn.plot.ly/plotly.js"></script>',
        "<link href='//fonts.googleapis.com/css'>",
        '<img src="logo.png">',
        "<a href='file:///etc/passwd'>x</a>",
        "<style>body { background: url(bg.png) }</style>",
    ):
        assert render.external_references(bad), bad
    assert render.external_references('<a href="#scope-all">all</a>') == []
    assert render.external_references('<path clip-path="url(#p5600ec4d56)"/>') == []
    assert render.external_references('<image xlink:href="data:image/png;base64,iVBO"/>') == []


def test_anomalies_of_the_period_are_listed(built: dict[str, Any]) -> None:
    spike = built["spike"]
    alerts = spike["data"].alerts
    assert any(a.metric.startswith("churned_customers") for a in alerts), alerts
    html = spike["html_text"]
    product = next(a.product_id for a in alerts if a.metric.startswith("churned_customers"))
    section = html[html.index(f'id="scope-{product}"') :]
    assert "Anomalies of the period" in section.split("</section>")[0]
    # the November report has none of December's alerts
    assert "alert(s) for periods" not in _html(built, MONTH) or all(
        str(a.period) >= "2024-11" for a in alerts
    )


def test_exports_match_the_views(built: dict[str, Any], demo_warehouse: Warehouse) -> None:  # noqa: F811
    folder = built["dir"] / "weekly" / f"{WEEK.start}" / "exports"
    frame = pl.read_parquet(folder / "metrics_daily.parquet")
    csv = pl.read_csv(folder / "metrics_daily.csv")
    with demo_warehouse.engine.connect() as conn:
        count, revenue = conn.execute(
            sa.text(
                "SELECT count(*), sum(net_revenue) FROM analytics.metrics_daily "
                "WHERE day >= :s AND day < :e"
            ),
            {"s": WEEK.start, "e": WEEK.end},
        ).one()
    assert frame.height == csv.height == count
    assert float(frame["net_revenue"].cast(pl.Float64).sum()) == pytest.approx(float(revenue))
    for name in ("engagement_daily", "metrics_monthly", "alerts"):
        assert (folder / f"{name}.csv").is_file() and (folder / f"{name}.parquet").is_file()
    # a period without alerts still exports the view's columns (a header, no rows)
    alerts = pl.read_csv(folder / "alerts.csv")
    assert alerts.height == 0 and {"dedup_key", "metric", "z"} <= set(alerts.columns)


def _chromium() -> str:
    binary = browser.find_chromium()
    if binary is None:
        message = (
            "headless Chromium is missing: install the Debian package 'chromium' "
            "(scripts/install_system_deps.sh does)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return binary


def test_chromium_renders_the_report_to_a_non_blank_png(
    built: dict[str, Any], tmp_path: Path
) -> None:
    from PIL import Image, ImageStat

    binary = _chromium()
    html = built["dir"] / "monthly" / f"{MONTH.start}" / "report.html"
    png = tmp_path / "report.png"
    result = browser.screenshot(html, png, binary)
    assert (
        "ERROR:" not in result.stderr.replace("ERROR:dbus", "").replace("ERROR:bus", "")
        or png.stat().st_size > 0
    )
    image = Image.open(png).convert("L")
    assert image.size == (1400, 2400)
    stat = ImageStat.Stat(image)
    assert stat.stddev[0] > 20, stat.stddev  # text, cards and charts, not a blank page
    assert len(set(image.getdata())) > 50
    pdf = tmp_path / "report.pdf"
    browser.print_pdf(html, pdf, binary)
    assert pdf.read_bytes().startswith(b"%PDF")
