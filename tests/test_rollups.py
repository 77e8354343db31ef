"""Rollups against a real warehouse: hand-checked numbers, an independent recomputation from
growth.events on the demo world, the Apache and plain tiers giving identical tables, late data
through the sensor, and retention."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, build_sensor_context, materialize

from growth_assets.backfill import materialize_days
from growth_assets.definitions import ASSETS
from growth_assets.jobs import DAILY_JOB, HOURLY_ROLLUPS_JOB, jobs
from growth_assets.models.late_data import (
    GRACE,
    build_late_data_sensor,
    evaluate,
    next_floor,
    read_floor,
)
from growth_assets.partitions import range_tags
from growth_assets.rollups import sqlgen
from growth_assets.rollups.assets import (
    engagement_file,
    month_window,
    refresh_activity,
    refresh_engagement,
    refresh_rollup,
)
from growth_assets.rollups.metrics import ADDITIVE, DISTINCT, METRICS
from growth_assets.rollups.retention import apply_retention, retention
from growth_assets.sources.streams import SOURCES
from resources.clients import DemoSettings, DemoSourceClient
from resources.fx import CsvFxRates, DemoFxRates
from resources.settings import ModelSettings
from resources.warehouse import Tier, Warehouse
from tests import test_pipeline as hand
from tests.sources import static

DAY1, DAY2 = hand.DAY1, hand.DAY2
ROLLUP_TABLES = {
    "growth.metrics_hourly": "hour",
    "growth.metrics_daily": "day",
    "growth.metrics_monthly": "month",
    "growth.engagement_daily": "day",
    "growth.user_activity_daily": "day",
}
DEMO = DemoSettings(seed=5, start="2024-11-01", days=35, users=700, products=4)
DEMO_FIRST, DEMO_LAST = date(2024, 11, 1), date(2024, 12, 5)


def hand_resources(warehouse: Warehouse, tmp_path: Path) -> dict[str, Any]:
    fx = tmp_path / "fx.csv"
    fx.write_text("day,currency,rate\n2024-11-01,EUR,1.08\n2024-11-01,JPY,0.0067\n")
    return {
        "warehouse": warehouse,
        "settings": ModelSettings(),
        "fx_source": CsvFxRates(path=str(fx)),
        "mixpanel": static("mixpanel", events=hand.MIXPANEL),
        "stripe": static("stripe", charges=hand.CHARGES, refunds=hand.REFUNDS, events=hand.EVENTS),
        "zendesk": static("zendesk", tickets=hand.TICKETS),
    }


def demo_resources(warehouse: Warehouse) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "warehouse": warehouse,
        "settings": ModelSettings(),
        "fx_source": DemoFxRates(demo=DEMO),
    }
    for source in SOURCES:
        resources[source] = DemoSourceClient(source=source, demo=DEMO)
    return resources


def build(resources: dict[str, Any], first: date, last: date) -> None:
    with DagsterInstance.ephemeral() as instance:
        _, checks = materialize_days(first, last, resources, instance)
    # quarantine warnings report the rows the data set rejects on purpose
    failed = [c for c in checks if not c.passed and c.severity == "ERROR"]
    assert not failed, failed


def rows(warehouse: Warehouse, table: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    key = ROLLUP_TABLES[table]
    with warehouse.engine.connect() as conn:
        found = conn.execute(sa.text(f"SELECT * FROM {table}")).mappings().all()
    out = {}
    for r in found:
        row = {k: v for k, v in r.items() if k != "updated_at"}
        ident = (str(r[key]), r["product_id"]) + ((r["user_id"],) if "user_id" in r else ())
        out[ident] = row
    return out


def test_hand_checked_hourly_monthly_and_engagement(warehouse: Warehouse, tmp_path: Path) -> None:
    build(hand_resources(warehouse, tmp_path), DAY1, DAY2)
    hourly = rows(warehouse, "growth.metrics_hourly")
    # 29.00 USD at 10:30 and a signup at 10:00 for atlas; the 3000 JPY at 13:30 for beacon
    assert hourly[("2024-11-05 10:00:00+00:00", "atlas")]["gross_revenue"] == Decimal("29.00")
    assert hourly[("2024-11-05 10:00:00+00:00", "atlas")]["signups"] == 1
    assert hourly[("2024-11-05 13:00:00+00:00", "beacon")]["gross_revenue"] == Decimal("20.10")
    assert hourly[("2024-11-05 13:00:00+00:00", "all")]["active_users"] == 1
    assert hourly[("2024-11-05 18:00:00+00:00", "atlas")]["refunds"] == Decimal("9.00")
    # every hour of both days exists for atlas (zeros where quiet); beacon starts on day 2
    assert sum(1 for h, p in hourly if p == "atlas") == 48
    assert sum(1 for h, p in hourly if p == "beacon") == 24

    monthly = rows(warehouse, "growth.metrics_monthly")
    atlas = monthly[("2024-11-01", "atlas")]
    assert atlas["net_revenue"] == Decimal("30.80")
    assert (atlas["signups"], atlas["active_users"], atlas["tickets_created"]) == (2, 2, 2)
    assert monthly[("2024-11-01", "all")]["active_users"] == 3  # u1, u2 (atlas), u3 (beacon)
    assert monthly[("2024-11-01", "all")]["paying_customers"] == 3

    eng = rows(warehouse, "growth.engagement_daily")
    assert (eng[("2024-11-05", "atlas")]["dau"], eng[("2024-11-05", "atlas")]["mau"]) == (2, 2)
    assert eng[("2024-11-05", "atlas")]["stickiness"] == Decimal("1")
    assert eng[("2024-11-05", "all")]["mau"] == 3
    assert eng[("2024-11-04", "atlas")]["mau"] == 0  # day 1 had only a ticket: no active user

    activity = rows(warehouse, "growth.user_activity_daily")
    u1 = activity[("2024-11-05", "atlas", "u1")]
    assert (u1["active"], u1["signed_up"], u1["activated"], u1["paid"], u1["churned"]) == (
        True,
        True,
        True,
        True,
        True,
    )
    assert u1["revenue"] == Decimal("29.00") and u1["refunds"] == Decimal("9.00")


# --- an independent computation over growth.events, in Python ------------------------------


def _events(warehouse: Warehouse) -> list[Any]:
    with warehouse.engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT e.product_id, e.user_id, e.event_type, e.occurred_at, "
                    "e.value_reporting, t.user_initiated "
                    "FROM growth.events AS e JOIN growth.event_types AS t USING (event_type)"
                )
            )
        )


def _matches(m: Any, e: Any) -> bool:
    if m.user_initiated:
        return bool(e.user_initiated)
    return not m.event_types or e.event_type in m.event_types


def independent_metrics(events: list[Any], bucket: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Every metric per (bucket, product) and (bucket, 'all'), straight from the events."""
    sums: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    users: dict[tuple[str, str], dict[str, set[tuple[str, str]]]] = defaultdict(
        lambda: defaultdict(set)
    )
    for e in events:
        b = bucket(e.occurred_at.astimezone(UTC))
        for key in ((b, e.product_id), (b, "all")):
            for m in ADDITIVE:
                if _matches(m, e):
                    sums[key][m.name] += e.value_reporting if m.kind == "sum" else 1
            for m in DISTINCT:
                if _matches(m, e):
                    users[key][m.name].add((e.product_id, e.user_id))
    out = {}
    for key in set(sums) | set(users):
        row = {m.name: sums[key][m.name] for m in ADDITIVE}
        row.update({m.name: len(users[key][m.name]) for m in DISTINCT})
        row["net_revenue"] = row["gross_revenue"] - row["refunds"]
        out[key] = row
    return out


