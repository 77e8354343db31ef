"""Materialise the warehouse's models in this process and report where the time went.

Run as a subprocess by ``bench/run.py`` (so its peak RSS is the build's alone)::

    python -m bench.build build --first 2025-11-01 --last 2026-10-31
    python -m bench.build hourly --hour 2026-10-31-12:00 --executor in_process

with ``GROWTH_WAREHOUSE_URL`` naming the warehouse and ``DAGSTER_PG_URL`` a fresh Dagster
instance database. Prints one JSON line.

``build`` materialises every asset of the daily, hourly and hourly-rollup jobs that is
downstream of the canonical events (the normalisers' assets), with their checks: users,
rollups, and whatever cohort, MRR or quality assets those jobs hold. The selection is computed
from the definitions, not listed here, so assets added to those jobs are included. The
assets are grouped by partitioning, each group one single-run backfill over the range (what a
backfill from the UI launches), groups in dependency order.

``hourly`` is the hourly incremental run of the whole graph for one hour: the hourly job for
that hour (ingestion from the demo sources and normalisation), then the day's partition of
every asset downstream of the events, with the chosen executor. SQL time is the sum of the
warehouse's statement times (SQLAlchemy cursor events; measured in this process only, so for
the multiprocess executor it is taken from the step timings instead).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from dagster import (
    AssetKey,
    AssetSelection,
    DagsterEventType,
    DagsterInstance,
    ExecuteInProcessResult,
    JobDefinition,
    execute_job,
    materialize,
    reconstructable,
)
from dagster._core.definitions.unresolved_asset_job_definition import (
    UnresolvedAssetJobDefinition,
)

from growth_assets.backfill import QUIET
from growth_assets.cli.runtime import apply_backfill_settings
from growth_assets.definitions import build_definitions
from growth_assets.jobs import DAILY_JOB, HOURLY_JOB, HOURLY_ROLLUPS_JOB
from growth_assets.models.daily import EVENT_KEYS
from growth_assets.partitions import range_tags

MODEL_JOBS = (HOURLY_JOB, DAILY_JOB, HOURLY_ROLLUPS_JOB)


@dataclass
class SqlClock:
    """Sum of statement times on the warehouse's database (not Dagster's storage)."""

    database: str
    seconds: float = 0.0
    statements: int = 0
    by_statement: dict[str, float] = field(default_factory=dict)
    _started: dict[int, float] = field(default_factory=dict)

    def before(self, conn: sa.Connection, cursor: Any, *_: Any) -> None:
        if conn.engine.url.database == self.database:
            self._started[id(cursor)] = time.perf_counter()

    def after(self, conn: sa.Connection, cursor: Any, statement: str, *_: Any) -> None:
        started = self._started.pop(id(cursor), None)
        if started is not None:
            took = time.perf_counter() - started
            self.seconds += took
            self.statements += 1
            head = " ".join(statement.split())[:90]
            self.by_statement[head] = self.by_statement.get(head, 0.0) + took

    def top(self, n: int = 8) -> dict[str, float]:
        ranked = sorted(self.by_statement.items(), key=lambda kv: -kv[1])[:n]
        return {k: round(v, 3) for k, v in ranked}


@contextmanager
def sql_clock() -> Iterator[SqlClock]:
    url = sa.engine.make_url(os.environ["GROWTH_WAREHOUSE_URL"])
    clock = SqlClock(database=url.database or "")
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", clock.before)
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", clock.after)
    try:
        yield clock
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", clock.before)
        sa.event.remove(sa.engine.Engine, "after_cursor_execute", clock.after)


def model_groups() -> list[tuple[str, list[AssetKey]]]:
    """The assets downstream of the canonical events in the model jobs, grouped by
    partitioning (grain name, keys), groups in dependency order."""
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    in_jobs: set[AssetKey] = set()
    for job in defs.jobs or []:
        if isinstance(job, UnresolvedAssetJobDefinition) and job.name in MODEL_JOBS:
            in_jobs |= job.selection.resolve(graph)
    events = AssetSelection.assets(*EVENT_KEYS)
    downstream = (events.downstream() - events).resolve(graph) & in_jobs
    groups: dict[str, list[AssetKey]] = {}
    for key in graph.toposorted_asset_keys:
        if key in downstream:
            pdef = graph.get(key).partitions_def
            grain = "hourly" if pdef is not None and "%H" in getattr(pdef, "fmt", "") else "daily"
            groups.setdefault(grain, []).append(key)
    # Hourly-partitioned models (none today) would feed the daily ones.
    return sorted(groups.items(), key=lambda g: g[0] != "hourly")


def _step_seconds(result: ExecuteInProcessResult | Any, instance: DagsterInstance) -> float:
    records = instance.get_records_for_run(
        result.run_id, of_type=DagsterEventType.STEP_SUCCESS
    ).records
    total = 0.0
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is not None:
            total += float(getattr(event.event_specific_data, "duration_ms", 0.0)) / 1000
    return total


def build(first: date, last: date, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """Materialise the model groups over [first, last]; ``instance``: Dagster's (by default
    the one ``DAGSTER_HOME`` configures)."""
    apply_backfill_settings()
    defs = build_definitions()
    assets = [*(defs.assets or []), *(defs.asset_checks or [])]
    runs: list[dict[str, Any]] = []
    passed = failed = 0
    started = time.perf_counter()
    owned = nullcontext(instance) if instance is not None else DagsterInstance.get()
    with owned as instance, sql_clock() as clock:
        for grain, keys in model_groups():
            t, sql_before = time.perf_counter(), clock.seconds
            result = materialize(
                assets,  # type: ignore[arg-type]
                selection=keys,
                resources=dict(defs.resources or {}),
                instance=instance,
                tags=range_tags(first, last, grain),
                run_config=QUIET,
            )
            evaluations = result.get_asset_check_evaluations()
            passed += sum(1 for e in evaluations if e.passed)
            failed += sum(1 for e in evaluations if not e.passed)
            runs.append(
                {
                    "grain": grain,
                    "assets": [k.to_user_string() for k in keys],
                    "wall_s": time.perf_counter() - t,
                    "steps_s": _step_seconds(result, instance),
                    "sql_s": clock.seconds - sql_before,
                }
            )
        return {
            "wall_s": time.perf_counter() - started,
            "sql_s": clock.seconds,
            "statements": clock.statements,
            "slowest_statements": clock.top(),
            "checks_passed": passed,
            "checks_failed": failed,
            "runs": runs,
        }


def hourly_job() -> JobDefinition:
    """The hourly job, reconstructable for the multiprocess executor."""
    return build_definitions().get_job_def(HOURLY_JOB)


def hourly(hour: str, executor: str) -> dict[str, Any]:
    apply_backfill_settings()
    day = date.fromisoformat(hour[:10])
    defs = build_definitions()
    assets = [*(defs.assets or []), *(defs.asset_checks or [])]
    runs: list[dict[str, Any]] = []
    started = time.perf_counter()
    with DagsterInstance.get() as instance, sql_clock() as clock:
        t, sql_before = time.perf_counter(), clock.seconds
        if executor == "in_process":
            result: Any = hourly_job().execute_in_process(
                instance=instance, partition_key=hour, run_config=QUIET
            )
        else:
            result = execute_job(
                reconstructable(hourly_job),
                instance=instance,
                tags={"dagster/partition": hour},
                run_config=QUIET,
            )
        if not result.success:
            raise RuntimeError(f"hourly job failed for {hour}")
        runs.append(
            {
                "run": f"{HOURLY_JOB} {hour} ({executor})",
                "wall_s": time.perf_counter() - t,
                "steps_s": _step_seconds(result, instance),
                "sql_s": clock.seconds - sql_before,
            }
        )
        for grain, keys in model_groups():
            t, sql_before = time.perf_counter(), clock.seconds
            tags = range_tags(day, day, grain)
            result = materialize(
                assets,  # type: ignore[arg-type]
                selection=keys,
                resources=dict(defs.resources or {}),
                instance=instance,
                tags=tags,
                run_config=QUIET,
            )
            runs.append(
                {
                    "run": f"{grain} models {day}",
                    "assets": [k.to_user_string() for k in keys],
                    "wall_s": time.perf_counter() - t,
                    "steps_s": _step_seconds(result, instance),
                    "sql_s": clock.seconds - sql_before,
                }
            )
    return {
        "wall_s": time.perf_counter() - started,
        "sql_s": clock.seconds,
        "steps_s": sum(r["steps_s"] for r in runs),
        "statements": clock.statements,
        "slowest_statements": clock.top(),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--first", type=date.fromisoformat, required=True)
    b.add_argument("--last", type=date.fromisoformat, required=True)
    h = sub.add_parser("hourly")
    h.add_argument("--hour", required=True, help="YYYY-MM-DD-HH:00")
    h.add_argument("--executor", choices=["in_process", "multiprocess"], default="in_process")
    args = parser.parse_args()
    if args.command == "build":
        out = build(args.first, args.last)
    else:
        out = hourly(args.hour, args.executor)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
