"""Smoke test of the model benchmarks (bench/): a tiny generated world, built by the
project's assets through the benchmark's build runner, then the day refresh, the dashboard
queries and the pandas peer on it (rollups and cohort tables). Figures are not checked, only
that every piece runs and agrees with the warehouse."""

from datetime import date

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance

from bench import build, generate, models, pandas_metrics
from resources.warehouse import Warehouse

FIRST = date(2026, 10, 1)
DAYS = 4


def test_generated_world_builds_and_measures(
    warehouse: Warehouse, dagster_instance: DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = warehouse.engine.url.render_as_string(hide_password=False)
    db = warehouse.engine.url.database
    assert db is not None
    monkeypatch.setenv("GROWTH_WAREHOUSE_URL", url)
    monkeypatch.setenv("GROWTH_PARTITIONS_START", f"{FIRST}")
    generate.create_world(warehouse.engine, 400, FIRST, DAYS)
    last = date(2026, 10, DAYS)
    written, _ = generate.fill(warehouse.engine, FIRST, last, step_days=2)
    with warehouse.engine.connect() as conn:
        types = dict(
            conn.execute(sa.text("SELECT event_type, count(*) FROM growth.events GROUP BY 1")).all()
        )
    assert sum(types.values()) == written > 0
    assert {"signup", "activation", "engagement", "revenue"} <= set(types)

    groups = dict(build.model_groups())
    selected = {k.to_user_string() for keys in groups.values() for k in keys}
    assert {"growth/users", "growth/metrics_daily", "growth/engagement_daily"} <= selected
    assert not any(k.startswith(("raw/", "mixpanel", "stripe")) for k in selected)

    result = build.build(FIRST, last, dagster_instance)
    assert result["checks_failed"] == 0 and result["checks_passed"] > 0
    assert result["sql_s"] > 0
    # per-asset step times, grouped; the growth-analytics figure is the cohort + SaaS groups'
    assert {"growth/growth_accounting", "growth/customer_360"} <= set(result["assets_s"])
    assert {"cohorts", "saas", "rollups"} <= set(result["groups_s"])
    assert result["growth_analytics_s"] == pytest.approx(
        result["groups_s"]["cohorts"] + result["groups_s"]["saas"], abs=0.01
    )
    # statement totals are keyed by the SQL file (and statement number) that ran them
    assert any(
        k.startswith(("cohorts/", "saas/", "rollups/", "models/", "checks/"))
        for k in result["slowest_statements"]
    )

    refresh = models.day_refresh(db, last)
    assert refresh["total_s"] > 0
    latency = models.dashboard_latency(db, last, samples=2)
    assert len(latency) == len(models.DASHBOARD_QUERIES)
    assert latency["dashboard_product_daily_90d (atlas)"]["rows"] == DAYS

    peer = pandas_metrics.run(url)
    with warehouse.engine.connect() as conn:
        net = conn.execute(
            sa.text("SELECT sum(net_revenue) FROM growth.metrics_daily WHERE product_id = 'all'")
        ).scalar_one()
        cohort = conn.execute(
            sa.text(
                "SELECT (SELECT sum(new_users) FROM growth.growth_accounting "
                "        WHERE grain = 'week' AND product_id = 'all') AS new_users, "
                "       (SELECT count(*) FROM growth.power_users) AS power_rows, "
                "       (SELECT sum(users * active_days) FROM growth.power_users "
                "        WHERE product_id = 'all' AND window_days = 28) AS l28_user_days, "
                "       (SELECT sum(active_users) FROM growth.retention_triangle "
                "        WHERE grain = 'week' AND product_id = 'all' AND segment_type = 'all'"
                "       ) AS week_cells"
            )
        ).one()
    assert peer["events"] == written
    assert peer["net_revenue_total"] == pytest.approx(float(net))
    # the pandas peer computes the cohort tables too, to the same numbers
    assert peer["week_new_users_all"] == cohort.new_users > 0
    assert peer["power_user_rows"] == cohort.power_rows > 0
    assert peer["l28_user_days_all"] == cohort.l28_user_days
    assert peer["week_cells_active_all"] == cohort.week_cells
