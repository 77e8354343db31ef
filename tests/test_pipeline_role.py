"""The pipeline runs as a non-superuser role with the documented least-privilege GRANTs.

Migrations run as the owner (the test server's superuser); the pipeline then materialises the
hand-checked world as a fresh LOGIN role that owns nothing and holds only the GRANTs the
README's security section lists. Every check must pass, as under the owner.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from resources.warehouse import Warehouse, _engine
from tests.reliability import digests
from tests.test_rollups import DAY1, DAY2, build, hand_resources

# The README's GRANTs (ALTER DEFAULT PRIVILEGES aside: the tables exist already here).
GRANTS = [
    "GRANT CONNECT, TEMPORARY ON DATABASE {db} TO {role}",
    "GRANT USAGE ON SCHEMA raw, growth, ops, analytics TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA raw, growth, ops "
    "TO {role}",
    "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA raw, growth, ops TO {role}",
    "GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO {role}",
]


def test_pipeline_runs_as_a_least_privilege_role(warehouse: Warehouse, tmp_path: Path) -> None:
    build(hand_resources(warehouse, tmp_path), DAY1, DAY2)  # as the owner: the reference
    reference = digests(warehouse)
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE raw.mixpanel_events, growth.events, growth.users"))
    role = f"ga_pipeline_{uuid.uuid4().hex[:10]}"
    db = warehouse.engine.url.database
    with warehouse.engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"
        )
        for grant in GRANTS:
            conn.exec_driver_sql(grant.format(db=f'"{db}"', role=role))
    url = make_url(warehouse.engine.url).set(username=role).render_as_string(hide_password=False)
    as_role = Warehouse(url=url)
    try:
        with as_role.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT current_user")).scalar() == role
            assert not conn.execute(
                sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            ).scalar()
        build(hand_resources(as_role, tmp_path), DAY1, DAY2)
        assert digests(warehouse) == reference
    finally:
        as_role.engine.dispose()
        _engine.cache_clear()
        with warehouse.engine.begin() as conn:
            conn.exec_driver_sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
            )
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