def independent_engagement(events: list[Any]) -> dict[tuple[str, str], tuple[int, int, int]]:
    active: dict[date, set[tuple[str, str]]] = defaultdict(set)
    for e in events:
        if e.user_initiated:
            active[e.occurred_at.astimezone(UTC).date()].add((e.product_id, e.user_id))
    out = {}
    day = DEMO_FIRST
    while day <= DEMO_LAST:

        def window(n: int, day: date = day) -> set[tuple[str, str]]:
            return set().union(*(active[day - timedelta(days=k)] for k in range(n)))

        dau, wau, mau = active[day], window(7), window(30)
        for product in {p for p, _ in mau} | {"all"}:

            def count(s: set[tuple[str, str]], product: str = product) -> int:
                return sum(1 for p, _ in s if product in ("all", p))

            out[(str(day), product)] = (count(dau), count(wau), count(mau))
        day += timedelta(days=1)
    return out


def compare(
    expected: dict[tuple[str, str], dict[str, Any]], table: dict[tuple[Any, ...], dict[str, Any]]
) -> None:
    names = [m.name for m in METRICS]
    for key, row in table.items():
        want = expected.get(key, {})
        got = {n: row[n] for n in names}
        assert got == {n: want.get(n, 0) for n in names}, key
    missing = set(expected) - set(table)
    assert not missing, sorted(missing)[:5]


