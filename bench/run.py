"""Benchmark harness: runs measurements several times and records medians and spread.

    .venv/bin/python -m bench.run [--scale default|small] [--repeat N] [--only NAME ...]

Measurements (``--only`` picks some; all by default):

* ``demo_build``: the whole demo from an empty warehouse (migrations, every asset over the
  demo range as single-run backfills, checks), wall time and the peak RSS of the process that
  runs it. Each repetition gets a fresh warehouse database and a fresh Dagster instance
  database on the project's cluster, so runs do not warm each other's tables.
* ``ingest``: the demo's Mixpanel payloads through the pipeline's load path without Dagster
  (raw upsert, then canonical events), against a binary ``COPY`` of the same canonical rows
  into an unindexed table in the same repetition (``bench/ingest.py``).
* ``peer_dlt``: the first ``PEER_DAYS`` days of those payloads loaded by our path and by dlt
  into fresh databases of the same server, in the same repetition (``bench/peer_dlt.py``;
  needs the ``bench`` extra, which ``make bench`` installs).
* ``design_build``, ``scale``, ``incremental``, ``bi_latency``, ``orchestration``: the model
  benchmarks on generated warehouses (``bench/models.py``; worlds of canonical events written
  by ``bench/generate.py``, models built by the project's assets). ``--sizes`` sets the scale
  points (events), ``--bi-events`` / ``--incremental-events`` the world those two use.
* ``day_refresh``: one day's rollup refresh and the dashboard queries on a short world
  (``--refresh-days``, 120 by default) with the daily density of the ``--bi-events`` world,
  its rollups built by the project's SQL without Dagster (``bench.models.short_world_refresh``):
  minutes instead of the hour the 20M world's generation and build take.

Results go to ``bench/results/latest.json`` and ``bench/results/latest.md`` with the machine
description and the exact command; BENCHMARKS.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench import ingest, models, peer_dlt
from growth_assets.environment import local_url
from resources.clients import DemoSettings

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
SCALES = {
    "default": {"GROWTH_DEMO_USERS": "50000", "GROWTH_DEMO_DAYS": "730"},
    "small": {"GROWTH_DEMO_USERS": "5000", "GROWTH_DEMO_DAYS": "90"},
}


def machine() -> dict[str, Any]:
    mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gb": round(int(mem) / 1024 / 1024, 1),
    }


PEER_DAYS = 365


def fresh_databases(tag: str, suffixes: tuple[str, ...] = ("growth", "dagster")) -> tuple[str, ...]:
    admin = sa.create_engine(local_url("postgres"), isolation_level="AUTOCOMMIT")
    names = tuple(f"bench_{tag}_{suffix}" for suffix in suffixes)
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return names


def demo_build(scale: str, rep: int) -> dict[str, Any]:
    growth_db, dagster_db = fresh_databases(f"demo_{rep}")
    env = {
        **os.environ,
        **SCALES[scale],
        "GROWTH_WAREHOUSE_URL": local_url(growth_db),
        "DAGSTER_PG_URL": local_url(dagster_db, driver="postgresql+psycopg2"),
    }
    started = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-v", str(REPO / ".venv/bin/growth-assets"), "demo"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(
            f"demo failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}"
        )
    peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))  # type: ignore[union-attr]
    steps = dict(re.findall(r"^  (\S.*?)\s{2,}([\d.]+) s$", proc.stdout, flags=re.MULTILINE))
    return {
        "wall_s": wall,
        "peak_rss_mb": peak_kb / 1024,
        "steps_s": {k: float(v) for k, v in steps.items()},
    }


def summarise(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def row(label: str, s: dict[str, float], fmt: str) -> str:
    cells = [fmt.format(s[k]) for k in ("median", "min", "max")]
    return f"| {label} | {' | '.join(cells)} | {int(s['n'])} |"


def demo_settings(scale: str) -> DemoSettings:
    cfg = SCALES[scale]
    return DemoSettings(users=int(cfg["GROWTH_DEMO_USERS"]), days=int(cfg["GROWTH_DEMO_DAYS"]))


def ingest_run(records: list[dict[str, Any]], rep: int) -> dict[str, Any]:
    (db,) = fresh_databases(f"ingest_{rep}", ("growth",))
    r = ingest.measure(local_url(db), records)
    return {
        **r,
        "raw_rows_per_s": r["raw_rows"] / r["raw_s"],
        "canonical_rows_per_s": r["events"] / r["canonical_s"],
        "end_to_end_rows_per_s": r["events"] / (r["raw_s"] + r["canonical_s"]),
        "copy_rows_per_s": r["events"] / r["copy_s"],
        "canonical_vs_copy": (r["events"] / r["canonical_s"]) / (r["events"] / r["copy_s"]),
    }


def peer_run(records: list[dict[str, Any]], rep: int) -> dict[str, Any]:
    ours_db, dlt_db = fresh_databases(f"peer_{rep}", ("ours", "dlt"))
    ours = ingest.measure(local_url(ours_db), records, copy_limit=False)
    theirs = peer_dlt.measure(local_url(dlt_db), records, f"r{rep}")
    keys = peer_dlt.reconcile(local_url(ours_db), local_url(dlt_db))
    ours_s = ours["raw_s"] + ours["canonical_s"]
    return {
        "records": len(records),
        "ours_s": ours_s,
        "ours_raw_s": ours["raw_s"],
        "ours_raw_rows": ours["raw_rows"],
        "ours_events": ours["events"],
        "dlt_s": theirs["seconds"],
        "dlt_rows": theirs["rows"],
        "speedup": theirs["seconds"] / ours_s,
        "speedup_raw_only": theirs["seconds"] / ours["raw_s"],
        "ours_ingest_rejects": keys["ours_ingest_rejects"],
        "keys_only_dlt": keys["only_dlt"],
        "keys_only_ours": keys["only_ours"],
    }


MEASUREMENTS = [
    "demo_build",
    "ingest",
    "peer_dlt",
    "design_build",
    "orchestration",
    "scale",
    "bi_latency",
    "day_refresh",
    "incremental",
]


def model_measurements(
    chosen: list[str], args: argparse.Namespace, result: dict[str, Any], built: models.Built
) -> list[str]:
    """Measurements 3, 4, 5, 6 and 8 (``bench/models.py``); fills ``result``, returns rows."""
    rows: list[str] = []
    design = models.design_world(args.design_users, args.design_days)
    if "design_build" in chosen:
        runs = models.design_build(args.repeat, design)
        keys: tuple[tuple[str, str, str], ...] = (
            ("build_s", "design scale: build of every model and check (s)", "{:.1f}"),
            (
                "growth_analytics_s",
                "design scale: growth-analytics assets (cohorts + SaaS steps) (s)",
                "{:.1f}",
            ),
            ("peak_rss_mb", "design scale: build, peak RSS of the process (MB)", "{:.0f}"),
            (
                "server_peak_private_mb",
                "design scale: server backends, peak private (MB)",
                "{:.0f}",
            ),
            ("pandas_s", "design scale: pandas, same metrics (s)", "{:.1f}"),
            ("pandas_rss_mb", "design scale: pandas, peak RSS (MB)", "{:.0f}"),
            ("pandas_vs_build", "design scale: pandas time / build time", "{:.1f}×"),
        )
        result["design_build"] = {
            "events": runs[0]["events"],
            **{k: summarise([r[k] for r in runs]) for k, _, _ in keys},
            "runs": runs,
        }
        rows += [row(label, result["design_build"][k], fmt) for k, label, fmt in keys]
    if "orchestration" in chosen:
        orch = models.orchestration(args.repeat, built, design)
        result["orchestration"] = orch
        for executor in ("in_process", "multiprocess"):
            runs = orch[executor]
            for r in runs:
                r["wall_vs_sql"] = r["wall_s"] / max(r["sql_s"], 1e-9)
                r["wall_vs_steps"] = r["process_wall_s"] / max(r["steps_s"], 1e-9)
            keys = (
                ("process_wall_s", f"hourly run, {executor}: process wall (s)", "{:.1f}"),
                ("wall_s", f"hourly run, {executor}: runs' wall, imports excluded (s)", "{:.1f}"),
                ("steps_s", f"hourly run, {executor}: inside steps (s)", "{:.1f}"),
                ("sql_s", f"hourly run, {executor}: SQL, this process (s)", "{:.2f}"),
                ("wall_vs_sql", f"hourly run, {executor}: runs' wall / SQL", "{:.1f}×"),
            )
            orch[f"{executor}_summary"] = {k: summarise([r[k] for r in runs]) for k, _, _ in keys}
            rows += [row(label, orch[f"{executor}_summary"][k], fmt) for k, label, fmt in keys]
    if "scale" in chosen:
        result["scale"] = {}
        for events in args.sizes:
            # A 20M build takes most of an hour here: points above 10M run once.
            reps = args.repeat if events < 10_000_000 else 1
            runs = [models.scale_run(events, rep, built) for rep in range(reps)]
            keys = (
                ("build_s", "build time (s)", "{:.1f}"),
                ("peak_rss_mb", "build, peak RSS (MB)", "{:.0f}"),
                ("server_peak_private_mb", "server backends, peak private (MB)", "{:.0f}"),
            )
            entry = {k: summarise([r[k] for r in runs]) for k, _, _ in keys}
            result["scale"][str(events)] = {"events": runs[0]["events"], **entry, "runs": runs}
            rows += [
                row(f"{runs[0]['events']:,} events: {label}", entry[k], fmt)
                for k, label, fmt in keys
            ]
    if "bi_latency" in chosen:
        bi = models.bi_latency(args.bi_events, max(3, args.repeat), args.samples, built)
        refresh = summarise([r["total_s"] for r in bi["day_refresh"]])
        bi["day_refresh_summary"] = refresh
        result["bi_latency"] = bi
        rows.append(
            row(f"{bi['events']:,} events: one day's rollup refresh (s)", refresh, "{:.2f}")
        )
        for name, q in bi["queries"].items():
            rows.append(
                f"| {name}: p50 / p95 / max (ms) | {q['p50_ms']:.1f} | {q['p95_ms']:.1f} | "
                f"{q['max_ms']:.1f} | {q['samples']} |"
            )
    if "day_refresh" in chosen:
        short = models.short_world_refresh(
            args.refresh_days, max(3, args.repeat), args.samples, args.bi_events
        )
        short["day_refresh_summary"] = summarise([r["total_s"] for r in short["day_refresh"]])
        result["day_refresh"] = short
        label = f"{short['world']['days']}-day world ({short['events']:,} events)"
        rows.append(
            row(f"{label}: one day's rollup refresh (s)", short["day_refresh_summary"], "{:.2f}")
        )
        for part in (
            "user_activity_daily",
            "metrics_hourly",
            "metrics_daily",
            "metrics_monthly",
            "engagement_daily",
        ):
            rows.append(
                row(
                    f"{label}: … {part} (s)",
                    summarise([r[f"{part}_s"] for r in short["day_refresh"]]),
                    "{:.2f}",
                )
            )
        for name, q in short["queries"].items():
            rows.append(
                f"| {label}: {name}: p50 / p95 / max (ms) | {q['p50_ms']:.1f} | "
                f"{q['p95_ms']:.1f} | {q['max_ms']:.1f} | {q['samples']} |"
            )
    if "incremental" in chosen:
        inc = models.incremental(args.incremental_events, max(3, args.repeat), built)
        for history in ("month", "year"):
            runs = inc["runs"][history]
            inc[f"{history}_wall_s"] = summarise([r["process_wall_s"] for r in runs])
            inc[f"{history}_sql_s"] = summarise([r["sql_s"] for r in runs])
            rows += [
                row(
                    f"new day after a {history} of history: wall (s)",
                    inc[f"{history}_wall_s"],
                    "{:.1f}",
                ),
                row(
                    f"new day after a {history} of history: SQL (s)",
                    inc[f"{history}_sql_s"],
                    "{:.2f}",
                ),
            ]
        inc["year_vs_month_wall"] = inc["year_wall_s"]["median"] / inc["month_wall_s"]["median"]
        inc["year_vs_month_sql"] = inc["year_sql_s"]["median"] / inc["month_sql_s"]["median"]
        rows.append(
            f"| year / month history, wall; SQL | {inc['year_vs_month_wall']:.2f}× | "
            f"{inc['year_vs_month_sql']:.2f}× | | |"
        )
        result["incremental"] = inc
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="default")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=MEASUREMENTS, default=None)
    parser.add_argument("--sizes", nargs="+", type=int, default=[1_000_000, 5_000_000, 20_000_000])
    parser.add_argument("--bi-events", type=int, default=20_000_000)
    parser.add_argument(
        "--refresh-days",
        type=int,
        default=120,
        help="day_refresh: length of the short world with the --bi-events world's daily density",
    )
    parser.add_argument("--incremental-events", type=int, default=20_000_000)
    parser.add_argument("--samples", type=int, default=50, help="dashboard query samples")
    parser.add_argument("--design-users", type=int, default=models.DESIGN_USERS)
    parser.add_argument("--design-days", type=int, default=models.DESIGN_DAYS)
    parser.add_argument("--output", default="latest", help="results file stem under bench/results/")
    args = parser.parse_args()
    chosen = args.only or list(MEASUREMENTS)

    result: dict[str, Any] = {
        "command": " ".join([".venv/bin/python -m bench.run", *sys.argv[1:]]),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "scale": {args.scale: SCALES[args.scale]},
    }
    rows: list[str] = []
    if "demo_build" in chosen:
        runs = [demo_build(args.scale, i) for i in range(args.repeat)]
        wall = summarise([r["wall_s"] for r in runs])
        rss = summarise([r["peak_rss_mb"] for r in runs])
        result["demo_build"] = {"wall_s": wall, "peak_rss_mb": rss, "runs": runs}
        rows += [
            row("demo build, wall time (s)", wall, "{:.1f}"),
            row("demo build, peak RSS (MB)", rss, "{:.0f}"),
        ]
    if "ingest" in chosen or "peer_dlt" in chosen:
        demo = demo_settings(args.scale)
        records = ingest.mixpanel_records(demo)
    if "ingest" in chosen:
        runs = [ingest_run(records, i) for i in range(args.repeat)]
        keys: tuple[tuple[str, str, str], ...] = (
            ("copy_rows_per_s", "binary COPY into an unindexed table (rows/s)", "{:,.0f}"),
            ("raw_rows_per_s", "raw load: key, COPY, upsert, rejects (rows/s)", "{:,.0f}"),
            ("canonical_rows_per_s", "canonical load: validate, ids, replace (rows/s)", "{:,.0f}"),
            ("end_to_end_rows_per_s", "payloads to canonical events (rows/s)", "{:,.0f}"),
            ("canonical_vs_copy", "canonical load / binary COPY", "{:.0%}"),
        )
        result["ingest"] = {
            "records": runs[0]["records"],
            "events": runs[0]["events"],
            **{k: summarise([r[k] for r in runs]) for k, _, _ in keys},
            "runs": runs,
        }
        rows += [row(label, result["ingest"][k], fmt) for k, label, fmt in keys]
    if "peer_dlt" in chosen:
        sample = ingest.mixpanel_records(demo, PEER_DAYS)
        runs = [peer_run(sample, i) for i in range(args.repeat)]
        keys = (
            ("ours_s", f"{len(sample):,} payloads, ours (s)", "{:.1f}"),
            ("dlt_s", f"{len(sample):,} payloads, dlt (s)", "{:.1f}"),
            ("speedup", "dlt time / our time (raw + canonical)", "{:.1f}×"),
            ("speedup_raw_only", "dlt time / our raw load time", "{:.1f}×"),
            ("dlt_rows", "rows dlt kept", "{:,.0f}"),
            ("ours_raw_rows", "rows our raw table kept", "{:,.0f}"),
            ("ours_ingest_rejects", "records we rejected at ingest, kept with a reason", "{:,.0f}"),
            ("keys_only_dlt", "keys dlt kept that we neither kept nor rejected", "{:,.0f}"),
            ("keys_only_ours", "keys we kept or rejected that dlt did not keep", "{:,.0f}"),
        )
        result["peer_dlt"] = {
            "days": PEER_DAYS,
            **{k: summarise([r[k] for r in runs]) for k, _, _ in keys},
            "runs": runs,
        }
        rows += [row(label, result["peer_dlt"][k], fmt) for k, label, fmt in keys]

    built = models.Built(prefix=f"bench{os.getpid()}")
    try:
        rows += model_measurements(chosen, args, result, built)
    finally:
        built.drop_all()

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(result, indent=2, default=str))
    table = "\n".join(
        [
            f"Command: `{result['command']}` ({result['when']}, {result['machine']['cpus']} cores, "
            f"{result['machine']['memory_gb']} GB, Python {result['machine']['python']})",
            "",
            "| measurement | median | min | max | runs |",
            "| --- | ---: | ---: | ---: | ---: |",
            *rows,
        ]
    )
    (RESULTS / f"{args.output}.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
