"""Idempotency as a property: however a history of events is loaded, the warehouse converges.

Hypothesis draws a set of Mixpanel events over three days (some duplicated by the source, some
invalid, some arriving late), then loads them the messy way: random partition ranges in random
order (single days and overlapping backfills) while only the early events are available, then
again in random ranges once the late ones have arrived, then one more re-run of a random range.
The result must digest equal to one clean load of every event.

Compared: raw.mixpanel_events, growth.events, ops.rejected_events, growth.users,
growth.user_activity_daily and growth.metrics_daily (each a function of its own window's
inputs; a reject's ``partition``, the label of the run range that wrote it, is left out). Not
compared: ops.stale_windows (it records the history of changes, which differs by
design) and the trailing-window rollups (engagement_daily's WAU/MAU read earlier days, so a day
built before its predecessors is rebuilt through ops.stale_windows / automation, not by order).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dagster import DagsterInstance, materialize
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from growth_assets.definitions import ASSETS
from growth_assets.models.daily import METRICS_DAILY_KEY, USERS_KEY
from growth_assets.models.events import NORMALISERS
from growth_assets.partitions import range_tags
from growth_assets.rollups.assets import USER_ACTIVITY_DAILY_KEY
from growth_assets.sources.streams import streams_of
from resources.fx import CsvFxRates
from resources.settings import ModelSettings
from resources.warehouse import Warehouse
from tests.reliability import digests
from tests.sources import static

DAYS = [date(2024, 11, 4) + timedelta(days=i) for i in range(3)]
HOURLY = [
    next(s.asset_key for s in streams_of("mixpanel") if s.stream == "events"),
    next(n.key for n in NORMALISERS if n.source == "mixpanel"),
]
DAILY = [USERS_KEY, USER_ACTIVITY_DAILY_KEY, METRICS_DAILY_KEY]
COMPARED = {
    "raw.mixpanel_events",
    "growth.events",
    "ops.rejected_events",
    "growth.users",
    "growth.user_activity_daily",
    "growth.metrics_daily",
}
# The label of the run range that wrote a reject: bookkeeping of the run, not data.
RUN_LABELS = frozenset({"ops.rejected_events.partition"})
NAMES = ["Sign Up", "Session Started", "Activated", "Legacy Ping"]  # the last is unmapped


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[bool]]:
    n = draw(st.integers(1, 25))
    events, late = [], []
    for i in range(n):
        day = draw(st.sampled_from(DAYS))
        at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
            minutes=draw(st.integers(0, 24 * 60 - 1))
        )
        props: dict[str, Any] = {
            "time": int(at.timestamp()),
            "product_id": draw(st.sampled_from(["atlas", "beacon"])),
            "$insert_id": f"i{i}",
        }
        user = draw(st.sampled_from(["u1", "u2", "u3", None]))
        if user is not None:
            props["distinct_id"] = user
        events.append({"event": draw(st.sampled_from(NAMES)), "properties": props})
        late.append(draw(st.booleans()))
        if draw(st.integers(0, 5)) == 0:  # Mixpanel repeats records
            events.append(events[-1])
            late.append(late[-1])
    return events, late


day_ranges = st.tuples(st.integers(0, 2), st.integers(0, 2)).map(lambda r: (min(r), max(r)))


def load(resources: dict[str, Any], first: int, last: int) -> None:
    with DagsterInstance.ephemeral() as instance:
        for keys, grain in ((HOURLY, "hourly"), (DAILY, "daily")):
            result = materialize(
                ASSETS,
                selection=keys,
                resources=resources,
                instance=instance,
                tags=range_tags(DAYS[first], DAYS[last], grain),
            )
            assert result.success


def reset(warehouse: Warehouse) -> None:
    with warehouse.engine.begin() as conn:
        conn.execute(
            sa.text(
                "TRUNCATE raw.mixpanel_events, growth.events, growth.users, "
                "growth.user_activity_daily, growth.metrics_daily, ops.rejected_events, "
                "ops.stale_windows"
            )
        )


def covering(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``ranges`` plus single days for any day they miss."""
    covered = {d for a, b in ranges for d in range(a, b + 1)}
    return ranges + [(d, d) for d in range(3) if d not in covered]


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=histories(),
    early_runs=st.lists(day_ranges, min_size=1, max_size=3),
    late_runs=st.lists(day_ranges, min_size=0, max_size=3),
    rerun=day_ranges,
)
def test_messy_loads_converge_to_one_clean_load(
    warehouse: Warehouse,
    tmp_path: Path,
    history: tuple[list[dict[str, Any]], list[bool]],
    early_runs: list[tuple[int, int]],
    late_runs: list[tuple[int, int]],
    rerun: tuple[int, int],
) -> None:
    events, late = history
    fx = tmp_path / "fx.csv"
    fx.write_text("day,currency,rate\n2024-11-01,EUR,1.08\n")

    def resources(records: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "warehouse": warehouse,
            "settings": ModelSettings(),
            "fx_source": CsvFxRates(path=str(fx)),
            "mixpanel": static("mixpanel", events=records),
            "stripe": static("stripe"),
            "zendesk": static("zendesk"),
        }

    everything = resources(events)
    early = resources([e for e, is_late in zip(events, late, strict=True) if not is_late])

    reset(warehouse)
    load(everything, 0, 2)
    clean = digests(warehouse, COMPARED, RUN_LABELS)

    reset(warehouse)
    for first, last in early_runs:
        load(early, first, last)
    for first, last in covering(late_runs):
        load(everything, first, last)
    load(everything, *rerun)
    assert digests(warehouse, COMPARED, RUN_LABELS) == clean
