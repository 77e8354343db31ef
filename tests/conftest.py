"""Test fixtures: a real PostgreSQL (+ TimescaleDB) warehouse, isolated per test run.

The session starts the project-private cluster with ``scripts/warehouse start`` (or uses the
server in ``GROWTH_WAREHOUSE_URL``) and gives each test that asks for a warehouse a database
of its own, migrated (with TimescaleDB when the server has it, or as plain PostgreSQL), dropped
afterwards. Database names carry a random run id, so
concurrent runs on one server never see each other's data.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

# Source tests count the requests of one step attempt and expect failures to fail at once;
# Dagster's step retries (minutes of backoff) are checked in test_ops_runtime instead. Set
# before the asset modules are imported, which build their RetryPolicy from it.
os.environ.setdefault("GROWTH_INGEST_RETRIES", "0")
# The Great Expectations suites cost ~1 s per validated step on this machine (plus ~8-20 s
# to import GX once per process): the suite at large runs without them, tests/test_quality.py
# turns them on where they are what is tested.
os.environ.setdefault("GROWTH_QUALITY_GX", "off")

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance
from sqlalchemy.engine import make_url

from growth_assets.cli.runtime import apply_backfill_settings
from growth_assets.environment import local_url
from resources.migrations import migrate
from resources.warehouse import Tier, Warehouse, _engine, normalise_url

REPO = Path(__file__).resolve().parents[1]
# The settings the CLI uses for long single-run backfills (batched event writes, one planned
# event per asset rather than per partition): without them a 35-day hourly backfill spends a
# minute in Dagster's bookkeeping.
apply_backfill_settings()
RUN_ID = uuid.uuid4().hex[:8]


def _server_url(database: str) -> str:
    base = os.environ.get("GROWTH_WAREHOUSE_URL") or local_url("postgres")
    url = make_url(normalise_url(base)).set(database=database)
    return url.render_as_string(hide_password=False)


_dropped_at_exit: list[str] = []


@pytest.fixture(scope="session")
def admin() -> Iterator[sa.Engine]:
    if not os.environ.get("GROWTH_WAREHOUSE_URL"):
        subprocess.run([str(REPO / "scripts" / "warehouse"), "start"], check=True)
    engine = sa.create_engine(_server_url("postgres"), isolation_level="AUTOCOMMIT")
    yield engine
    for name in _dropped_at_exit:
        _drop(engine, name)
    engine.dispose()


def _create(admin: sa.Engine, name: str) -> str:
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return _server_url(name)


def _release(name: str) -> None:
    """Drop a test's database when the session ends. ``DROP DATABASE`` waits until every
    backend of the cluster has acknowledged it, including one busy in a long ``COPY`` of
    another run sharing the server, so the drops are done together at the end."""
    _dropped_at_exit.append(name)


def _drop(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_counter = iter(range(1_000_000))


def _warehouse(admin: sa.Engine, timescaledb: str) -> Iterator[Warehouse]:
    """A new database, migrated. (Cloning a template is not used: TimescaleDB's background
    scheduler stays connected to a database with the extension, which blocks cloning it.)"""
    name = f"ga_{RUN_ID}_{next(_counter)}"
    url = _create(admin, name)
    wh = Warehouse(url=url, timescaledb=timescaledb)
    try:
        migrate(wh.engine, timescaledb)
        yield wh
    finally:
        wh.engine.dispose()
        _engine.cache_clear()
        _release(name)


@pytest.fixture
def warehouse(admin: sa.Engine) -> Iterator[Warehouse]:
    """A migrated warehouse of its own, with TimescaleDB when the server has it."""
    yield from _warehouse(admin, "auto")


@pytest.fixture
def plain_warehouse(admin: sa.Engine) -> Iterator[Warehouse]:
    """A migrated warehouse of its own on plain PostgreSQL (no TimescaleDB extension)."""
    yield from _warehouse(admin, "off")


@pytest.fixture
def empty_database(admin: sa.Engine) -> Iterator[str]:
    """An empty database (no migrations), for migration tests."""
    name = f"ga_{RUN_ID}_{next(_counter)}"
    url = _create(admin, name)
    try:
        yield url
    finally:
        _engine.cache_clear()
        _release(name)


@pytest.fixture
def dagster_instance(admin: sa.Engine, tmp_path: Path) -> Iterator[DagsterInstance]:
    """A Dagster instance whose storage is a fresh PostgreSQL database, as in production
    (``dagster.yaml``): runs whose steps execute in subprocesses need persistent storage."""
    name = f"ga_{RUN_ID}_{next(_counter)}_dagster"
    url = make_url(_create(admin, name)).set(drivername="postgresql+psycopg2")
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url: "
        + url.render_as_string(hide_password=False)
        + "\ntelemetry:\n  enabled: false\n"
    )
    try:
        with DagsterInstance.from_config(str(home)) as instance:
            yield instance
    finally:
        _release(name)


@pytest.fixture(scope="session")
def server_has_timescaledb(admin: sa.Engine) -> bool:
    """Whether the test server offers TimescaleDB. Tests of the TimescaleDB tiers skip on a
    plain server, except under CI, whose setup installs it: there its absence is a failure."""
    with admin.connect() as conn:
        available = bool(
            conn.execute(
                sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
            ).scalar()
        )
    if not available and os.environ.get("CI"):
        pytest.fail("TimescaleDB is missing on the CI server: scripts/install_system_deps.sh")
    return available


def expected_tier(has_timescaledb: bool) -> Tier:
    return Tier.APACHE if has_timescaledb else Tier.NONE
