"""Sketch: alert latency, from the commit of a rollup partition to the receiver's request.

NOT RUN YET. The issue's target: under ``dagster dev`` (webserver + daemon, the
``metric_alerts`` sensor running every 5 s) against the warehouse and local receivers, the
95th percentile over >= 20 trials is under 10 s.

Method (each trial):
1. commit, in one transaction, 31 days of ``growth.metrics_daily`` rows for a fresh product
   ``bench-<n>`` ending on the table's newest day (30 calm days of churn, then a spike), so
   exactly one high alert is due (``t0`` = right after the commit);
2. record the partition's materialisation in the Dagster instance the daemon watches (the
   same event a real run of ``growth/metrics_daily`` writes);
3. wait until the local PagerDuty receiver gets the trigger for that product (``t1``).
Latency = t1 - t0. The receivers run in this process on fixed ports; start the daemon with

    PAGERDUTY_ROUTING_KEY=bench PAGERDUTY_EVENTS_URL=http://127.0.0.1:8766/v2/enqueue \\
    SLACK_WEBHOOK_URL=http://127.0.0.1:8765/services/bench growth-assets dev

and run ``.venv/bin/python -m bench.alert_latency --trials 20`` with the same
``GROWTH_WAREHOUSE_URL`` and ``DAGSTER_HOME``. Bench rows are deleted afterwards
(``ops.alerts`` rows for ``bench-*`` too).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import sqlalchemy as sa
from dagster import AssetKey, AssetMaterialization, DagsterInstance

from growth_assets.environment import warehouse_url
from resources.warehouse import Warehouse

SEEN: dict[str, float] = {}  # product → monotonic time of the PagerDuty trigger
_LOCK = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        now = time.monotonic()
        if self.path == "/v2/enqueue":
            event = json.loads(body)
            product = event.get("payload", {}).get("group")
            if event.get("event_action") == "trigger" and product:
                with _LOCK:
                    SEEN.setdefault(product, now)
            answer = json.dumps({"status": "success", "dedup_key": event.get("dedup_key")})
            self.send_response(202)
        else:
            answer = "ok"
            self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(port: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def trial(n: int, warehouse: Warehouse, instance: DagsterInstance, timeout: float) -> float:
    product = f"bench-{n}"
    with warehouse.engine.connect() as conn:
        newest = conn.execute(sa.text("SELECT max(day) FROM growth.metrics_daily")).scalar()
    if newest is None:
        raise RuntimeError("growth.metrics_daily is empty: build the demo warehouse first")
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    _serve(8765)
    _serve(8766)
    warehouse = Warehouse(url=warehouse_url())
    latencies = []
    try:
        with DagsterInstance.get() as instance:
            for n in range(args.trials):
                latencies.append(trial(n, warehouse, instance, args.timeout))
                print(f"trial {n}: {latencies[-1]:.2f} s")
    finally:
        with warehouse.transaction() as conn:
            conn.execute(
                sa.text("DELETE FROM growth.metrics_daily WHERE product_id LIKE 'bench-%'")
            )
            conn.execute(sa.text("DELETE FROM ops.alerts WHERE product_id LIKE 'bench-%'"))
    q = statistics.quantiles(latencies, n=20) if len(latencies) >= 2 else latencies
    print(
        f"{len(latencies)} trials: median {statistics.median(latencies):.2f} s, "
        f"p95 {q[-1]:.2f} s, max {max(latencies):.2f} s"
    )


if __name__ == "__main__":
    main()
