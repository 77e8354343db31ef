"""Benchmark harness: runs measurements several times and records medians and spread.

    .venv/bin/python -m bench.run [--scale default|small] [--repeat N]

Measurements so far:

* ``demo_build``: the whole demo from an empty warehouse (migrations, every asset over the
  demo range as single-run backfills, checks), wall time and the peak RSS of the process that
  runs it. Each repetition gets a fresh warehouse database and a fresh Dagster instance
  database on the project's cluster, so runs do not warm each other's tables.

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

from growth_assets.environment import local_url

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


def fresh_databases(tag: str) -> tuple[str, str]:
    admin = sa.create_engine(local_url("postgres"), isolation_level="AUTOCOMMIT")
    names = (f"bench_{tag}_growth", f"bench_{tag}_dagster")
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="default")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    runs = [demo_build(args.scale, i) for i in range(args.repeat)]
    result = {
        "command": " ".join([".venv/bin/python -m bench.run", *sys.argv[1:]]),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "scale": {args.scale: SCALES[args.scale]},
        "demo_build": {
            "wall_s": summarise([r["wall_s"] for r in runs]),
            "peak_rss_mb": summarise([r["peak_rss_mb"] for r in runs]),
            "runs": runs,
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2))
    wall, rss = result["demo_build"]["wall_s"], result["demo_build"]["peak_rss_mb"]
    table = "\n".join(
        [
            f"Command: `{result['command']}` ({result['when']}, {result['machine']['cpus']} cores, "
            f"{result['machine']['memory_gb']} GB, Python {result['machine']['python']})",
            "",
            "| measurement | median | min | max | runs |",
            "| --- | ---: | ---: | ---: | ---: |",
            row("demo build, wall time (s)", wall, "{:.1f}"),
            row("demo build, peak RSS (MB)", rss, "{:.0f}"),
        ]
    )
    (RESULTS / "latest.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
