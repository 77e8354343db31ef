"""``growth-assets doctor``: a clear one-line error for a broken connection, and secrets masked."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from dagster import AssetKey, AssetMaterialization, DagsterInstance

from growth_assets.cli.doctor import describe_url, mask
from growth_assets.cli.main import main
from resources.warehouse import Warehouse

SLACK = "https://hooks.slack.com/services/T0000/B0000/webhookSECRETpart"
STRIPE_KEY = "sk_live_stripeSECRETkey"


def _doctor() -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["doctor"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_broken_connection_is_one_clear_line_and_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GROWTH_WAREHOUSE_URL", "postgresql://pipeline:hunter2@127.0.0.1:9/growth")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv(
        "DAGSTER_PG_URL", "postgresql+psycopg2://dagster:hunter3@127.0.0.1:9/dagster"
    )
    code, out, err = _doctor()
    assert code == 1
    (line,) = [line for line in err.splitlines() if "warehouse" in line]
    assert line.startswith(
        "error: cannot connect to the warehouse at 127.0.0.1:9/growth as pipeline "
        "(password not shown): "
    )
    assert "refused" in line.lower()
    assert "unreachable" in out  # the Dagster instance degrades to a line, not a traceback
    assert "hunter2" not in out + err and "hunter3" not in out + err


def test_a_healthy_deployment_reports_everything_with_secrets_masked(
    monkeypatch: pytest.MonkeyPatch,
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    tmp_path: Path,
) -> None:
    home = tmp_path / "dagster_home"  # the dagster_instance fixture's DAGSTER_HOME
    dagster_instance.report_runless_asset_event(
        AssetMaterialization(
            asset_key=AssetKey(["raw", "mixpanel_events"]), partition="2025-03-10-13:00"
        )
    )
    monkeypatch.setenv("GROWTH_WAREHOUSE_URL", warehouse.url)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("DAGSTER_PG_URL", raising=False)  # the home's dagster.yaml has the URL
    monkeypatch.setenv("SLACK_WEBHOOK_URL", SLACK)
    monkeypatch.setenv("STRIPE_API_KEY", STRIPE_KEY)
    monkeypatch.delenv("PAGERDUTY_ROUTING_KEY", raising=False)
    code, out, err = _doctor()
    assert code == 0, err
    assert "migrations:" in out and "0 pending" in out
    assert "timescaledb:" in out
    assert "SLACK_WEBHOOK_URL=set (https://hooks.slack.com/****)" in out
    assert "STRIPE_API_KEY=set" in out
    (row,) = [line for line in out.splitlines() if "raw/mixpanel_events" in line]
    assert "partition 2025-03-10-13:00" in row
    assert any("growth/metrics_daily" in line and "never" in line for line in out.splitlines())
    assert "SECRET" not in out + err


def test_pending_migrations_fail(
    monkeypatch: pytest.MonkeyPatch, empty_database: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("GROWTH_WAREHOUSE_URL", empty_database)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_PG_URL", "postgresql+psycopg2://dagster@127.0.0.1:9/dagster")
    code, out, err = _doctor()
    assert code == 1
    assert "0 applied" in out and "pending" in out
    assert "run `growth-assets migrate`" in err


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("", "empty"),
        ("sk_live_abc", "set"),
        ("https://user:pw@hooks.example.com/a/b?c=d", "set (https://hooks.example.com/****)"),
    ],
)
def test_mask(value: str, shown: str) -> None:
    assert mask(value) == shown


def test_describe_url_never_shows_the_password() -> None:
    assert describe_url("postgresql://u:pw@db:6543/w") == "db:6543/w as u"
    assert describe_url("postgresql+psycopg://db/w") == "db:5432/w"


def test_dagster_storage_follows_the_warehouse_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from growth_assets.cli.runtime import dagster_storage_url

    monkeypatch.setenv("GROWTH_WAREHOUSE_URL", "postgresql://u:pw@db.internal:6543/growth")
    monkeypatch.delenv("DAGSTER_DB", raising=False)
    assert dagster_storage_url() == "postgresql+psycopg2://u:pw@db.internal:6543/dagster"
    monkeypatch.delenv("GROWTH_WAREHOUSE_URL")
    assert dagster_storage_url().endswith("@127.0.0.1:55432/dagster")
