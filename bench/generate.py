"""A fast, set-based generator of canonical events for the warehouse benchmarks.

The demo generator goes through the real ingest path (source payloads, raw tables,
normalisation) at about 15,000 events/s end to end, which is measured on its own (``ingest``).
The model benchmarks need warehouses of 1 to 20 million events, so this module writes
canonical ``growth.events`` directly with SQL (``sql/bench/generate/``): a users table with
lifetimes, engagement rates, activation and payment (``users.sql``), then the events of each
window in time order (``events.sql``). Rollups, cohorts and checks are then built by the
project's own assets, never by the benchmark.

The world: 10 products of skewed sizes, users signing up uniformly over the period, an
exponential lifetime (mean 60 days), about :data:`EVENTS_PER_USER` events per user on a
year's world (engagement, key actions, tickets; for payers subscriptions, monthly charges,
refunds, plan changes and churn). Properties are small (signups carry channel, country and
platform; other events ``{}``), unlike Mixpanel's payloads: the models read none of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from resources.migrations import migrate
from resources.warehouse import Warehouse

EVENTS_PER_USER = 14.5
"""Calibrated on a 365-day world (engagement rate 0.25 per day, lifetimes of mean 60 days)."""
ENGAGEMENT_PER_DAY = 0.25


def users_for(events: int) -> int:
    return max(100, round(events / EVENTS_PER_USER))


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def create_world(engine: sa.Engine, users: int, first: date, days: int, seed: float = 0.42) -> None:
    """The users of a world whose signups span ``days`` days from ``first``."""
    params = {
        "users": users,
        "world_start": midnight(first),
        "world_end": midnight(first + timedelta(days=days)),
        "events_per_day": ENGAGEMENT_PER_DAY,
        "seed": seed,
    }
    with engine.begin() as conn:
        Warehouse.run_file(conn, "bench/generate/users", params)


def fill(engine: sa.Engine, first: date, last: date, step_days: int = 7) -> tuple[int, float]:
    """Generate the events of days ``first`` .. ``last`` (inclusive), ``step_days`` at a time
    (one transaction each); return the rows written and the seconds taken."""
    started = time.perf_counter()
    written = 0
    day = first
    while day <= last:
        stop = min(last + timedelta(days=1), day + timedelta(days=step_days))
        params = {
            "window_start": midnight(day),
            "window_end": midnight(stop),
            # setseed takes [-1, 1]: a different, reproducible seed per window.
            "seed": ((day - date(2000, 1, 1)).days % 2000) / 1000 - 1,
        }
        with engine.begin() as conn:
            (_, _, n) = Warehouse.run_file(conn, "bench/generate/events", params)
        written += n
        day = stop
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE growth.events")
    return written, time.perf_counter() - started


def world_name(users: int, first: date, days: int) -> str:
    return f"bench_world_{users}u_{first:%Y%m%d}_{days}d"


def ensure_world(
    admin: sa.Engine, url_of: Callable[[str], str], users: int, first: date, days: int
) -> dict[str, Any]:
    """A migrated database holding only the generated events of a world (a template that the
    measurements clone with ``CREATE DATABASE ... TEMPLATE``); reused when it exists and is
    complete (``bench.world`` records the generation), otherwise (re)generated."""
    name = world_name(users, first, days)
    with admin.connect() as conn:
        exists = conn.exec_driver_sql(
            "SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}
        ).first()
    if exists:
        engine = sa.create_engine(url_of(name))
        try:
            with engine.connect() as conn:
                row = conn.exec_driver_sql(
                    "SELECT events, seconds FROM bench.world WHERE complete"
                ).first()
            if row is not None:
                return {
                    "database": name,
                    "events": int(row[0]),
                    "generate_s": float(row[1]),
                    "reused": True,
                }
        except sa.exc.DBAPIError:
            pass
        finally:
            engine.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = sa.create_engine(url_of(name))
    try:
        migrate(engine, "auto")
        started = time.perf_counter()
        create_world(engine, users, first, days)
        events, _ = fill(engine, first, first + timedelta(days=days - 1))
        seconds = time.perf_counter() - started
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE bench.world (users integer, first_day date, days integer, "
                "events bigint, seconds double precision, complete boolean)"
            )
            conn.exec_driver_sql(
                "INSERT INTO bench.world VALUES (%(u)s, %(f)s, %(d)s, %(e)s, %(s)s, true)",
                {"u": users, "f": first, "d": days, "e": events, "s": seconds},
            )
    finally:
        engine.dispose()
    return {"database": name, "events": events, "generate_s": seconds, "reused": False}


def clone(admin: sa.Engine, template: str, name: str, attempts: int = 30) -> None:
    """A fresh copy of a world database (file-level copy by the server). The copy fails while
    another session is connected to the template (TimescaleDB's job scheduler connects now
    and then), so it is retried for a while."""
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for attempt in range(attempts):
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            return
        except sa.exc.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(2)


def drop(admin: sa.Engine, *names: str) -> None:
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
