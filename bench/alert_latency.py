"""Alert latency: from the commit of a rollup partition to the alert reaching the receiver.

The issue's target: under ``dagster dev`` (webserver + daemon, the ``metric_alerts`` sensor
evaluated every 5 s) against the warehouse and local receivers, the 95th percentile over at
least 20 trials is under 10 s.

This command starts ``growth-assets dev`` itself (a real ``dagster dev`` with the daemon, on
the warehouse of ``GROWTH_WAREHOUSE_URL`` or the private cluster), with Slack and PagerDuty
pointed at local receivers on 127.0.0.1, waits until the sensor has judged a warm-up trial,
then runs the trials. Each trial:

1. commits, in one transaction, 31 days of ``growth.metrics_daily`` rows for a fresh product
   ``bench-<run>-<n>`` ending on the table's newest day (30 calm days of churn, then a spike),
   so exactly one high alert is due; ``t0`` is taken right after the commit;
2. records the partition's materialisation in the Dagster instance the daemon watches (the
   same event kind a run of ``growth/metrics_daily`` writes; a run-less report, so the
   figure is the alerting path and not the time to launch a run);
3. waits until the local PagerDuty receiver gets the trigger for that product (``t1``).

Latency = t1 - t0. Bench rows (``growth.metrics_daily`` and ``ops.alerts`` for ``bench-*``)
are deleted afterwards. The warehouse must be migrated (``growth-assets dev`` applies the
migrations) and have some ``growth.metrics_daily`` rows (run the demo first).

    .venv/bin/python -m bench.alert_latency --trials 20
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dagster import AssetKey, AssetMaterialization, DagsterInstance

from growth_assets.cli.runtime import REPO_ROOT, apply_dagster_environment
from growth_assets.environment import warehouse_url
from resources.warehouse import Warehouse

SEEN: dict[str, float] = {}  # product → monotonic time of its PagerDuty trigger
_LOCK = threading.Lock()
ROUTING_KEY = "bench-routing-key"


class _Handler(BaseHTTPRequestHandler):
    """Answers like Slack's webhook (200 ``ok``) and PagerDuty's Events API v2 (202)."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        now = time.monotonic()
        if self.path == "/v2/enqueue":
            event = json.loads(body)
            product = event.get("payload", {}).get("group")
            if event.get("event_action") == "trigger" and product:
                with _LOCK:
                    SEEN.setdefault(product, now)
            answer = json.dumps(
                {
                    "status": "success",
                    "message": "Event processed",
                    "dedup_key": event.get("dedup_key"),
                }
            )
            self.send_response(202)
        else:
            answer = "ok"
            self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve() -> str:
    """Start the receiver on a free port; its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


@contextmanager
def dagster_dev(base: str, ui_port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``growth-assets dev`` with alert channels on the local receiver; stopped on exit."""
    env = {
        **os.environ,
        "SLACK_WEBHOOK_URL": f"{base}/services/bench",
        "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
        "PAGERDUTY_EVENTS_URL": f"{base}/v2/enqueue",
        "GROWTH_AUTOMATION": "off",
    }
    env.pop("GROWTH_ALERTS_FILE", None)
    cli = str(Path(sys.executable).parent / "growth-assets")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [cli, "dev", "-p", str(ui_port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _newest_day(warehouse: Warehouse) -> date:
    with warehouse.engine.connect() as conn:
        newest = conn.execute(
            sa.text("SELECT max(day) FROM growth.metrics_daily WHERE product_id NOT LIKE 'bench-%'")
        ).scalar()
    if newest is None:
        raise SystemExit("growth.metrics_daily is empty: run `make demo` first")
    return newest  # type: ignore[no-any-return]


def trial(
    product: str, newest: date, warehouse: Warehouse, instance: DagsterInstance, timeout: float
) -> float:
    """Commit a spike for ``product``, report the materialisation, wait for the page."""
    days = [newest - timedelta(days=30 - i) for i in range(31)]
    churn = [3 + (i % 3) for i in range(30)] + [60]
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO growth.metrics_daily (day, product_id, gross_revenue, refunds, "
                "net_revenue, signups, activations, churned_customers, active_users, "
                "tickets_created, tickets_solved, events) VALUES (:d, :p, 0, 0, 0, 0, 0, :c, 0, "
                "0, 0, 0)"
            ),
            [{"d": d, "p": product, "c": c} for d, c in zip(days, churn, strict=True)],
        )
    t0 = time.monotonic()
    instance.report_runless_asset_event(
        AssetMaterialization(asset_key=AssetKey(["growth", "metrics_daily"]), partition=f"{newest}")
    )
    while time.monotonic() - t0 < timeout:
        with _LOCK:
            if product in SEEN:
                return SEEN[product] - t0
        time.sleep(0.02)
    raise TimeoutError(f"{product}: no PagerDuty trigger within {timeout} s")


def _cleanup(warehouse: Warehouse) -> None:
    with warehouse.transaction() as conn:
        conn.execute(sa.text("DELETE FROM growth.metrics_daily WHERE product_id LIKE 'bench-%'"))
        conn.execute(sa.text("DELETE FROM ops.alerts WHERE product_id LIKE 'bench-%'"))


def summarise(latencies: list[float]) -> dict[str, float]:
    """Median, p95 (nearest rank) and max, in seconds."""
    ordered = sorted(latencies)
    p95 = ordered[max(0, -(-95 * len(ordered) // 100) - 1)]
    return {"median": statistics.median(ordered), "p95": p95, "max": ordered[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--startup-timeout", type=float, default=240.0)
    parser.add_argument("--ui-port", type=int, default=3017)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    apply_dagster_environment()
    base = _serve()
    warehouse = Warehouse(url=warehouse_url())
    newest = _newest_day(warehouse)
    run = time.strftime("%H%M%S")
    latencies: list[float] = []
    log = REPO_ROOT / ".dagster_home" / "alert-latency-dev.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        with DagsterInstance.get() as instance, dagster_dev(base, args.ui_port, log):
            started = time.monotonic()
            warm = trial(f"bench-{run}-warmup", newest, warehouse, instance, args.startup_timeout)
            print(f"dagster dev up, warm-up alert after {warm:.1f} s (excluded)", flush=True)
            for n in range(args.trials):
                time.sleep(1.3)  # land at varying points of the 5 s sensor interval
                latencies.append(
                    trial(f"bench-{run}-{n}", newest, warehouse, instance, args.timeout)
                )
                print(f"trial {n}: {latencies[-1]:.2f} s", flush=True)
            elapsed = time.monotonic() - started
    finally:
        _cleanup(warehouse)
    figures = summarise(latencies)
    print(
        f"{len(latencies)} trials in {elapsed:.0f} s: median {figures['median']:.2f} s, "
        f"p95 {figures['p95']:.2f} s, max {figures['max']:.2f} s"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"trials": latencies, **figures, "target_p95_s": 10.0}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
