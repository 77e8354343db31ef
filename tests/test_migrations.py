"""Migrations apply once, in order, are safe to re-run, and the tier is read from the server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from resources import migrations
from resources.warehouse import Tier, Warehouse, _engine, detect_tier


def test_migrations_apply_once(empty_database: str) -> None:
    engine = _engine(empty_database)
    first = migrations.migrate(engine, "off")
    assert first == [m.version for m in migrations.discover()]
    assert migrations.migrate(engine, "off") == []
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT count(*) FROM ops.schema_migrations")).scalar()
        schemas = set(conn.execute(sa.text("SELECT nspname FROM pg_namespace")).scalars())
    assert rows == len(first)
    assert {"raw", "growth", "analytics", "ops"} <= schemas


def test_edited_migration_is_refused(
    empty_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql = tmp_path / "sql"
    shutil.copytree(Path(migrations.sql_dir()), sql)
    monkeypatch.setenv("GROWTH_SQL_DIR", str(sql))
    engine = _engine(empty_database)
    migrations.migrate(engine, "off")
    first = sorted((sql / "migrations").glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(migrations.MigrationError, match="changed after it was applied"):
        migrations.migrate(engine, "off")


def test_failed_migration_names_the_file_and_leaves_nothing(
    empty_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql = tmp_path / "sql"
    shutil.copytree(Path(migrations.sql_dir()), sql)
    (sql / "migrations" / "9999_broken.sql").write_text(
        "CREATE TABLE ops.half (x int);\nSELEC 1;\n"
    )
    monkeypatch.setenv("GROWTH_SQL_DIR", str(sql))
    engine = _engine(empty_database)
    with pytest.raises(migrations.MigrationError, match=r"9999_broken\.sql failed"):
        migrations.migrate(engine, "off")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT to_regclass('ops.half')")).scalar() is None
        assert conn.execute(sa.text("SELECT to_regclass('growth.events')")).scalar() is None


def test_tier_detection(
    warehouse: Warehouse, plain_warehouse: Warehouse, server_has_timescaledb: bool
) -> None:
    assert plain_warehouse.tier() is Tier.NONE
    with warehouse.engine.connect() as conn:
        tier = detect_tier(conn)
        license_ = conn.execute(
            sa.text("SELECT current_setting('timescaledb.license', true)")
        ).scalar()
        hypertables = (
            conn.execute(
                sa.text("SELECT count(*) FROM timescaledb_information.hypertables")
            ).scalar()
            if tier is not Tier.NONE
            else 0
        )
    if not server_has_timescaledb:
        assert tier is Tier.NONE
    else:
        assert tier is (Tier.COMMUNITY if license_ == "timescale" else Tier.APACHE)
        assert hypertables >= 1  # growth.events


def test_plain_warehouse_has_ordinary_events_table(plain_warehouse: Warehouse) -> None:
    with plain_warehouse.engine.connect() as conn:
        ext = conn.execute(
            sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")
        ).scalar()
        kind = conn.execute(
            sa.text("SELECT relkind FROM pg_class WHERE oid = 'growth.events'::regclass")
        ).scalar()
    assert ext == 0
    assert kind == "r"