def check_against_events(warehouse: Warehouse) -> None:
    events = _events(warehouse)
    assert len(events) > 3_000
    compare(
        independent_metrics(events, lambda t: str(t.replace(minute=0, second=0, microsecond=0))),
        rows(warehouse, "growth.metrics_hourly"),
    )
    compare(
        independent_metrics(events, lambda t: str(t.date())),
        rows(warehouse, "growth.metrics_daily"),
    )
    compare(
        independent_metrics(events, lambda t: str(t.date().replace(day=1))),
        rows(warehouse, "growth.metrics_monthly"),
    )
    engagement = rows(warehouse, "growth.engagement_daily")
    expected = independent_engagement(events)
    for key, (dau, wau, mau) in expected.items():
        if mau:
            got = engagement[key]
            assert (got["dau"], got["wau"], got["mau"]) == (dau, wau, mau), key
    for key, row in engagement.items():
        assert (row["dau"], row["wau"], row["mau"]) == expected.get(key, (0, 0, 0)), key


def recounted_totals(warehouse: Warehouse) -> dict[tuple[str, str], tuple[Any, ...]]:
    """growth.user_activity_totals recounted in Python from growth.user_activity_daily:
    (product, user) -> (first day, last day, days, first and last active day, active days,
    revenue, refunds)."""
    with warehouse.engine.connect() as conn:
        days = conn.execute(
            sa.text(
                "SELECT product_id, user_id, day, active, revenue, refunds "
                "FROM growth.user_activity_daily"
            )
        ).all()
    by_user: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in days:
        by_user[(r.product_id, r.user_id)].append(r)
    out = {}
    for key, rs in by_user.items():
        active = [r.day for r in rs if r.active]
        out[key] = (
            min(r.day for r in rs),
            max(r.day for r in rs),
            len(rs),
            min(active, default=None),
            max(active, default=None),
            len(active),
            sum((r.revenue for r in rs), Decimal(0)),
            sum((r.refunds for r in rs), Decimal(0)),
        )
    return out


def stored_totals(warehouse: Warehouse) -> dict[tuple[str, str], tuple[Any, ...]]:
    with warehouse.engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT product_id, user_id, first_day, last_day, days, first_active_day, "
                "last_active_day, active_days, revenue, refunds FROM growth.user_activity_totals"
            )
        ).all()
    return {(r[0], r[1]): tuple(r[2:]) for r in found}


def day_window(first: date, last: date | None = None) -> dict[str, datetime]:
    stop = (last or first) + timedelta(days=1)
    return {
        "window_start": datetime(first.year, first.month, first.day, tzinfo=UTC),
        "window_end": datetime(stop.year, stop.month, stop.day, tzinfo=UTC),
    }


def check_day_refresh_equals_build(warehouse: Warehouse) -> None:
    """After a build of the whole range (one run: engagement by the sweep form), refreshing
    single days and two-day windows the way their partitions run (engagement by the
    short-window form) rewrites every rollup row to exactly what the build wrote, and the
    short-window form run over the whole range gives the sweep's numbers too."""
    built = {table: rows(warehouse, table) for table in ROLLUP_TABLES}
    assert all(built.values())
    totals = stored_totals(warehouse)
    assert totals == recounted_totals(warehouse)
    assert engagement_file(*day_window(DEMO_LAST).values()) == "rollups/engagement_daily_recent"
    assert (
        engagement_file(*day_window(DEMO_FIRST, DEMO_LAST).values()) == "rollups/engagement_daily"
    )
    windows = [
        day_window(DEMO_FIRST),  # no history before it
        day_window(date(2024, 11, 30)),  # a month's last day
        day_window(date(2024, 11, 30), date(2024, 12, 1)),  # two days across the boundary
        day_window(DEMO_LAST),
    ]
    for params in windows:
        refresh_activity(warehouse, params)
        for grain in (sqlgen.HOURLY, sqlgen.DAILY):
            refresh_rollup(warehouse, grain, params)
        start, end = month_window(params["window_start"], params["window_end"])
        refresh_rollup(warehouse, sqlgen.MONTHLY, {"window_start": start, "window_end": end})
        assert refresh_engagement(warehouse, params) > 0
        for table, before in built.items():
            assert rows(warehouse, table) == before, (table, params)
        assert stored_totals(warehouse) == totals, params
    with warehouse.transaction() as conn:
        Warehouse.run_file(
            conn, "rollups/engagement_daily_recent", day_window(DEMO_FIRST, DEMO_LAST)
        )
    assert rows(warehouse, "growth.engagement_daily") == built["growth.engagement_daily"]


