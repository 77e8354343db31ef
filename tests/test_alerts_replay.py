"""``growth-assets alerts replay``: prints what would have alerted, writes and sends nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from growth_assets.cli.main import main
from resources.warehouse import Warehouse
from tests.alerts_helpers import alerts, noisy, seed


def test_replay_prints_alerts_without_writing(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROWTH_WAREHOUSE_URL", warehouse.url)
    days = seed(warehouse, [*noisy(30), 50, *noisy(5), 60, *noisy(3)])
    runner = CliRunner()
    result = runner.invoke(
        main, ["alerts", "replay", "--from", str(days[0]), "--to", str(days[-1])]
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "churned_customers" in line]
    assert [line.split()[0] for line in lines] == [str(days[30]), str(days[36])]
    assert all("HIGH" in line and "pagerduty, slack" in line for line in lines)
    assert "would alert (2 high, 0 medium)" in result.output
    assert "nothing written, nothing sent" in result.output
    assert alerts(warehouse) == []

    only = runner.invoke(
        main,
        ["alerts", "replay", "--from", str(days[0]), "--to", str(days[-1]), "--metric", "signups"],
    )
    assert only.exit_code == 0 and "would alert (0 high, 0 medium)" in only.output
    unknown = runner.invoke(
        main, ["alerts", "replay", "--from", str(days[0]), "--to", str(days[1]), "--metric", "nope"]
    )
    assert unknown.exit_code == 1 and "unknown metric(s) nope" in unknown.output


def test_analytics_view_is_documented(warehouse: Warehouse) -> None:
    with warehouse.engine.connect() as conn:
        view = conn.execute(
            sa.text("SELECT obj_description('analytics.alerts'::regclass, 'pg_class')")
        ).scalar()
        undocumented = (
            conn.execute(
                sa.text(
                    "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = 'analytics.alerts'::regclass "
                    "AND a.attnum > 0 AND col_description(a.attrelid, a.attnum) IS NULL"
                )
            )
            .scalars()
            .all()
        )
    assert view and "Alert history" in view
    assert undocumented == []
