"""The analytics schema: documented views, the read-only BI role, product restriction, and the
dashboard KPI queries the benchmark times."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from resources.sqlfiles import sql_dir
from resources.warehouse import Warehouse
from tests.test_rollups import DAY1, DAY2, build, hand_resources

VIEWS = [
    "metrics_hourly",
    "metrics_daily",
    "metrics_monthly",
    "engagement_daily",
    "user_activity_daily",
    "events",
]
FORBIDDEN = [
    "raw.mixpanel_events",
    "growth.events",
    "growth.metrics_daily",
    "growth.users",
    "ops.rejected_events",
    "ops.stale_windows",
    "ops.product_readers",
]
BENCH = sorted(p.stem for p in (Path(sql_dir()) / "bench").glob("*.sql"))


@pytest.fixture
def built(warehouse: Warehouse, tmp_path: Path) -> Warehouse:
    build(hand_resources(warehouse, tmp_path), DAY1, DAY2)
    return warehouse


@contextmanager
def login(warehouse: Warehouse, *member_of: str) -> Iterator[sa.Engine]:
    """A LOGIN role of the given groups (random name, dropped afterwards) and an engine."""
    name = f"bi_login_{uuid.uuid4().hex[:10]}"
    groups = ", ".join(member_of)
    with warehouse.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {name} LOGIN IN ROLE {groups}")
    url = make_url(warehouse.engine.url).set(username=name)
    engine = sa.create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        with warehouse.engine.begin() as conn:
            conn.exec_driver_sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{name}'"
            )
            conn.exec_driver_sql(f"DROP ROLE {name}")


def test_every_view_and_column_is_commented(warehouse: Warehouse) -> None:
    with warehouse.engine.connect() as conn:
        views = conn.execute(
            sa.text(
                "SELECT c.relname, obj_description(c.oid, 'pg_class') AS comment, c.reloptions "
                "FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'analytics' AND c.relkind = 'v' ORDER BY 1"
            )
        ).all()
        columns = conn.execute(
            sa.text(
                "SELECT c.relname, a.attname, col_description(c.oid, a.attnum) AS comment "
                "FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                "JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 "
                "WHERE n.nspname = 'analytics' AND c.relkind = 'v'"
            )
        ).all()
    # the views here plus any other issue's (e.g. analytics.alerts): every one is commented
    assert set(VIEWS) <= {v.relname for v in views}
    assert all(v.comment for v in views), [v.relname for v in views if not v.comment]
    # owner's rights, never security_invoker: the BI role has no grants on the base tables
    assert all(not v.reloptions for v in views)
    missing = [f"{c.relname}.{c.attname}" for c in columns if not c.comment]
    assert not missing, missing
    assert len(columns) > 60


def test_bi_role_reads_analytics_and_nothing_else(built: Warehouse) -> None:
    with login(built, "growth_bi") as bi, bi.connect() as conn:
        for view in VIEWS:
            assert conn.execute(sa.text(f"SELECT count(*) FROM analytics.{view}")).scalar_one() > 0
        revenue = conn.execute(
            sa.text(
                "SELECT net_revenue FROM analytics.metrics_daily "
                "WHERE day = '2024-11-05' AND product_id = 'all'"
            )
        ).scalar_one()
        assert str(revenue) == "50.900000"
        for table in FORBIDDEN:
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1"))
            conn.rollback()
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.execute(sa.text("DELETE FROM analytics.metrics_daily"))
        conn.rollback()
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.execute(sa.text("CREATE VIEW analytics.mine AS SELECT 1 AS x"))
        conn.rollback()


def test_views_created_later_are_readable_through_default_privileges(
    warehouse: Warehouse,
) -> None:
    with warehouse.engine.begin() as conn:
        conn.exec_driver_sql("CREATE VIEW analytics.later AS SELECT 1 AS x")
    with login(warehouse, "growth_bi") as bi, bi.connect() as conn:
        assert conn.execute(sa.text("SELECT x FROM analytics.later")).scalar_one() == 1


def test_product_reader_sees_only_its_product(built: Warehouse) -> None:
    team = f"team_atlas_{uuid.uuid4().hex[:8]}"
    with built.engine.begin() as conn:
        conn.execute(sa.text("SELECT ops.create_product_reader(:r, 'atlas')"), {"r": team})
        conn.execute(sa.text("SELECT ops.create_product_reader(:r, 'atlas')"), {"r": team})
    try:
        with login(built, team) as alice, alice.connect() as conn:
            for view in VIEWS:
                products = set(
                    conn.execute(sa.text(f"SELECT DISTINCT product_id FROM analytics.{view}"))
                    .scalars()
                    .all()
                )
                assert products == {"atlas"}, view
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text("SELECT 1 FROM growth.metrics_daily"))
        with login(built, "growth_bi") as bob, bob.connect() as conn:
            products = set(
                conn.execute(sa.text("SELECT DISTINCT product_id FROM analytics.metrics_daily"))
                .scalars()
                .all()
            )
            assert products == {"atlas", "beacon", "all"}  # unrestricted BI logins see all
    finally:
        with built.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP ROLE {team}")


def test_product_reader_names_are_validated(warehouse: Warehouse) -> None:
    with (
        pytest.raises(sa.exc.DBAPIError, match="must be lower-case"),
        warehouse.engine.begin() as conn,
    ):
        conn.execute(sa.text("SELECT ops.create_product_reader('Bad Name', 'atlas')"))


@pytest.mark.parametrize("query", BENCH)
def test_dashboard_queries_run_as_the_bi_role(built: Warehouse, query: str) -> None:
    params: dict[str, Any] = {"product_id": "atlas", "as_of": date(2024, 12, 15)}
    with login(built, "growth_bi") as bi, bi.connect() as conn:
        found = Warehouse.fetch_file(conn, f"bench/{query}", params)
    assert found, query


PARALLEL_CHUNK_APPEND = (
    "SELECT current_setting('timescaledb.enable_parallel_chunk_append', true) AS value"
)


def test_sessions_avoid_timescaledbs_parallel_chunk_append(
    warehouse: Warehouse, server_has_timescaledb: bool
) -> None:
    """Parallel ChunkAppend can return zero rows for a chunk filter on an InitPlan parameter
    (timescale/timescaledb#10503; it zeroed customer_360's revenue check in the demo): the
    pipeline's sessions, any new session (migration 0022) and the BI role's run without it."""
    expected = "off" if server_has_timescaledb else None
    plain = sa.create_engine(warehouse.engine.url)  # no pipeline session hook
    try:
        engines = {"pipeline": warehouse.engine, "new session": plain}
        with login(warehouse, "growth_bi") as bi:
            engines["bi"] = bi
            for who, engine in engines.items():
                with engine.connect() as conn:
                    assert conn.execute(sa.text(PARALLEL_CHUNK_APPEND)).scalar() == expected, who
    finally:
        plain.dispose()


def test_pipeline_sessions_set_their_own_options(warehouse: Warehouse) -> None:
    """The pipeline's sessions run without JIT and with room for the cohort assets'
    temporary tables (resources/warehouse.py, SESSION_OPTIONS); a BI session keeps the
    server's settings."""
    query = sa.text("SELECT current_setting('jit') AS jit, current_setting('temp_buffers') AS tb")
    with warehouse.engine.connect() as conn:
        pipeline = conn.execute(query).one()
    with login(warehouse, "growth_bi") as bi, bi.connect() as conn:
        other = conn.execute(query).one()
    assert (pipeline.jit, pipeline.tb) == ("off", "256MB")
    assert other.tb == "8MB"