def test_rollups_match_events_and_the_apache_and_plain_tiers_agree(
    warehouse: Warehouse, plain_warehouse: Warehouse, server_has_timescaledb: bool
) -> None:
    """The demo world (4 products, 35 days across a month boundary) on both tiers: every
    rollup row equals a computation in Python over growth.events, a day's refresh equals the
    build, and the two tiers' tables are identical."""
    build(demo_resources(plain_warehouse), DEMO_FIRST, DEMO_LAST)
    check_against_events(plain_warehouse)
    check_day_refresh_equals_build(plain_warehouse)
    if not server_has_timescaledb:
        pytest.skip("the server has no TimescaleDB: only the plain tier ran")
    assert warehouse.tier() is Tier.APACHE and plain_warehouse.tier() is Tier.NONE
    build(demo_resources(warehouse), DEMO_FIRST, DEMO_LAST)
    check_day_refresh_equals_build(warehouse)
    for table in ROLLUP_TABLES:
        apache, plain = rows(warehouse, table), rows(plain_warehouse, table)
        assert apache, table
        assert apache == plain, table


# --- late data ------------------------------------------------------------------------------


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    with DagsterInstance.ephemeral() as inst:
        yield inst


def late_charge() -> dict[str, Any]:
    return hand.charge("ch_late", "atlas", "u2", 5000, "usd", hand.ts(21, 15, day=DAY1))


def revenue(warehouse: Warehouse) -> tuple[Decimal, Decimal, Decimal]:
    with warehouse.engine.connect() as conn:
        daily = conn.execute(
            sa.text(
                "SELECT gross_revenue FROM growth.metrics_daily "
                "WHERE day = :d AND product_id = 'atlas'"
            ),
            {"d": DAY1},
        ).scalar_one()
        monthly = conn.execute(
            sa.text(
                "SELECT gross_revenue FROM growth.metrics_monthly "
                "WHERE month = '2024-11-01' AND product_id = 'atlas'"
            )
        ).scalar_one()
        hourly = conn.execute(
            sa.text(
                "SELECT gross_revenue FROM growth.metrics_hourly "
                "WHERE hour = '2024-11-04 21:00+00' AND product_id = 'atlas'"
            )
        ).scalar_one()
    return daily, monthly, hourly


