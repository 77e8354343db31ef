"""Model benchmarks: full builds, scale, incremental cost, BI latency, orchestration overhead.

Every measurement works on clones of generated worlds (``bench/generate.py``): a world is a
migrated database holding only canonical events, kept between runs as a template (it takes
minutes to generate at 20 million events); each repetition clones it
(``CREATE DATABASE ... TEMPLATE``) and builds the models with the project's own assets
(``bench/build.py``, a subprocess whose peak RSS is measured by ``/usr/bin/time``). Clones
and Dagster instance databases are dropped afterwards.

* ``design_build`` (measurement 3): the design documents' scale, 50,000 users over two years
  (about 750,000 events): build time, peak RSS of the build process and of the server's
  backends (private memory, sampled), against ``bench/pandas_metrics.py`` on the same events;
  the growth-analytics assets' share of the build (issue 5's target: the cohort and SaaS
  groups' step times, ``bench/build.py``).
* ``scale`` (measurement 4): 1M, 5M and 20M events over one year: build time and memory.
* ``incremental`` (measurement 5): one new day after one month vs one year of history.
* ``bi_latency`` (issue 4's targets, measurement 6): on the built 20M warehouse, the time of one
  day's rollup refresh and p50/p95 of the dashboard queries in ``sql/bench/``.
* ``day_refresh`` (issue 4's target, measurement 9): the same refresh and queries on a short
  world with the one-year 20M world's daily density (:func:`density_world`), its rollups built
  by the project's SQL without Dagster (:func:`build_rollups`): a day's refresh depends on
  about a month of history, so this is representative and takes minutes instead of an hour.
* ``orchestration`` (measurement 8): the hourly run of the whole graph for one partition, wall
  time against the SQL inside it, in-process and multiprocess executors.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import generate
from growth_assets.environment import local_url
from growth_assets.rollups import sqlgen
from growth_assets.rollups.assets import (
    month_window,
    refresh_activity,
    refresh_engagement,
    refresh_rollup,
)
from resources.migrations import migrate
from resources.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

YEAR_FIRST = date(2025, 11, 1)
YEAR_DAYS = 365
DASHBOARD_QUERIES: tuple[tuple[str, dict[str, str]], ...] = (
    ("dashboard_product_daily_90d", {"product_id": "atlas"}),
    ("dashboard_all_products_last_month", {}),
    ("dashboard_all_products_last_month_daily", {}),
    ("dashboard_dau_mau_year", {"product_id": "atlas"}),
    ("dashboard_dau_mau_year", {"product_id": "all"}),
)


def admin() -> sa.Engine:
    return sa.create_engine(local_url("postgres"), isolation_level="AUTOCOMMIT")


@dataclass(frozen=True)
class World:
    users: int
    first: date
    days: int

    @property
    def last(self) -> date:
        return self.first + timedelta(days=self.days - 1)

    def ensure(self) -> dict[str, Any]:
        eng = admin()
        try:
            return generate.ensure_world(eng, local_url, self.users, self.first, self.days)
        finally:
            eng.dispose()


def year_world(events: int) -> World:
    return World(generate.users_for(events), YEAR_FIRST, YEAR_DAYS)


DESIGN_USERS = 50_000
DESIGN_DAYS = 730


def design_world(users: int = DESIGN_USERS, days: int = DESIGN_DAYS) -> World:
    """The design documents' scale: the demo's 50,000 users over its two years (ending on
    the demo's last day, 2026-10-31)."""
    last = date(2026, 10, 31)
    return World(users, last - timedelta(days=days - 1), days)


class ServerMemory:
    """Peak private memory (RssAnon) of the server backends connected to one database,
    sampled every half second while the block runs (shared buffers are not counted)."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.peak_kb = 0
        self._stop = threading.Event()
        self._engine = admin()

    def _sample(self) -> int:
        with self._engine.connect() as conn:
            pids = [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %(d)s", {"d": self.database}
                )
            ]
        total = 0
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            m = re.search(r"^RssAnon:\s+(\d+) kB", status, flags=re.MULTILINE)
            total += int(m.group(1)) if m else 0
        return total

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self.peak_kb = max(self.peak_kb, self._sample())

    @contextmanager
    def watch(self) -> Iterator[ServerMemory]:
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()
            self._engine.dispose()


def timed_subprocess(args: list[str], env: dict[str, str]) -> tuple[dict[str, Any], float, float]:
    """Run a Python module printing one JSON line; return it, wall seconds and peak RSS (MB)."""
    started = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", PYTHON, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out, wall, int(peak.group(1)) / 1024 if peak else 0.0


def dagster_env(warehouse_db: str, dagster_db: str) -> dict[str, str]:
    state = REPO / ".dagster_home" / "bench"
    return {
        **os.environ,
        "GROWTH_WAREHOUSE_URL": local_url(warehouse_db),
        "DAGSTER_HOME": str(REPO),
        "DAGSTER_PG_URL": local_url(dagster_db, driver="postgresql+psycopg2"),
        "DAGSTER_ARTIFACTS_DIR": str(state / "storage"),
        "DAGSTER_COMPUTE_LOGS_DIR": str(state / "logs"),
    }


def run_build(warehouse_db: str, first: date, last: date, label: str) -> dict[str, Any]:
    """``bench.build build`` over [first, last] on ``warehouse_db`` with a fresh Dagster
    database; wall time, peak RSS of the process, peak private memory of the server."""
    dagster_db = f"{label}_dagster"
    eng = admin()
    generate.drop(eng, dagster_db)
    with eng.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{dagster_db}"')
    try:
        with ServerMemory(warehouse_db).watch() as server:
            out, wall, rss = timed_subprocess(
                ["-m", "bench.build", "build", "--first", f"{first}", "--last", f"{last}"],
                dagster_env(warehouse_db, dagster_db),
            )
    finally:
        generate.drop(eng, dagster_db)
        eng.dispose()
    return {
        **out,
        "process_wall_s": wall,
        "peak_rss_mb": rss,
        "server_peak_private_mb": server.peak_kb / 1024,
    }


def events_in(db: str) -> int:
    eng = sa.create_engine(local_url(db))
    try:
        with eng.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM growth.events").scalar_one())
    finally:
        eng.dispose()


@dataclass
class Built:
    """Built warehouses of this run, by world, so measurements share one build; ``prefix``
    keeps concurrent runs' databases apart."""

    prefix: str = "bench"
    dbs: dict[World, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def get(self, world: World, tag: str) -> tuple[str, dict[str, Any]]:
        if world not in self.dbs:
            info = world.ensure()
            db = f"{self.prefix}_{tag}_built"
            eng = admin()
            generate.clone(eng, info["database"], db)
            eng.dispose()
            build = run_build(db, world.first, world.last, f"{self.prefix}_{tag}")
            self.dbs[world] = (db, {**build, "events": info["events"]})
        return self.dbs[world]

    def drop_all(self) -> None:
        eng = admin()
        generate.drop(eng, *(db for db, _ in self.dbs.values()))
        eng.dispose()
        self.dbs.clear()


def design_build(repeat: int, world: World) -> list[dict[str, Any]]:
    info = world.ensure()
    runs = []
    for rep in range(repeat):
        db = f"bench{os.getpid()}_design_{rep}"
        eng = admin()
        generate.clone(eng, info["database"], db)
        try:
            build = run_build(db, world.first, world.last, db)
            pandas, pandas_wall, pandas_rss = timed_subprocess(
                ["-m", "bench.pandas_metrics", local_url(db)], dict(os.environ)
            )
        finally:
            generate.drop(eng, db)
            eng.dispose()
        runs.append(
            {
                "events": info["events"],
                "build": build,
                "build_s": build["process_wall_s"],
                "growth_analytics_s": build["growth_analytics_s"],
                "peak_rss_mb": build["peak_rss_mb"],
                "server_peak_private_mb": build["server_peak_private_mb"],
                "pandas": pandas,
                "pandas_s": pandas_wall,
                "pandas_rss_mb": pandas_rss,
                "pandas_vs_build": pandas_wall / build["process_wall_s"],
            }
        )
    return runs


def scale_run(events: int, rep: int, built: Built) -> dict[str, Any]:
    world = year_world(events)
    if rep == 0:
        db, build = built.get(world, f"y{events}")
    else:
        info = world.ensure()
        db = f"bench_y{events}_{rep}"
        eng = admin()
        generate.clone(eng, info["database"], db)
        try:
            build = {**run_build(db, world.first, world.last, db), "events": info["events"]}
        finally:
            generate.drop(eng, db)
            eng.dispose()
    return {
        "events": build["events"],
        "build_s": build["process_wall_s"],
        "peak_rss_mb": build["peak_rss_mb"],
        "server_peak_private_mb": build["server_peak_private_mb"],
        "sql_s": build["sql_s"],
        "build": build,
    }


def new_day(db: str, day: date) -> int:
    """Generate one more day of the world's events into ``db``."""
    eng = sa.create_engine(local_url(db))
    try:
        with eng.connect() as conn:
            exists = conn.exec_driver_sql(
                "SELECT count(*) FROM growth.events WHERE occurred_at >= %(d)s",
                {"d": generate.midnight(day)},
            ).scalar_one()
        if exists:
            return int(exists)
        written, _ = generate.fill(eng, day, day)
        return written
    finally:
        eng.dispose()


def incremental(events: int, repeat: int, built: Built) -> dict[str, Any]:
    """One new day after a year of history (the built world) and after a month (a clone of
    the world cut to its last month, built): the day's models, ``repeat`` times each."""
    world = year_world(events)
    day = world.last + timedelta(days=1)
    year_db, _ = built.get(world, f"y{events}")
    month_first = world.last - timedelta(days=30)
    info = world.ensure()
    month_db = f"bench_y{events}_month"
    eng = admin()
    generate.clone(eng, info["database"], month_db)
    out: dict[str, Any] = {"day": f"{day}", "runs": {}}
    try:
        wh = sa.create_engine(local_url(month_db))
        with wh.begin() as conn:
            conn.exec_driver_sql(
                "SELECT drop_chunks('growth.events', older_than => %(t)s)",
                {"t": generate.midnight(month_first)},
            )
            conn.exec_driver_sql(
                "DELETE FROM growth.events WHERE occurred_at < %(t)s",
                {"t": generate.midnight(month_first)},
            )
        wh.dispose()
        month_build = run_build(month_db, month_first, world.last, month_db)
        out["month_build_s"] = month_build["process_wall_s"]
        for history, db in (("month", month_db), ("year", year_db)):
            out[f"{history}_history_events"] = events_in(db)
            out[f"{history}_new_day_events"] = new_day(db, day)
            out["runs"][history] = [
                run_build(db, day, day, f"bench_incr_{history}_{rep}") for rep in range(repeat)
            ]
    finally:
        generate.drop(eng, month_db)
        eng.dispose()
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def rollup_refresh(db: str, first: date, last: date, users: bool = False) -> dict[str, float]:
    """The rollup assets' SQL over the days [first, last] (their files and functions, one
    statement set per table over the whole window, as a single-run backfill does), each table
    in its own transaction, without Dagster and its checks: ``users`` first when asked, then
    user_activity_daily, metrics_hourly/daily/monthly and engagement_daily. Seconds of each."""
    warehouse = Warehouse(url=local_url(db))
    params = {
        "window_start": generate.midnight(first),
        "window_end": generate.midnight(last + timedelta(days=1)),
    }
    start, end = month_window(params["window_start"], params["window_end"])
    parts: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], Any]) -> None:
        t = time.perf_counter()
        fn()
        parts[name] = time.perf_counter() - t

    def upsert_users() -> None:
        with warehouse.transaction() as conn:
            Warehouse.run_file(conn, "models/upsert_users", params)

    if users:
        timed("users", upsert_users)
    timed("user_activity_daily", lambda: refresh_activity(warehouse, params))
    timed("metrics_hourly", lambda: refresh_rollup(warehouse, sqlgen.HOURLY, params))
    timed("metrics_daily", lambda: refresh_rollup(warehouse, sqlgen.DAILY, params))
    timed(
        "metrics_monthly",
        lambda: refresh_rollup(
            warehouse, sqlgen.MONTHLY, {"window_start": start, "window_end": end}
        ),
    )
    timed("engagement_daily", lambda: refresh_engagement(warehouse, params))
    warehouse.engine.dispose()
    return parts


