"""What pseudonymisation costs: the steps that copy user ids out of ``raw``, with and without
``GROWTH_PSEUDONYMISE_KEY``.

``python -m bench.pseudonymise --days 30 --users 20000``: builds a demo world of that size into
a database of its own on the project's cluster (``GROWTH_PG_PORT``), then re-normalises it
from ``raw`` (every normaliser and ``growth/subscriptions`` over the whole range, as single
runs, after ``growth-assets pseudonyms forget``) without a key, with one, and without again,
``--repeat`` times, and prints the seconds of each as JSON; then, to see the hashing apart from
Dagster and the load, stages the whole range of Mixpanel events in a transaction and times
``pseudonymise_staged`` alone (rolled back; median of ``--repeat``). The database is dropped
at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from dagster import DagsterInstance, materialize

from growth_assets.backfill import QUIET, materialize_days
from growth_assets.definitions import ASSETS
from growth_assets.environment import local_url
from growth_assets.models.events import NORMALISERS, _params
from growth_assets.models.pseudonyms import forget_user_ids, pseudonymise_staged
from growth_assets.models.subscriptions import SUBSCRIPTIONS_KEY
from growth_assets.partitions import range_tags
from growth_assets.sources.streams import SOURCES
from resources.clients import DemoSettings, DemoSourceClient
from resources.fx import DemoFxRates
from resources.migrations import migrate
from resources.pseudonyms import KEY_VARIABLE, Pseudonymiser
from resources.settings import ModelSettings, model_settings_from_env
from resources.warehouse import Warehouse

FIRST = date(2024, 11, 1)
BENCH_KEY = "bench-only-key-0123456789abcdef"


def _resources(url: str, demo: DemoSettings) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "warehouse": Warehouse(url=url),
        "settings": model_settings_from_env(os.environ),
        "fx_source": DemoFxRates(demo=demo),
    }
    for source in SOURCES:
        resources[source] = DemoSourceClient(source=source, demo=demo)
    return resources


def _normalise(url: str, demo: DemoSettings, last: date) -> float:
    """Seconds to rebuild growth's user-id steps from raw over the whole range."""
    forget_user_ids(Warehouse(url=url))
    started = time.perf_counter()
    with DagsterInstance.ephemeral() as instance:
        for grain, keys in (
            ("hourly", [n.key for n in NORMALISERS if n.grain == "hourly"]),
            ("daily", [*(n.key for n in NORMALISERS if n.grain == "daily"), SUBSCRIPTIONS_KEY]),
        ):
            materialize(
                ASSETS,
                selection=keys,
                resources=_resources(url, demo),
                instance=instance,
                tags=range_tags(FIRST, last, grain),
                run_config=QUIET,
            )
    return time.perf_counter() - started


def _hashing(url: str, last: date) -> tuple[int, float]:
    """Staged Mixpanel events of the whole range, and the seconds pseudonymise_staged takes."""
    mixpanel = next(n for n in NORMALISERS if n.source == "mixpanel")
    params = {
        **_params(ModelSettings()),
        "source": "mixpanel",
        "stream": "events",
        "window_start": FIRST,
        "window_end": last + timedelta(days=1),
    }
    engine = Warehouse(url=url).engine
    with engine.connect() as conn, conn.begin() as tx:
        Warehouse.run_file(conn, "models/stage_events_table")
        Warehouse.run_file(conn, "models/stage_mixpanel_events", params)
        started = time.perf_counter()
        pseudonymise_staged(conn, Pseudonymiser(BENCH_KEY.encode()), mixpanel.identity_paths)
        seconds = time.perf_counter() - started
        staged = conn.execute(sa.text("SELECT count(*) FROM staged_events")).scalar_one()
        tx.rollback()
    return int(staged), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ.pop(KEY_VARIABLE, None)
    demo = DemoSettings(
        seed=7, start=FIRST.isoformat(), days=args.days, users=args.users, products=10
    )
    last = FIRST + timedelta(days=args.days - 1)
    name = f"growth_privacy_bench_{os.getpid()}"
    admin = sa.create_engine(local_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = local_url(name)
    try:
        migrate(Warehouse(url=url).engine)
        with DagsterInstance.ephemeral() as instance:
            materialize_days(FIRST, last, _resources(url, demo), instance)
        with Warehouse(url=url).engine.connect() as conn:
            events, users = conn.execute(
                sa.text("SELECT count(*), count(DISTINCT user_id) FROM growth.events")
            ).one()
        runs: dict[str, list[float]] = {"off": [], "on": [], "off again": []}
        for _ in range(args.repeat):
            for setting in runs:
                if setting == "on":
                    os.environ[KEY_VARIABLE] = BENCH_KEY
                else:
                    os.environ.pop(KEY_VARIABLE, None)
                runs[setting].append(round(_normalise(url, demo, last), 2))
        os.environ.pop(KEY_VARIABLE, None)
        hashing = [_hashing(url, last) for _ in range(args.repeat)]
        print(
            json.dumps(
                {
                    "events": events,
                    "users": users,
                    "seconds": runs,
                    "mixpanel_staged": hashing[0][0],
                    "pseudonymise_staged_seconds": [round(h[1], 3) for h in hashing],
                    "pseudonymise_staged_median": round(
                        statistics.median(h[1] for h in hashing), 3
                    ),
                }
            )
        )
    finally:
        Warehouse(url=url).engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
