"""BI load during a rebuild: concurrent dashboard clients while a day's rollups are rewritten.

Issue 11's load point: during a full-day rebuild, 20 concurrent BI clients query the
``analytics`` views for a minute with no errors; their latencies go to BENCHMARKS.md.

``--clients`` threads each hold one connection as the BI role (``SET ROLE growth_bi``) and
send the dashboard queries of the rollup benchmark (``sql/bench/dashboard_*.sql``, as of the
warehouse's newest day) one after the other, round robin, for ``--seconds``. Meanwhile one
more thread rebuilds that day again and again, as the rollup assets do it
(``bench.models.day_refresh``: user_activity_daily, metrics_hourly/daily/monthly and
engagement_daily, each replacing its window in its own transaction), so the readers cross
many commits of the very rows they read. Every query's wall time (client side, rows fetched)
and every error is recorded; the command exits non-zero on any error.

Run it on a built warehouse (``make demo`` first, or a benchmark world):

    .venv/bin/python -m bench.bi_load --clients 20 --seconds 60 \\
        --json bench/results/<stem>.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.models import DASHBOARD_QUERIES, day_refresh, percentile
from growth_assets.environment import local_url
from resources import sqlfiles


def newest_day(db: str) -> date:
    engine = sa.create_engine(local_url(db))
    try:
        with engine.connect() as conn:
            day = conn.execute(sa.text("SELECT max(day) FROM growth.metrics_daily")).scalar()
    finally:
        engine.dispose()
    if not isinstance(day, date):
        raise SystemExit(f"database {db!r} has no growth.metrics_daily rows: build it first")
    return day


def queries(as_of: date) -> list[tuple[str, sa.TextClause, dict[str, Any]]]:
    out = []
    for name, extra in DASHBOARD_QUERIES:
        text = sa.text(sqlfiles.strip_comments(sqlfiles.render(f"bench/{name}")))
        label = name + (f" ({extra['product_id']})" if extra else "")
        out.append((label, text, {"as_of": as_of, **extra}))
    return out


def run(db: str, clients: int, seconds: float) -> dict[str, Any]:
    day = newest_day(db)
    plan = queries(day)
    engine = sa.create_engine(local_url(db), pool_size=clients + 1, max_overflow=0)
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    rebuilds: list[dict[str, Any]] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = 0.0

    def client(n: int) -> None:
        mine: dict[str, list[float]] = defaultdict(list)
        with engine.connect() as conn:
            conn.exec_driver_sql("SET ROLE growth_bi")
            conn.commit()
            start.wait()
            i = n  # clients start at different queries
            while time.monotonic() < deadline:
                label, text, params = plan[i % len(plan)]
                i += 1
                t = time.perf_counter()
                try:
                    conn.execute(text, params).all()
                    conn.commit()
                except Exception as exc:  # every error is a finding: record, go on
                    conn.rollback()
                    with lock:
                        errors.append(f"{label}: {type(exc).__name__}: {exc}"[:500])
                    continue
                mine[label].append((time.perf_counter() - t) * 1000)
        with lock:
            for label, values in mine.items():
                latencies[label].extend(values)

    def rebuilder() -> None:
        start.wait()
        while time.monotonic() < deadline:
            try:
                rebuilds.append(day_refresh(db, day))
            except Exception as exc:
                with lock:
                    errors.append(f"rebuild: {type(exc).__name__}: {exc}"[:500])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    threads.append(threading.Thread(target=rebuilder))
    deadline = time.monotonic() + seconds + 5  # provisional until the barrier opens
    for t in threads:
        t.start()
    deadline = time.monotonic() + seconds
    for t in threads:
        t.join()
    engine.dispose()

    def summary(values: list[float]) -> dict[str, float]:
        return {
            "queries": len(values),
            "p50_ms": round(statistics.median(values), 2),
            "p95_ms": round(percentile(values, 0.95), 2),
            "max_ms": round(max(values), 2),
        }

    every = [v for values in latencies.values() for v in values]
    return {
        "database": db,
        "as_of": str(day),
        "clients": clients,
        "seconds": seconds,
        "errors": errors,
        "all_queries": summary(every) if every else {},
        "per_query": {k: summary(v) for k, v in sorted(latencies.items())},
        "rebuilds": len(rebuilds),
        "rebuild_total_s": [round(r["total_s"], 2) for r in rebuilds],
        "loadavg_1m_end": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("GROWTH_DB", "growth"))
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = run(args.db, args.clients, args.seconds)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    sys.exit(1 if result["errors"] else 0)


if __name__ == "__main__":
    main()
