"""Crash safety: a run killed with SIGKILL mid-load or mid-rebuild leaves the previous state.

The run is a subprocess (``tests/crash_child.py``) running the real assets over a small demo
world. The test watches the child's backends in ``pg_stat_activity`` / ``pg_locks`` of the
test's own database and sends SIGKILL at the chosen moment:

* **load**: while an ingestion ``COPY`` streams records into the warehouse;
* **rollup**: after ``growth.user_activity_daily``'s replace has deleted the window and before
  it commits. To hold the child at that point the test takes ``ACCESS EXCLUSIVE`` on
  ``growth.event_types`` (read by the insert that follows the delete): the child waits there
  with its delete done; nothing is injected into the product code.

The server then ends the child's transaction; the warehouse must digest equal to before the
run, and the next run completes with every reconciliation check passing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dagster import DagsterInstance

from growth_assets.backfill import materialize_days
from growth_assets.sources.streams import SOURCES
from resources.clients import DemoSettings, DemoSourceClient
from resources.fx import DemoFxRates
from resources.settings import ModelSettings
from resources.warehouse import Warehouse
from tests.reliability import digests

REPO = Path(__file__).resolve().parents[1]
FIRST, LAST = date(2024, 11, 1), date(2024, 11, 4)


def demo(seed: int) -> DemoSettings:
    return DemoSettings(seed=seed, start="2024-11-01", days=4, users=3000, products=4)


def demo_resources(url: str, seed: int) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "warehouse": Warehouse(url=url),
        "settings": ModelSettings(),
        "fx_source": DemoFxRates(demo=demo(seed)),
    }
    for source in SOURCES:
        resources[source] = DemoSourceClient(source=source, demo=demo(seed))
    return resources


def build(url: str, seed: int) -> None:
    with DagsterInstance.ephemeral() as instance:
        _, checks = materialize_days(FIRST, LAST, demo_resources(url, seed), instance)
    failed = [c for c in checks if not c.passed and c.severity == "ERROR"]
    assert not failed, failed


def next_run_completes_exactly(url: str, warehouse: Warehouse, before: dict[str, str]) -> None:
    """After an interrupted run: the next run completes (its ERROR checks pass), changes the
    warehouse from ``before``, and running it again changes nothing (a fixed point)."""
    build(url, seed=6)
    after = digests(warehouse)
    assert after != before
    build(url, seed=6)
    assert digests(warehouse) == after


def _backends(conn: sa.Connection, database: str, exclude: set[int]) -> list[Any]:
    """The pipeline's backends on the test database, but for ``exclude`` (the test's own)."""
    return list(
        row
        for row in conn.execute(
            sa.text(
                """
                SELECT a.pid, a.state, a.query, a.wait_event_type
                FROM pg_stat_activity AS a
                WHERE a.datname = :db AND a.pid <> pg_backend_pid()
                  AND a.application_name = 'growth-assets'
                  AND a.client_port IS NOT NULL
                """
            ),
            {"db": database},
        )
        if row.pid not in exclude
    )


def run_and_kill(
    url: str,
    scenario: str,
    seed: int,
    moment: Callable[[sa.Connection, list[Any]], bool],
    after_kill: Callable[[], None] = lambda: None,
) -> None:
    """Start the child, SIGKILL it once ``moment`` holds for one of its backends, call
    ``after_kill`` (a backend blocked on a lock notices its client's death only once it
    runs again) and wait until the server has ended the child's sessions."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    database = sa.engine.make_url(url).database or ""
    watcher = sa.create_engine(Warehouse(url=url).engine.url, isolation_level="AUTOCOMMIT")
    with watcher.connect() as conn:
        ours = {b.pid for b in _backends(conn, database, set())}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.crash_child", url, scenario, str(seed)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 300
        with watcher.connect() as conn:
            while True:
                assert child.poll() is None, (
                    f"the run ended before the kill: {child.stderr.read() if child.stderr else ''}"
                )
                assert time.monotonic() < deadline, "the kill moment never came"
                backends = _backends(conn, database, ours)
                if moment(conn, backends):
                    break
                time.sleep(0.005)
            child.send_signal(signal.SIGKILL)
            child.wait(30)
            assert child.returncode == -signal.SIGKILL
            after_kill()
            # The server notices the dead client and rolls its transaction back.
            for _ in range(600):
                if not _backends(conn, database, ours):
                    break
                time.sleep(0.05)
            else:
                raise AssertionError("the killed run's backends did not go away")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        watcher.dispose()


def copying(conn: sa.Connection, backends: list[Any]) -> bool:
    return any(
        b.state == "active" and b.query.lstrip().upper().startswith("COPY") for b in backends
    )


def rollup_deleted(conn: sa.Connection, backends: list[Any]) -> bool:
    """A child backend waits for a lock while holding the rollup's RowExclusiveLock (its
    DELETE has run, its transaction is open)."""
    waiting = [b.pid for b in backends if b.wait_event_type == "Lock"]
    if not waiting:
        return False
    holds = conn.execute(
        sa.text(
            """
            SELECT 1 FROM pg_locks
            WHERE pid = ANY(CAST(:pids AS int[])) AND granted
              AND relation = CAST('growth.user_activity_daily' AS regclass)
              AND mode = 'RowExclusiveLock'
            """
        ),
        {"pids": waiting},
    ).first()
    return holds is not None


def test_killed_runs_leave_the_previous_state_and_the_next_run_is_exact(
    warehouse: Warehouse,
) -> None:
    url = warehouse.url
    build(url, seed=5)
    before = digests(warehouse)
    assert int(before["growth.events"].split(":")[0]) > 1000

    # 1. Killed while ingestion streams another world's records into the warehouse.
    run_and_kill(url, "load", 6, copying)
    assert digests(warehouse) == before

    # 2. Killed inside a rollup's replace, its window deleted but not committed.
    with warehouse.engine.connect() as holder:
        hold = holder.begin()
        holder.execute(sa.text("LOCK TABLE growth.event_types IN ACCESS EXCLUSIVE MODE"))
        run_and_kill(url, "rollup", 5, rollup_deleted, after_kill=hold.rollback)
    assert digests(warehouse) == before

    # 3. The next run completes; its checks reconcile every total; it is a fixed point.
    next_run_completes_exactly(url, warehouse, before)
