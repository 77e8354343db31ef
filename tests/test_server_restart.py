"""A database server restart during a run: the run's connections are cut mid-transaction.

What a restart (or a failover, or an administrator) does to the client is end its backends:
``pg_terminate_backend``. The shared test server cannot be restarted, so the test does exactly
that from an admin connection to every backend of the run (``tests/crash_child.py``, a real
run of the assets over a small demo world) at the two moments of ``tests/test_crash.py``:

* **mid-COPY**: while an ingestion ``COPY`` streams records into the warehouse;
* **mid-replace**: after ``growth.user_activity_daily``'s replace has deleted its window and
  before it commits (held there by a lock on ``growth.event_types``, as in the crash test).

The run must fail cleanly (the step fails naming the lost connection; the test suite runs
with ``GROWTH_INGEST_RETRIES=0``, so no step retry repeats it), leave the warehouse digest
equal to before, and the next run must complete with every check passing and be a fixed
point.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from resources.warehouse import Warehouse
from tests.reliability import digests
from tests.test_crash import (
    REPO,
    _backends,
    build,
    copying,
    next_run_completes_exactly,
    rollup_deleted,
)

LOST_CONNECTION = (
    "terminating connection due to administrator command",
    "server closed the connection unexpectedly",
    "consuming input failed",
    "the connection is closed",
    "connection is lost",
)


def run_and_terminate(
    url: str,
    scenario: str,
    seed: int,
    moment: Callable[[sa.Connection, list[Any]], bool],
    log: Path,
    after: Callable[[], None] = lambda: None,
) -> tuple[int, str]:
    """Start the child; once ``moment`` holds, terminate every backend of the run (what a
    server restart does to it), call ``after``; return the child's exit status and stderr."""
    database = sa.engine.make_url(url).database or ""
    admin = sa.create_engine(Warehouse(url=url).engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        ours = {b.pid for b in _backends(conn, database, set())}
    with log.open("wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_child", url, scenario, str(seed)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            deadline = time.monotonic() + 300
            with admin.connect() as conn:
                while True:
                    assert child.poll() is None, f"the run ended first: {log.read_text()}"
                    assert time.monotonic() < deadline, "the moment never came"
                    backends = _backends(conn, database, ours)
                    if moment(conn, backends):
                        break
                    time.sleep(0.005)
                terminated = conn.execute(
                    sa.text(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM unnest(CAST(:pids AS int[])) AS pid"
                    ),
                    {"pids": [b.pid for b in backends]},
                ).scalar_one()
                assert terminated >= 1
                after()
                returncode = child.wait(180)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            admin.dispose()
    return returncode, log.read_text(errors="replace")


def test_cut_connections_fail_the_step_cleanly_and_the_next_run_is_exact(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    url = warehouse.url
    build(url, seed=5)
    before = digests(warehouse)

    # 1. Mid-COPY: the load's connection is cut while it streams another world's records.
    code, stderr = run_and_terminate(url, "load", 6, copying, tmp_path / "load.log")
    assert code != 0, "the run went on as if nothing happened"
    assert any(s in stderr for s in LOST_CONNECTION), stderr[-3000:]
    assert digests(warehouse) == before

    # 2. Mid-replace: the rollup's window is deleted, its transaction open, when it is cut.
    with warehouse.engine.connect() as holder:
        hold = holder.begin()
        holder.execute(sa.text("LOCK TABLE growth.event_types IN ACCESS EXCLUSIVE MODE"))
        code, stderr = run_and_terminate(
            url, "rollup", 5, rollup_deleted, tmp_path / "rollup.log", after=hold.rollback
        )
    assert code != 0
    assert any(s in stderr for s in LOST_CONNECTION), stderr[-3000:]
    assert digests(warehouse) == before

    # 3. The next run (in a fresh process, as after a restart) completes and is exact.
    next_run_completes_exactly(url, warehouse, before)