def test_late_event_rebuilds_yesterday_and_its_month(
    warehouse: Warehouse, tmp_path: Path, instance: DagsterInstance
) -> None:
    resources = hand_resources(warehouse, tmp_path)
    materialize_days(DAY1, DAY2, resources, instance)
    assert revenue(warehouse) == (Decimal("0"), Decimal("39.80"), Decimal("0"))
    sensor = build_late_data_sensor(jobs())

    # First tick: every mark predates the rollups built after it, so nothing is requested.
    first = sensor(build_sensor_context(instance=instance, resources={"warehouse": warehouse}))
    assert first.run_requests == []
    with warehouse.engine.connect() as conn:
        newest = conn.execute(sa.text("SELECT max(marked_at) FROM ops.stale_windows")).scalar_one()
    assert json.loads(first.cursor or "")["newest"] == newest.isoformat()

    # A charge of DAY1 21:15 arrives late; re-normalising its hour marks it stale.
    resources["stripe"] = static(
        "stripe", charges=[*hand.CHARGES, late_charge()], refunds=hand.REFUNDS, events=hand.EVENTS
    )
    result = materialize(
        ASSETS,
        selection=["raw/stripe_charges", "growth/events/stripe"],
        resources=resources,
        instance=instance,
        tags=range_tags(DAY1, DAY1, "hourly"),
    )
    assert result.success
    assert revenue(warehouse) == (Decimal("0"), Decimal("39.80"), Decimal("0"))  # not yet

    second = sensor(
        build_sensor_context(
            cursor=first.cursor, instance=instance, resources={"warehouse": warehouse}
        )
    )
    with warehouse.engine.connect() as conn:
        late_mark = conn.execute(
            sa.text(
                "SELECT marked_at FROM ops.stale_windows "
                "WHERE window_start = '2024-11-04 21:00+00' AND source = 'stripe'"
            )
        ).scalar_one()
    assert json.loads(second.cursor or "")["newest"] == late_mark.isoformat()
    requests = {r.job_name: r for r in second.run_requests}
    assert set(requests) == {DAILY_JOB, HOURLY_ROLLUPS_JOB}
    daily = requests[DAILY_JOB]
    # DAY1 for the rollups; DAY2 as well because DAY1 is inside DAY2's trailing WAU/MAU.
    assert daily.tags["dagster/asset_partition_range_start"] == "2024-11-04"
    assert daily.tags["dagster/asset_partition_range_end"] == "2024-11-05"
    assert {k.to_user_string() for k in daily.asset_selection or []} == {
        "growth/users",
        "growth/user_activity_daily",
        "growth/metrics_daily",
        "growth/metrics_monthly",
        "growth/engagement_daily",
        "growth/growth_accounting",
        "growth/retention_triangle",
        "growth/cohort_ltv",
        "growth/feature_adoption",
        "growth/power_users",
        "growth/mrr_monthly",
        "growth/funnel_conversion",
        "growth/north_star",
        "growth/customer_360",
    }
    hourly = requests[HOURLY_ROLLUPS_JOB]
    assert (
        hourly.tags["dagster/asset_partition_range_start"],
        hourly.tags["dagster/asset_partition_range_end"],
    ) == ("2024-11-04", "2024-11-04")

    for request in second.run_requests:
        assert materialize(
            ASSETS,
            selection=request.asset_selection,
            resources=resources,
            instance=instance,
            tags=request.tags,
        ).success
    assert revenue(warehouse) == (Decimal("50.00"), Decimal("89.80"), Decimal("50.00"))

    # Rebuilt partitions are fresh: the next tick (re-reading the grace period) asks nothing.
    third = sensor(
        build_sensor_context(
            cursor=second.cursor, instance=instance, resources={"warehouse": warehouse}
        )
    )
    assert third.run_requests == []
    assert json.loads(third.cursor or "")["newest"] == late_mark.isoformat()

    # Once the marks are older than the grace period the floor reaches the newest mark, and
    # later ticks stop re-reading them (a backfill's marks are not re-read forever).
    later = late_mark + GRACE + timedelta(minutes=1)
    fourth = evaluate(
        build_sensor_context(cursor=third.cursor, instance=instance), warehouse, now=later
    )
    assert read_floor(fourth.cursor) == late_mark
    fifth = evaluate(build_sensor_context(cursor=fourth.cursor, instance=instance), warehouse)
    assert fifth.run_requests == []
    assert fifth.skip_reason and fifth.skip_reason.skip_message == "no late-data marks"


