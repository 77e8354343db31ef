"""The board reports: one asset per grain (ISO weeks, calendar months), partitioned by period.

A partition renders ``report.html`` (portfolio + every product: KPI cards against the
previous period, charts, anomalies, data quality of the inputs), writes CSV and Parquet
exports of the main analytics views for the period next to it, and a PDF when headless
Chromium is installed. A backfill runs once over its range (``BackfillPolicy.single_run``)
and renders each period of it in turn. The reports follow a cron through automation
(Mondays / the 1st at 06:00 UTC, for the period that just ended), not every rollup update.
"""

import time
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AutomationCondition,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    MonthlyPartitionsDefinition,
    PartitionsDefinition,
    WeeklyPartitionsDefinition,
    asset,
)

from growth_assets import partitions
from growth_assets.cohorts.assets import GROWTH_ACCOUNTING_KEY, RETENTION_TRIANGLE_KEY
from growth_assets.models.daily import METRICS_DAILY_KEY
from growth_assets.quality.results import check_spec, recorded
from growth_assets.reports import browser, data, render
from growth_assets.reports.exports import write_exports
from growth_assets.reports.periods import Grain, Period
from growth_assets.reports.settings import ReportSettings
from growth_assets.rollups.assets import ENGAGEMENT_DAILY_KEY, METRICS_MONTHLY_KEY
from growth_assets.saas.assets import FUNNEL_KEY, MRR_MONTHLY_KEY
from resources.warehouse import Warehouse

WEEKLY_REPORT_KEY = AssetKey(["reports", "weekly"])
MONTHLY_REPORT_KEY = AssetKey(["reports", "monthly"])
INPUT_KEYS = [
    METRICS_DAILY_KEY,
    METRICS_MONTHLY_KEY,
    ENGAGEMENT_DAILY_KEY,
    GROWTH_ACCOUNTING_KEY,
    RETENTION_TRIANGLE_KEY,
    MRR_MONTHLY_KEY,
    FUNNEL_KEY,
]
CRON = {"week": "0 6 * * 1", "month": "0 6 1 * *"}
FOLDER = {"week": "weekly", "month": "monthly"}


def weekly_partitions() -> WeeklyPartitionsDefinition:
    """ISO weeks (Monday 00:00 UTC); the latest is the last complete week."""
    return WeeklyPartitionsDefinition(
        start_date=partitions.partitions_start(), day_offset=1, timezone="UTC"
    )


def monthly_partitions() -> MonthlyPartitionsDefinition:
    """Calendar months; the latest is the last complete month."""
    return MonthlyPartitionsDefinition(start_date=partitions.partitions_start(), timezone="UTC")


def _report_condition(grain: Grain) -> AutomationCondition:
    """The latest period, once, after its cron tick (what ``on_cron`` does, without waiting
    for every daily input partition of the period to update again)."""
    tick: AutomationCondition = AutomationCondition.cron_tick_passed(CRON[grain], "UTC")
    return (
        AutomationCondition.in_latest_time_window()
        & tick.since_last_handled()
        & ~AutomationCondition.in_progress()
    ).with_label(f"after {CRON[grain]} UTC")


def _check_spec(key: AssetKey, partitions_def: PartitionsDefinition) -> AssetCheckSpec:
    return check_spec(
        "self_contained_and_complete",
        key,
        "The HTML references nothing outside itself, every scope has its KPI cards, and every "
        "chart is drawn or says why it has no data.",
        partitions_def=partitions_def,
    )


def report_folder(settings: ReportSettings, period: Period) -> Path:
    return Path(settings.output_dir) / FOLDER[period.grain] / f"{period.start:%Y-%m-%d}"


def build_report(
    warehouse: Warehouse,
    settings: ReportSettings,
    period: Period,
    instance: Any = None,
) -> dict[str, Any]:
    """Render one period's report and exports into its folder; return what was written."""
    started = time.perf_counter()
    folder = report_folder(settings, period)
    exports = write_exports(warehouse, period, folder / "exports")
    fetched = data.fetch(warehouse, period, instance)
    scopes = render.scopes(fetched)
    names = [f"exports/{e.csv.name}" for e in exports] + [
        f"exports/{e.parquet.name}" for e in exports
    ]
    html = render.render_html(fetched, scopes, names, settings.reporting_currency)
    path = folder / "report.html"
    path.write_text(html, encoding="utf-8")
    pdf: Path | None = None
    pdf_note = "off"
    if settings.pdf != "off":
        binary = browser.find_chromium()
        if binary is None:
            if settings.pdf == "on":
                raise RuntimeError("GROWTH_REPORTS_PDF=on but no chromium binary was found")
            pdf_note = "skipped: chromium not installed"
        else:
            pdf = folder / "report.pdf"
            browser.print_pdf(path, pdf, binary)
            pdf_note = str(pdf)
    return {
        "period": period,
        "folder": folder,
        "html": path,
        "html_text": html,
        "pdf": pdf,
        "pdf_note": pdf_note,
        "exports": exports,
        "data": fetched,
        "scopes": scopes,
        "seconds": time.perf_counter() - started,
    }


