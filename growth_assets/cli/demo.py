"""The demo end to end: migrate, materialise the whole graph over the demo range, summarise.

Hourly assets (ingestion, normalisation) run as one run over the full hourly range, and daily
assets as one run over the daily range: the same single-run backfills an engineer launches
from the UI, recorded in the Dagster instance so they show up in the UI afterwards.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from dagster import DagsterInstance

from growth_assets import partitions
from growth_assets.backfill import CheckOutcome, materialize_days, materialize_reports
from growth_assets.cli.runtime import apply_backfill_settings
from growth_assets.definitions import build_definitions
from growth_assets.demo.fingerprint import Preparation, adopt_pseudonymisation, prepare_warehouse
from growth_assets.demo.world import get_world
from growth_assets.environment import demo_settings, warehouse_url
from growth_assets.reports.assets import report_folder
from growth_assets.reports.periods import last_complete
from growth_assets.reports.settings import report_settings_from_env
from resources.settings import model_settings_from_env
from resources.warehouse import Warehouse


@dataclass
class DemoSummary:
    tier: str
    first_day: date
    last_day: date
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)
    tables: list[tuple[str, int]] = field(default_factory=list)
    kpis: list[Any] = field(default_factory=list)
    checks: list[CheckOutcome] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return [c for c in self.checks if not c.passed]

    @property
    def failed_errors(self) -> list[CheckOutcome]:
        """Failed ERROR-severity checks: these make the demo command exit non-zero."""
        return [c for c in self.failed_checks if c.severity == "ERROR"]


def demo_range(now: datetime | None = None) -> tuple[date, date]:
    """First and last day of the demo, clipped to complete days before ``now``."""
    demo = demo_settings()
    first = date.fromisoformat(demo.start)
    last = first + timedelta(days=demo.days - 1)
    today = (now or datetime.now(UTC)).date()
    last = min(last, today - timedelta(days=1))
    start = date.fromisoformat(partitions.partitions_start())
    if first < start:
        raise ValueError(
            f"GROWTH_DEMO_START {first} is before the partitions' start {start}; "
            "set GROWTH_PARTITIONS_START to the demo start or earlier"
        )
    if last < first:
        raise ValueError(f"the demo range starting {first} has no complete day yet")
    return first, last


def run_demo(instance: DagsterInstance) -> DemoSummary:
    started = time.perf_counter()
    first, last = demo_range()
    warehouse = Warehouse(
        url=warehouse_url(), timescaledb=os.environ.get("GROWTH_TIMESCALEDB", "auto")
    )
    steps: dict[str, float] = {}
    t = time.perf_counter()
    world = get_world(demo_settings().config())
    steps["generate world"] = time.perf_counter() - t
    t = time.perf_counter()
    own_cluster = not os.environ.get("GROWTH_WAREHOUSE_URL")
    preparation = prepare_warehouse(warehouse, world, own_cluster=own_cluster)
    steps["migrations" if preparation is not Preparation.REBUILT else "rebuild (new world)"] = (
        time.perf_counter() - t
    )
    t = time.perf_counter()
    if adopt_pseudonymisation(warehouse, model_settings_from_env(os.environ).pseudonyms()):
        steps["empty growth (new pseudonymisation setting)"] = time.perf_counter() - t

    apply_backfill_settings()
    resources = build_definitions().resources
    run_steps, checks = materialize_days(first, last, dict(resources or {}), instance)
    steps.update(run_steps)
    # The board reports of the last complete week and month only (two partitions): the
    # history's other periods are a backfill away in the UI.
    report_steps, report_checks = materialize_reports(last, dict(resources or {}), instance)
    steps.update(report_steps)
    checks.extend(report_checks)
    settings = report_settings_from_env()
    reports = [
        str(report_folder(settings, last_complete(grain, last)) / "report.html")
        for grain in ("week", "month")
    ]

    with warehouse.engine.connect() as conn:
        tables = [
            (r.table_name, int(r.row_count)) for r in Warehouse.fetch_file(conn, "ops/table_rows")
        ]
        kpis = Warehouse.fetch_file(conn, "ops/last_day_kpis")
    return DemoSummary(
        tier=warehouse.tier().value,
        first_day=first,
        last_day=last,
        seconds=time.perf_counter() - started,
        steps=steps,
        tables=tables,
        kpis=kpis,
        checks=checks,
        reports=[r for r in reports if Path(r).exists()],
    )


def format_summary(s: DemoSummary) -> str:
    lines = [
        f"growth-assets demo: {s.first_day} .. {s.last_day}, TimescaleDB tier: {s.tier}",
        "",
        "Steps:",
        *(f"  {name:<22} {sec:8.1f} s" for name, sec in s.steps.items()),
        "",
        "Rows per table:",
        *(f"  {name:<32} {n:>10,}" for name, n in s.tables),
        "",
        f"KPIs on {s.kpis[0].day if s.kpis else '-'} (reporting currency):",
        f"  {'product':<10} {'net revenue':>12} {'signups':>8} {'activations':>11} "
        f"{'active':>7} {'churned':>8} {'tickets':>8}",
        *(
            f"  {k.product_id:<10} {float(k.net_revenue):>12,.2f} {k.signups:>8} "
            f"{k.activations:>11} {k.active_users:>7} {k.churned_customers:>8} "
            f"{k.tickets_created:>8}"
            for k in s.kpis
        ),
        "",
        f"Checks: {len(s.checks) - len(s.failed_checks)} passed, {len(s.failed_checks)} failed",
        *(f"  FAILED {c.severity}: {c.asset} {c.check}" for c in s.failed_checks),
        "",
        "Reports (open in a browser; CSV/Parquet exports next to them):",
        *(f"  {path}" for path in s.reports),
        "",
        f"Done in {s.seconds:.1f} s.",
    ]
    return "\n".join(lines)