def test_user_activity_totals_follow_every_window_replace(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """growth.user_activity_totals equals a recount of growth.user_activity_daily after a
    full build, after windows replaced out of order (the first with no other day in the
    table: rebuilt whole; the next user by user), and after a replace that moves a user's
    first active day and removes a user's only day."""
    build(hand_resources(warehouse, tmp_path), DAY1, DAY2)
    assert stored_totals(warehouse) == recounted_totals(warehouse)
    # two more users: 'both' active on both days, 'first' on DAY1 only (with a revenue event)
    extra = [
        ("both", DAY1, "engagement"),
        ("both", DAY2, "engagement"),
        ("first", DAY1, "engagement"),
        ("last", DAY1, "engagement"),
        ("last", DAY2, "engagement"),
    ]
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO growth.events (event_id, occurred_at, product_id, source, stream, "
                "source_id, event_type, user_id, value, currency, value_reporting) "
                "VALUES (gen_random_uuid(), :at, 'atlas', 'mixpanel', 'events', :sid, :type, "
                ":user, :value, :currency, :value)"
            ),
            [
                {
                    "at": datetime(d.year, d.month, d.day, 12, tzinfo=UTC),
                    "sid": f"{u}-{d}-{t}",
                    "type": t,
                    "user": u,
                    "value": None,
                    "currency": None,
                }
                for u, d, t in extra
            ]
            + [
                {
                    "at": datetime(DAY1.year, DAY1.month, DAY1.day, 13, tzinfo=UTC),
                    "sid": "first-revenue",
                    "type": "revenue",
                    "user": "first",
                    "value": Decimal("12.50"),
                    "currency": "USD",
                }
            ],
        )
    refresh_activity(warehouse, day_window(DAY1, DAY2))  # nothing outside: rebuilt whole
    whole = recounted_totals(warehouse)
    assert stored_totals(warehouse) == whole
    both, only = ("atlas", "both"), ("atlas", "first")
    assert whole[both][3:6] == (DAY1, DAY2, 2)
    assert whole[only][3:7] == (DAY1, DAY1, 1, Decimal("12.50"))

    with warehouse.transaction() as conn:
        conn.execute(sa.text("TRUNCATE growth.user_activity_daily, growth.user_activity_totals"))
    refresh_activity(warehouse, day_window(DAY2))  # nothing outside: rebuilt whole
    assert stored_totals(warehouse) == recounted_totals(warehouse)
    refresh_activity(warehouse, day_window(DAY1))  # DAY2 outside: the window's users
    assert stored_totals(warehouse) == whole

    # DAY1's events of 'both' and of 'first' go; DAY1 again
    with warehouse.transaction() as conn:
        for product_id, user_id in (both, only):
            conn.execute(
                sa.text(
                    "DELETE FROM growth.events WHERE product_id = :p AND user_id = :u "
                    "AND occurred_at >= :window_start AND occurred_at < :window_end"
                ),
                {"p": product_id, "u": user_id, **day_window(DAY1)},
            )
    refresh_activity(warehouse, day_window(DAY1))
    after = stored_totals(warehouse)
    assert after == recounted_totals(warehouse)
    assert after[both][0] == after[both][3] == DAY2  # first (active) day moved
    assert only not in after  # no day left: no row
    assert set(after) == set(whole) - {only}

    # DAY2's events of 'last' go: its last (active) day falls back to DAY1
    last = ("atlas", "last")
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "DELETE FROM growth.events WHERE product_id = :p AND user_id = :u "
                "AND occurred_at >= :window_start AND occurred_at < :window_end"
            ),
            {"p": last[0], "u": last[1], **day_window(DAY2)},
        )
    refresh_activity(warehouse, day_window(DAY2))
    after = stored_totals(warehouse)
    assert after == recounted_totals(warehouse)
    assert after[last][:3] == (DAY1, DAY1, 1) and after[last][4] == DAY1

    # a late refund for 'last' on DAY1, a day it already has: only the money changes
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO growth.events (event_id, occurred_at, product_id, source, stream, "
                "source_id, event_type, user_id, value, currency, value_reporting) "
                "VALUES (gen_random_uuid(), :at, 'atlas', 'mixpanel', 'events', 'last-refund', "
                "'refund', 'last', 4, 'USD', 4)"
            ),
            {"at": datetime(DAY1.year, DAY1.month, DAY1.day, 18, tzinfo=UTC)},
        )
    refresh_activity(warehouse, day_window(DAY1))
    after = stored_totals(warehouse)
    assert after == recounted_totals(warehouse)
    assert after[last][:3] == (DAY1, DAY1, 1) and after[last][-1] == Decimal("4")


def test_late_data_cursor_floor() -> None:
    t = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert read_floor(None) is None
    assert read_floor(t.isoformat()) == t - GRACE  # a cursor of an earlier version
    assert next_floor(None, t, now=t + timedelta(minutes=1)) == t + timedelta(minutes=1) - GRACE
    assert next_floor(None, t, now=t + GRACE * 2) == t
    assert next_floor(t, t - timedelta(hours=1), now=t + GRACE * 2) == t  # never back


def test_sensor_leaves_partitions_never_built_to_the_schedule(
    warehouse: Warehouse, tmp_path: Path, instance: DagsterInstance
) -> None:
    resources = hand_resources(warehouse, tmp_path)
    # Only the events are built: marks exist, but no rollup partition was ever materialised.
    materialize(
        ASSETS,
        selection=["growth/fx_rates"],
        resources=resources,
        instance=instance,
    )
    materialize(
        ASSETS,
        selection=[k for k in hand_keys()],
        resources=resources,
        instance=instance,
        tags=range_tags(DAY1, DAY2, "hourly"),
    )
    result = build_late_data_sensor(jobs())(
        build_sensor_context(instance=instance, resources={"warehouse": warehouse})
    )
    assert result.run_requests == []
    assert result.cursor is not None