def kpi_table(scopes: list[render.Scope]) -> str:
    """The KPIs as a Markdown table: one row per scope, value and change per KPI."""
    if not scopes:
        return "(no products in the period)"
    kpis = scopes[0].kpis
    head = "| scope | " + " | ".join(k.label for k in kpis) + " |\n"
    head += "| --- |" + " --- |" * len(kpis) + "\n"
    rows = "".join(
        f"| {s.product_id} | "
        + " | ".join(
            f"{k.shown} ({'–' if k.change is None else f'{k.change:+.1%}'})" for k in s.kpis
        )
        + " |\n"
        for s in scopes
    )
    return head + rows


def _problems(built: dict[str, Any]) -> dict[str, Any]:
    scopes: list[render.Scope] = built["scopes"]
    return {
        "external_references": render.external_references(built["html_text"])[:10],
        "scopes_without_kpis": [s.product_id for s in scopes if not s.kpis],
        "charts_without_svg_or_note": [
            f"{s.product_id}:{c.key}" for s in scopes for c in s.charts if not (c.svg or c.note)
        ],
    }


def _materialize(
    context: AssetExecutionContext,
    grain: Grain,
    warehouse: Warehouse,
    report_settings: ReportSettings,
) -> MaterializeResult:
    started = time.perf_counter()
    built = [
        build_report(
            warehouse, report_settings, Period.from_partition_key(grain, key), context.instance
        )
        for key in context.partition_keys
    ]
    last = built[-1]
    problems = _problems(last)
    for other in built[:-1]:
        for name, found in _problems(other).items():
            problems[name] = problems[name] + found
    missing = [s.view for s in last["data"].missing]
    charts = [c for s in last["scopes"] for c in s.charts]
    html: Path = last["html"]
    metadata: dict[str, Any] = {
        "report": MetadataValue.path(str(html)),
        "report_url": MetadataValue.url(html.resolve().as_uri()),
        "folder": MetadataValue.path(str(last["folder"])),
        "period": last["period"].label,
        "reports_written": len(built),
        "kpis": MetadataValue.md(kpi_table(last["scopes"])),
        "exports": MetadataValue.md(
            "\n".join(
                f"- {e.view}: {e.rows} rows, [csv]({e.csv.resolve().as_uri()}), "
                f"[parquet]({e.parquet.resolve().as_uri()})"
                for e in last["exports"]
            )
            or "(none)"
        ),
        "pdf": last["pdf_note"],
        "charts_drawn": sum(1 for c in charts if c.svg),
        "charts_without_data": sum(1 for c in charts if not c.svg),
        "not_available": MetadataValue.json(missing),
        "html_bytes": html.stat().st_size,
        "seconds": MetadataValue.float(round(time.perf_counter() - started, 3)),
    }
    with warehouse.transaction() as conn:
        check = recorded(
            conn,
            context,
            context.assets_def.key,
            "self_contained_and_complete",
            not any(problems.values()),
            AssetCheckSeverity.ERROR,
            {"problems": problems},
        )
    return MaterializeResult(
        metadata=metadata,
        check_results=[check],
    )


@asset(
    key=WEEKLY_REPORT_KEY,
    description="Weekly board report (ISO week): HTML with KPIs and charts, CSV/Parquet exports.",
    group_name="reports",
    kinds={"html", "parquet"},
    partitions_def=weekly_partitions(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=INPUT_KEYS,
    check_specs=[_check_spec(WEEKLY_REPORT_KEY, weekly_partitions())],
    automation_condition=_report_condition("week"),
)
def weekly_report(
    context: AssetExecutionContext, warehouse: Warehouse, report_settings: ReportSettings
) -> MaterializeResult:
    return _materialize(context, "week", warehouse, report_settings)


@asset(
    key=MONTHLY_REPORT_KEY,
    description="Monthly board report: HTML with KPIs, MRR and charts, CSV/Parquet exports.",
    group_name="reports",
    kinds={"html", "parquet"},
    partitions_def=monthly_partitions(),
    backfill_policy=BackfillPolicy.single_run(),
    deps=INPUT_KEYS,
    check_specs=[_check_spec(MONTHLY_REPORT_KEY, monthly_partitions())],
    automation_condition=_report_condition("month"),
)
def monthly_report(
    context: AssetExecutionContext, warehouse: Warehouse, report_settings: ReportSettings
) -> MaterializeResult:
    return _materialize(context, "month", warehouse, report_settings)


REPORT_ASSETS = [weekly_report, monthly_report]
