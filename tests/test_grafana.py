"""Grafana (docker/grafana/): the provisioning is consistent with compose.yaml, the read-only
login the init script creates reads the analytics views, and every dashboard panel's SQL
runs as the BI role on the demo world and returns rows."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import make_url

from resources.warehouse import Warehouse
from tests.report_data import FIRST, LAST, demo_warehouse  # noqa: F401
from tests.test_analytics import login

REPO = Path(__file__).resolve().parents[1]
DOCKER = REPO / "docker"
GRAFANA = DOCKER / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
FROM = f"'{FIRST:%Y-%m-%d}T00:00:00Z'"
TO = f"'{LAST:%Y-%m-%d}T23:59:59Z'"


def _panels() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            if panel["type"] != "row":
                out.append((f"{path.stem}:{panel['title']}", panel))
    return out


PANELS = _panels()


def grafana_sql(sql: str, product: str = "all") -> str:
    """The SQL Grafana's PostgreSQL data source sends, for the demo's range and a product:
    the macros and the variable this dashboard uses, expanded the way Grafana does."""
    sql = re.sub(r"\$__timeFilter\((\w+)\)", rf"\1 BETWEEN {FROM} AND {TO}", sql)
    sql = sql.replace("$__timeFrom()", FROM).replace("$__timeTo()", TO)
    sql = sql.replace("$product", product)
    assert "$" not in sql, f"unexpanded Grafana macro or variable in: {sql}"
    return sql


def test_dashboards_exist_and_have_unique_ids() -> None:
    assert DASHBOARDS
    ids = [p["id"] for _, p in PANELS]
    assert len(ids) == len(set(ids))
    for _, panel in PANELS:
        assert panel["datasource"]["uid"] == "growth-warehouse"
        for target in panel["targets"]:
            assert target["rawQuery"] and target["rawSql"].strip()
            assert "analytics." in target["rawSql"]
            assert not re.search(r"\b(growth|raw|ops)\.", target["rawSql"]), (
                "BI reads analytics only"
            )


def test_compose_provisions_grafana_with_the_read_only_login() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    grafana = compose["services"]["grafana"]
    mounts = {
        m.split(":")[1]: (DOCKER / m.split(":")[0]).resolve()
        for m in grafana["volumes"]
        if m.startswith("./")
    }
    assert mounts["/etc/grafana/provisioning"] == GRAFANA / "provisioning"
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/growth.yaml").read_text())
    (prov,) = provider["providers"]
    assert mounts[prov["options"]["path"]] == GRAFANA / "dashboards"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert Path(home).parent == Path(prov["options"]["path"])
    assert (GRAFANA / "dashboards" / Path(home).name).is_file()

    sources = yaml.safe_load((GRAFANA / "provisioning/datasources/warehouse.yaml").read_text())
    (ds,) = sources["datasources"]
    assert ds["uid"] == "growth-warehouse" and ds["url"].split(":")[0] == "timescaledb"
    needed = set(re.findall(r"\$\{(\w+)\}", yaml.safe_dump(ds)))
    assert needed == {"GRAFANA_DB_USER", "GRAFANA_DB_PASSWORD", "GROWTH_DB"}
    assert needed <= set(grafana["environment"])
    db_env = compose["services"]["timescaledb"]["environment"]
    assert {"GRAFANA_DB_USER", "GRAFANA_DB_PASSWORD"} <= set(db_env)
    assert grafana["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert all(p.startswith("127.0.0.1:") for p in grafana["ports"])


def _init_sql() -> str:
    text = (DOCKER / "initdb" / "10-growth-databases.sh").read_text()
    return text.split("<<'SQL'\n", 1)[1].split("\nSQL\n", 1)[0]


@pytest.mark.skipif(
    shutil.which("psql") is None and not Path("/usr/lib/postgresql/15/bin/psql").exists(),
    reason="no psql",
)
def test_init_script_login_reads_the_analytics_views_only(warehouse: Warehouse) -> None:
    psql = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
    user = f"grafana_{uuid.uuid4().hex[:10]}"
    url = make_url(warehouse.engine.url)
    try:
        for _ in range(2):  # idempotent: a second run creates nothing
            subprocess.run(
                [
                    psql,
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-h",
                    url.host or "",
                    "-p",
                    str(url.port),
                    "-U",
                    url.username or "",
                    "-d",
                    url.database or "",
                    "-v",
                    f"user={user}",
                    "-v",
                    "password=p'a\"ss word",
                ],
                input=_init_sql(),
                text=True,
                check=True,
                capture_output=True,
            )
        engine = sa.create_engine(url.set(username=user))
        with engine.connect() as conn:
            assert (
                conn.execute(sa.text("SELECT count(*) FROM analytics.metrics_daily")).scalar() == 0
            )
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text("SELECT 1 FROM growth.events LIMIT 1"))
        engine.dispose()
    finally:
        with warehouse.engine.begin() as conn:
            conn.exec_driver_sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{user}'"
            )
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{user}"')


@pytest.mark.parametrize("panel", [p for _, p in PANELS], ids=[name for name, _ in PANELS])
def test_every_panel_returns_rows_as_the_bi_role(
    demo_warehouse: Warehouse,  # noqa: F811
    panel: dict[str, Any],
) -> None:
    with demo_warehouse.engine.connect() as conn:
        for target in panel["targets"]:
            for view in sorted(set(re.findall(r"\banalytics\.\w+", target["rawSql"]))):
                present = conn.execute(sa.text("SELECT to_regclass(:v)"), {"v": view}).scalar()
                if present is None:
                    pytest.fail(f"panel {panel['title']!r} reads {view}, which does not exist")
    with login(demo_warehouse, "growth_bi") as bi, bi.connect() as conn:
        for target in panel["targets"]:
            rows = conn.execute(sa.text(grafana_sql(target["rawSql"]))).all()
            assert rows, f"panel {panel['title']!r} returned no rows"
            assert any(v is not None for v in rows[0]), panel["title"]


def test_the_product_variable_lists_the_products(demo_warehouse: Warehouse) -> None:  # noqa: F811
    for path in DASHBOARDS:
        for variable in json.loads(path.read_text())["templating"]["list"]:
            with login(demo_warehouse, "growth_bi") as bi, bi.connect() as conn:
                values = [r[0] for r in conn.execute(sa.text(variable["query"]))]
            assert values[0] == "all" and len(values) == 11
