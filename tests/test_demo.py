"""The demo command end to end at a small scale: it builds, its checks pass, a re-run changes
nothing, and the planted churn spike is in the daily rollup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance

from growth_assets.cli.demo import format_summary, run_demo
from growth_assets.demo.world import DemoConfig, get_world
from resources.warehouse import Warehouse

SCALE = {"GROWTH_DEMO_USERS": "3000", "GROWTH_DEMO_DAYS": "45", "GROWTH_DEMO_SEED": "11"}


@pytest.fixture
def demo_env(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Warehouse:
    monkeypatch.setenv("GROWTH_WAREHOUSE_URL", warehouse.url)
    monkeypatch.setenv("GROWTH_REPORTS_DIR", str(tmp_path / "reports"))
    for name, value in SCALE.items():
        monkeypatch.setenv(name, value)
    return warehouse


def numbers(warehouse: Warehouse) -> dict[str, Any]:
    with warehouse.engine.connect() as conn:
        return {
            "metrics": conn.execute(
                sa.text(
                    "SELECT day, product_id, gross_revenue, refunds, signups, activations, "
                    "churned_customers, active_users, tickets_created, tickets_solved, events "
                    "FROM growth.metrics_daily ORDER BY day, product_id"
                )
            ).all(),
            "events": conn.execute(
                sa.text("SELECT count(*), sum(value_reporting) FROM growth.events")
            ).one(),
            "rejected": conn.execute(sa.text("SELECT count(*) FROM ops.rejected_events")).scalar(),
        }


def test_demo_builds_and_rerun_changes_nothing(
    demo_env: Warehouse, dagster_instance: DagsterInstance
) -> None:
    first = run_demo(dagster_instance)
    before = numbers(demo_env)
    second = run_demo(dagster_instance)
    assert not first.failed_errors, format_summary(first)
    assert not second.failed_errors, format_summary(second)
    assert numbers(demo_env) == before
    text = format_summary(first)
    assert "Rows per table:" in text and "growth.events" in text and "Checks:" in text
    # the board reports of the last complete week and month, and only those
    assert [Path(r).parent.name for r in first.reports] == ["2024-12-09", "2024-11-01"]
    assert all(r in text for r in first.reports)
    assert sorted(k for k in first.steps if "report" in k) == [
        "monthly report 2024-11",
        "weekly report 2024-W50",
    ]

    world = get_world(DemoConfig(seed=11, users=3000, days=45))
    planted = world.planted_bad_records()
    assert (
        before["rejected"]
        == planted["missing_distinct_id"] + planted["unknown_event"] + planted["future_time"]
    )

    spike = world.planted_spike()
    with demo_env.engine.connect() as conn:
        churn = dict(
            conn.execute(
                sa.text(
                    "SELECT day::text, churned_customers FROM growth.metrics_daily WHERE product_id = :p"
                ),
                {"p": spike["product_id"]},
            ).all()
        )
    spike_day = str(spike["day"])
    others = [n for day, n in churn.items() if day != spike_day]
    assert churn[spike_day] >= spike["cancellations"]
    assert churn[spike_day] > 3 * max(others)