def day_refresh(db: str, day: date) -> dict[str, Any]:
    """One day's rollup refresh as the rollup assets run it (:func:`rollup_refresh` of the
    day); the seconds of each part and in total, the load average and the time."""
    parts = rollup_refresh(db, day, day)
    return {
        "total_s": sum(parts.values()),
        **{f"{k}_s": v for k, v in parts.items()},
        "loadavg_1m": os.getloadavg()[0],
        "at": now(),
    }


def dashboard_latency(db: str, as_of: date, samples: int) -> dict[str, dict[str, float]]:
    """p50/p95 of each dashboard query (one warm-up first), read as the BI role."""
    from resources import sqlfiles

    eng = sa.create_engine(local_url(db))
    out: dict[str, dict[str, float]] = {}
    try:
        with eng.connect() as conn:
            conn.exec_driver_sql("SET ROLE growth_bi")
            for name, extra in DASHBOARD_QUERIES:
                text = sa.text(sqlfiles.strip_comments(sqlfiles.render(f"bench/{name}")))
                params = {"as_of": as_of, **extra}
                rows = len(conn.execute(text, params).all())
                times = []
                for _ in range(samples):
                    t = time.perf_counter()
                    conn.execute(text, params).all()
                    times.append((time.perf_counter() - t) * 1000)
                label = name + (f" ({extra['product_id']})" if extra else "")
                out[label] = {
                    "p50_ms": statistics.median(times),
                    "p95_ms": percentile(times, 0.95),
                    "max_ms": max(times),
                    "rows": rows,
                    "samples": samples,
                }
            conn.rollback()
    finally:
        eng.dispose()
    return out


