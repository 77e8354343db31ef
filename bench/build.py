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

Statement totals are keyed by the SQL file that ran them (``Warehouse.run_file`` /
``fetch_file``) and the statement's first words, so files whose statements start alike
(the ``WITH bounds AS`` of several cohort and rollup files) are told apart. ``build`` also
reports each asset's step time and the sum per asset group; ``growth_analytics_s`` is the
cohort and SaaS groups' (issue 5's "growth-analytics tables").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from dagster import (
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    DagsterEventType,
    DagsterInstance,
    Definitions,
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
GROWTH_ANALYTICS_GROUPS = ("cohorts", "saas")
"""The asset groups of issue 5's growth-analytics tables (growth accounting, retention
triangles, cohort LTV, power users, feature adoption; funnels, MRR, north star, customer 360)."""
SQL_FILE_FUNCTIONS = frozenset({"run_file", "fetch_file"})


def sql_file_of_caller() -> str | None:
    """The ``sql/`` file name being run by ``Warehouse.run_file``/``fetch_file`` up the
    stack (with the statement's number within a ``run_file``), or None."""
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if code.co_name in SQL_FILE_FUNCTIONS and code.co_filename.endswith("warehouse.py"):
            name = frame.f_locals.get("name")
            counts = frame.f_locals.get("counts")
            if isinstance(name, str):
                return f"{name}#{len(counts) + 1}" if isinstance(counts, list) else name
        frame = frame.f_back  # type: ignore[assignment]
    return None


@dataclass
class SqlClock:
    """Sum of statement times on the warehouse's database (not Dagster's storage)."""

    database: str
    seconds: float = 0.0
    statements: int = 0
    by_statement: dict[str, float] = field(default_factory=dict)
    _started: dict[int, float] = field(default_factory=dict)
    _files: dict[int, str | None] = field(default_factory=dict)

    def before(self, conn: sa.Connection, cursor: Any, *_: Any) -> None:
        if conn.engine.url.database == self.database:
            self._started[id(cursor)] = time.perf_counter()
            self._files[id(cursor)] = sql_file_of_caller()

    def after(self, conn: sa.Connection, cursor: Any, statement: str, *_: Any) -> None:
        started = self._started.pop(id(cursor), None)
        if started is not None:
            took = time.perf_counter() - started
            self.seconds += took
            self.statements += 1
            file = self._files.pop(id(cursor), None)
            words = " ".join(statement.split())
            head = f"{file}: {words[:60]}" if file else words[:90]
            self.by_statement[head] = self.by_statement.get(head, 0.0) + took

    def top(self, n: int = 12) -> dict[str, float]:
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


def _steps(result: ExecuteInProcessResult | Any, instance: DagsterInstance) -> dict[str, float]:
    """Seconds of each successful step of the run, by step key."""
    records = instance.get_records_for_run(
        result.run_id, of_type=DagsterEventType.STEP_SUCCESS
    ).records
    steps: dict[str, float] = {}
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.step_key is not None:
            took = float(getattr(event.event_specific_data, "duration_ms", 0.0)) / 1000
            steps[event.step_key] = steps.get(event.step_key, 0.0) + took
    return steps


def _step_seconds(result: ExecuteInProcessResult | Any, instance: DagsterInstance) -> float:
    return sum(_steps(result, instance).values())


def _ranked(seconds: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in sorted(seconds.items(), key=lambda kv: -kv[1])}


def step_groups(defs: Definitions) -> dict[str, tuple[str, str]]:
    """Step key (the op's name) -> (asset key, asset group) for every asset and asset check
    of the definitions; a check's group is its asset's."""
    graph = defs.resolve_asset_graph()
    out: dict[str, tuple[str, str]] = {}
    for a in defs.assets or []:
        if isinstance(a, AssetsDefinition) and a.is_executable:
            key = next(iter(a.keys)) if a.keys else next(iter(a.check_keys)).asset_key
            group = graph.get(key).group_name if graph.has(key) else "?"
            out[a.node_def.name] = (key.to_user_string(), group or "default")
    for c in defs.asset_checks or []:
        if isinstance(c, AssetsDefinition):
            key = next(iter(c.check_keys)).asset_key
            group = graph.get(key).group_name if graph.has(key) else "?"
            out[c.node_def.name] = (key.to_user_string(), group or "default")
    return out


def build(first: date, last: date, instance: DagsterInstance | None = None) -> dict[str, Any]:
    """Materialise the model groups over [first, last]; ``instance``: Dagster's (by default
    the one ``DAGSTER_HOME`` configures)."""
    apply_backfill_settings()
    defs = build_definitions()
    assets = [*(defs.assets or []), *(defs.asset_checks or [])]
    runs: list[dict[str, Any]] = []
    passed = failed = 0
    by_asset: dict[str, float] = {}
    by_group: dict[str, float] = {}
    groups_of = step_groups(defs)
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
            steps = _steps(result, instance)
            for step, took in steps.items():
                asset_key, group = groups_of.get(step, (step, "?"))
                by_asset[asset_key] = by_asset.get(asset_key, 0.0) + took
                by_group[group] = by_group.get(group, 0.0) + took
            runs.append(
                {
                    "grain": grain,
                    "assets": [k.to_user_string() for k in keys],
                    "wall_s": time.perf_counter() - t,
                    "steps_s": sum(steps.values()),
                    "sql_s": clock.seconds - sql_before,
                }
            )
        return {
            "wall_s": time.perf_counter() - started,
            "sql_s": clock.seconds,
            "statements": clock.statements,
            "slowest_statements": clock.top(),
            "assets_s": _ranked(by_asset),
            "groups_s": _ranked(by_group),
            "growth_analytics_s": sum(by_group.get(g, 0.0) for g in GROWTH_ANALYTICS_GROUPS),
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