def hand_keys() -> list[str]:
    from growth_assets.jobs import HOURLY_KEYS

    return [k.to_user_string() for k in HOURLY_KEYS]


# --- retention ------------------------------------------------------------------------------


def test_retention_is_identical_on_apache_and_plain(
    warehouse: Warehouse, plain_warehouse: Warehouse, tmp_path: Path
) -> None:
    settings = ModelSettings(
        retention_events_days=0, retention_hourly_days=1, retention_stale_marks_days=1
    )
    now = datetime(2024, 11, 5, 12, tzinfo=UTC)  # keeps hours from 2024-11-04 12:00 on
    reports = {}
    for wh in (warehouse, plain_warehouse):
        build(hand_resources(wh, tmp_path), DAY1, DAY2)
        reports[wh.tier()] = apply_retention(wh, settings, now)
    assert rows(warehouse, "growth.metrics_hourly") == rows(
        plain_warehouse, "growth.metrics_hourly"
    )
    kept = rows(plain_warehouse, "growth.metrics_hourly")
    assert min(h for h, _ in kept) == "2024-11-04 12:00:00+00:00"
    assert reports[Tier.NONE]["growth.metrics_hourly"]["rows_deleted"] == 24  # atlas, all: 12 h
    assert reports[Tier.NONE]["growth.events"] == {"kept": "all"}
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM growth.events")).scalar_one() > 0

    # The asset as scheduled: nothing older than the (now real-time) horizon remains.
    result = materialize(
        [retention], resources={"warehouse": plain_warehouse, "settings": settings}
    )
    (check,) = result.get_asset_check_evaluations()
    assert check.passed
    assert rows(plain_warehouse, "growth.metrics_hourly") == {}  # 2024 is older than a day


def test_month_window() -> None:
    def d(s: str) -> datetime:
        return datetime.fromisoformat(s).replace(tzinfo=UTC)

    assert month_window(d("2024-11-04"), d("2024-11-06")) == (d("2024-11-01"), d("2024-12-01"))
    assert month_window(d("2024-11-30"), d("2024-12-01")) == (d("2024-11-01"), d("2024-12-01"))
    assert month_window(d("2024-12-31"), d("2025-01-02")) == (d("2024-12-01"), d("2025-02-01"))


def test_community_table_refresh_over_views_standing_in_for_the_caggs(
    warehouse: Warehouse, tmp_path: Path, server_has_timescaledb: bool
) -> None:
    """The community tier cannot run here (Apache build). Its generated cagg queries, created
    as ordinary views, and its table refresh from them must reproduce the Apache tables."""
    if not server_has_timescaledb:
        pytest.skip("time_bucket needs TimescaleDB")
    build(hand_resources(warehouse, tmp_path), DAY1, DAY2)
    before = {t: rows(warehouse, t) for t in ("growth.metrics_hourly", "growth.metrics_daily")}
    before["growth.metrics_monthly"] = rows(warehouse, "growth.metrics_monthly")
    with warehouse.transaction() as conn:
        for grain in sqlgen.GRAINS.values():
            body = sqlgen.cagg_sql(grain)
            body = body.replace(
                f"MATERIALIZED VIEW IF NOT EXISTS {grain.cagg}", f"VIEW {grain.cagg}"
            )
            body = re.sub(r"WITH \(timescaledb[^)]*\) AS", "AS", body).replace("WITH NO DATA", "")
            conn.execute(sa.text(body))
        windows = {
            "hourly": (datetime(2024, 11, 4, tzinfo=UTC), datetime(2024, 11, 6, tzinfo=UTC)),
            "daily": (datetime(2024, 11, 4, tzinfo=UTC), datetime(2024, 11, 6, tzinfo=UTC)),
            "monthly": (datetime(2024, 11, 1, tzinfo=UTC), datetime(2024, 12, 1, tzinfo=UTC)),
        }
        for name, (start, end) in windows.items():
            for stmt in sqlgen.refresh_sql(sqlgen.GRAINS[name], Tier.COMMUNITY):
                conn.execute(sa.text(stmt), {"window_start": start, "window_end": end})
    for table, old in before.items():
        assert rows(warehouse, table) == old, table