def bi_latency(events: int, repeat: int, samples: int, built: Built) -> dict[str, Any]:
    world = year_world(events)
    db, build = built.get(world, f"y{events}")
    refreshes = [day_refresh(db, world.last) for _ in range(repeat)]
    return {
        "events": build["events"],
        "build_s": build["process_wall_s"],
        "day": f"{world.last}",
        "day_refresh": refreshes,
        "queries": dashboard_latency(db, world.last, samples),
    }


LIFETIME_DAYS = 60
"""Mean user lifetime of the generator (``sql/bench/generate/users.sql``)."""


def density_world(days: int, reference_events: int = 20_000_000) -> World:
    """A world of ``days`` days ending on the one-year world's last day whose last day has as
    many users alive as the one-year world of ``reference_events`` events on its last day.

    Users sign up uniformly and live an exponential time of mean :data:`LIFETIME_DAYS`, so on
    the last day of a world of ``d`` days ``rate * 60 * (1 - exp(-d / 60))`` users are alive;
    the short world's signup rate is raised by the ratio of the two factors (1.16 at 120 days)
    so that its last month has the year's events and active users per day."""
    ref = year_world(reference_events)
    per_day = ref.users / YEAR_DAYS
    factor = (1 - math.exp(-YEAR_DAYS / LIFETIME_DAYS)) / (1 - math.exp(-days / LIFETIME_DAYS))
    return World(round(per_day * days * factor), ref.last - timedelta(days=days - 1), days)


def build_rollups(db: str, first: date, last: date) -> dict[str, float]:
    """Build users and every rollup of [first, last] with the project's SQL
    (:func:`rollup_refresh`), then ANALYZE; return the seconds of each."""
    parts = rollup_refresh(db, first, last, users=True)
    engine = sa.create_engine(local_url(db))
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    return {f"{k}_s": v for k, v in parts.items()}


def daily_density(db: str, first: date, last: date) -> dict[str, float]:
    """Mean events and active users per day over [first, last], from the built rollups."""
    eng = sa.create_engine(local_url(db))
    try:
        with eng.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT avg(events), avg(active_users), min(active_users), max(active_users)"
                " FROM growth.metrics_daily WHERE product_id = 'all'"
                " AND day BETWEEN %(f)s AND %(l)s",
                {"f": first, "l": last},
            ).one()
    finally:
        eng.dispose()
    return {
        "events_per_day": float(row[0]),
        "active_users_per_day": float(row[1]),
        "active_users_min": float(row[2]),
        "active_users_max": float(row[3]),
    }


def short_world_refresh(
    days: int, repeat: int, samples: int, reference_events: int = 20_000_000
) -> dict[str, Any]:
    """Measurement 9: a day's rollup refresh (and the dashboard queries) on
    :func:`density_world`, its rollups built by :func:`build_rollups` on a clone."""
    world = density_world(days, reference_events)
    info = world.ensure()
    db = f"bench_dayrefresh_{days}d"
    eng = admin()
    generate.clone(eng, info["database"], db)
    try:
        # the template was generated by the code of its day: bring its schema up to date
        wh = sa.create_engine(local_url(db))
        migrate(wh, "auto")
        wh.dispose()
        build = build_rollups(db, world.first, world.last)
        density = daily_density(db, world.last - timedelta(days=29), world.last)
        refreshes = [day_refresh(db, world.last) for _ in range(repeat)]
        queries = dashboard_latency(db, world.last, samples) if samples else {}
    finally:
        generate.drop(eng, db)
        eng.dispose()
    return {
        "world": {"users": world.users, "first": f"{world.first}", "days": world.days},
        "events": info["events"],
        "build": build,
        "last_30_days": density,
        "day": f"{world.last}",
        "day_refresh": refreshes,
        "queries": queries,
    }


def orchestration(repeat: int, built: Built, world: World) -> dict[str, Any]:
    """The hourly run of the whole graph for one hour of the design world's last day, wall
    time against SQL time, with the in-process and the multiprocess executor."""
    db, _ = built.get(world, "design")
    hour = f"{world.last:%Y-%m-%d}-12:00"
    out: dict[str, Any] = {"hour": hour}
    for executor in ("in_process", "multiprocess"):
        runs = []
        for rep in range(repeat):
            dagster_db = f"bench_orch_{executor}_{rep}_dagster"
            eng = admin()
            generate.drop(eng, dagster_db)
            with eng.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{dagster_db}"')
            try:
                result, wall, rss = timed_subprocess(
                    ["-m", "bench.build", "hourly", "--hour", hour, "--executor", executor],
                    dagster_env(db, dagster_db),
                )
            finally:
                generate.drop(eng, dagster_db)
                eng.dispose()
            runs.append({**result, "process_wall_s": wall, "peak_rss_mb": rss})
        out[executor] = runs
    return out


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
