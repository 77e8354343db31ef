"""Cohort assets on hand-computed data: growth accounting, retention triangles, LTV, power
users and feature adoption, with the edge cases of DESIGN.md's definitions (a user active
only in their first period, a resurrection after a two-period gap, an empty period, an ISO
week that crosses the year end, money before the first activity, a paying user never active).

The weeks of the fixture (ISO, Monday start):
W0 2024-12-16, W1 2024-12-23 (holds Sunday 12-29), W2 2024-12-30 (holds 2025-01-01),
W3 2025-01-06, W4 2025-01-13 (nobody active), W5 2025-01-20.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, materialize

from growth_assets.cohorts import histogram
from growth_assets.cohorts.assets import COHORT_ASSETS
from growth_assets.cohorts.histogram import ACTIVITY_SCHEMA, Day, coded_days, count
from growth_assets.partitions import range_tags
from resources.features import FeatureConfigError, FeatureSpec, features_json, load_features
from resources.settings import ModelSettings, model_settings_from_env
from resources.warehouse import Warehouse
from tests.cohort_data import (
    Event,
    at,
    build_cohorts,
    load_events,
    load_subscriptions,
    load_users,
)

FIRST, LAST = date(2024, 12, 16), date(2025, 1, 20)
D = Decimal


def engagement(product: str, user: str, day: str, feature: str | None = None) -> Event:
    return (product, user, at(day), "engagement", None, {"feature": feature} if feature else {})


EVENTS: list[Event] = [
    # u1: W0, W1 (Sunday 12-29), W2 (2025-01-01): retained twice across the year end
    engagement("p", "u1", "2024-12-16", "dashboards"),
    ("p", "u1", at("2024-12-16", 13), "revenue", D("10.00"), {}),
    engagement("p", "u1", "2024-12-29"),
    engagement("p", "u1", "2025-01-01"),
    ("p", "u1", at("2025-01-08", 9), "refund", D("4.00"), {}),
    # u2: active in their first period only
    engagement("p", "u2", "2024-12-17", "dashboards"),
    engagement("p", "u2", "2024-12-17", "exports"),
    # u3: W0, then two weeks away, back in W3 (resurrected); a plan from W0
    ("p", "u3", at("2024-12-18"), "signup", None, {}),
    ("p", "u3", at("2025-01-08"), "key_action", None, {}),
    # u4: pays in W1 before first being active in W2; back in W5 after the empty W4
    ("p", "u4", at("2024-12-28"), "revenue", D("7.00"), {}),
    engagement("p", "u4", "2024-12-30", "exports"),
    engagement("p", "u4", "2025-01-20"),
    ("p", "u4", at("2025-01-20", 15), "revenue", D("20.00"), {}),
    # u9: pays but never active: in no cohort
    ("p", "u9", at("2024-12-20"), "revenue", D("5.00"), {}),
    # q/u5: W1 and W2
    engagement("q", "u5", "2024-12-23"),
    engagement("q", "u5", "2024-12-30", "dashboards"),
]
# A segment value with a comma, quotes and a line break: the triangle is copied in and out
# of PostgreSQL as CSV (growth_assets/cohorts/triangle.py).
HOSTILE_CHANNEL = 'referral, "partner"\nline two'
USERS = [
    ("p", "u1", at("2024-12-16", 0), "organic", "US"),
    ("p", "u2", at("2024-12-17", 0), "organic", "DE"),
    ("p", "u3", at("2024-12-18", 0), "paid_search", "US"),
    ("p", "u4", at("2024-12-28", 0), None, "US"),
    ("p", "u9", at("2024-12-20", 0), "organic", "US"),
    ("q", "u5", at("2024-12-23", 0), HOSTILE_CHANNEL, "FR"),
]
SUBSCRIPTIONS = [
    ("sub_3", "p", "u3", "price_pro", at("2024-12-18", 14), at("2025-01-02")),
    ("sub_4", "p", "u4", "price_starter", at("2025-01-25"), None),  # after its cohort
]
ACCOUNTING = [
    "active_users",
    "new_users",
    "retained_users",
    "resurrected_users",
    "churned_users",
    "previous_active_users",
    "quick_ratio",
    "retention_rate",
]


@pytest.fixture(scope="module")
def hand(admin: sa.Engine) -> Any:
    """The fixture's warehouse, built once for the module (each test only reads it)."""
    from tests.conftest import _warehouse

    gen = _warehouse(admin, "auto")
    warehouse = next(gen)
    load_events(warehouse, EVENTS)
    load_users(warehouse, USERS)
    load_subscriptions(warehouse, SUBSCRIPTIONS)
    checks = build_cohorts(warehouse, FIRST, LAST)
    yield warehouse, checks
    gen.close()


def query(warehouse: Warehouse, sql: str, **params: Any) -> list[Any]:
    with warehouse.engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


def accounting(warehouse: Warehouse, grain: str, product: str) -> dict[str, tuple[Any, ...]]:
    rows = query(
        warehouse,
        f"SELECT period, {', '.join(ACCOUNTING)} FROM analytics.growth_accounting "
        "WHERE grain = :g AND product_id = :p ORDER BY period",
        g=grain,
        p=product,
    )
    return {str(r[0]): tuple(r[1:]) for r in rows}


def test_weekly_growth_accounting_by_hand(hand: Any) -> None:
    warehouse, _ = hand
    N = None  # noqa: N806 (reads as a table cell)
    assert accounting(warehouse, "week", "p") == {
        # active, new, retained, resurrected, churned, previous, quick ratio, retention
        "2024-12-16": (3, 3, 0, 0, 0, 0, N, N),
        "2024-12-23": (1, 0, 1, 0, 2, 3, D("0"), D("0.333333")),
        "2024-12-30": (2, 1, 1, 0, 0, 1, N, D("1")),  # ISO week across the year end
        "2025-01-06": (1, 0, 0, 1, 2, 2, D("0.5"), D("0")),  # u3 after a two-week gap
        "2025-01-13": (0, 0, 0, 0, 1, 1, D("0"), D("0")),  # the empty week keeps its row
        "2025-01-20": (1, 0, 0, 1, 0, 0, N, N),  # u4 resurrected after the empty week
    }
    assert accounting(warehouse, "week", "q") == {
        "2024-12-23": (1, 1, 0, 0, 0, 0, N, N),
        "2024-12-30": (1, 0, 1, 0, 0, 1, N, D("1")),
        "2025-01-06": (0, 0, 0, 0, 1, 1, D("0"), D("0")),
        "2025-01-13": (0, 0, 0, 0, 0, 0, N, N),
        "2025-01-20": (0, 0, 0, 0, 0, 0, N, N),
    }
    portfolio = accounting(warehouse, "week", "all")
    assert portfolio["2024-12-30"][:6] == (3, 1, 2, 0, 0, 2)


@pytest.mark.parametrize("grain, period", [("week", "2024-12-23"), ("day", "2024-12-29")])
def test_growth_accounting_check_recounts_active_users(hand: Any, grain: str, period: str) -> None:
    """The check's recount of distinct active users (and its other conditions) catch a row
    whose identity still holds but whose active users are one too many."""
    warehouse, _ = hand
    params = {"window_start": at(FIRST.isoformat(), 0)}
    with warehouse.engine.connect() as conn, conn.begin() as tx:
        (clean,) = Warehouse.fetch_file(conn, "cohorts/check_growth_accounting", params)
        conn.execute(
            sa.text(
                "UPDATE growth.growth_accounting SET active_users = active_users + 1, "
                "new_users = new_users + 1 "
                "WHERE grain = :g AND product_id = 'p' AND period = CAST(:p AS date)"
            ),
            {"g": grain, "p": period},
        )
        (bad,) = Warehouse.fetch_file(conn, "cohorts/check_growth_accounting", params)
        tx.rollback()
    assert (clean.identity, clean.previous, clean.all_rows, clean.recount) == (0, 0, 0, 0)
    assert (bad.identity, bad.recount, bad.all_rows) == (0, 1, 1)
    assert bad.previous == 1  # the next period's previous_active_users no longer matches


def test_monthly_and_daily_growth_accounting_by_hand(hand: Any) -> None:
    warehouse, _ = hand
    assert accounting(warehouse, "month", "p") == {
        "2024-12-01": (4, 4, 0, 0, 0, 0, None, None),
        "2025-01-01": (3, 0, 3, 0, 1, 4, D("0"), D("0.75")),
    }
    daily = accounting(warehouse, "day", "p")
    assert daily["2024-12-17"][:6] == (1, 1, 0, 0, 1, 1)  # u2 new, u1 churned
    assert daily["2024-12-19"][:6] == (0, 0, 0, 0, 1, 1)  # u3 churned, nobody active
    assert daily["2024-12-31"][:6] == (0, 0, 0, 0, 1, 1)  # u4 (12-30) churned
    assert daily["2025-01-01"][:6] == (1, 0, 0, 1, 0, 0)  # u1 back after 12-29
    assert len(daily) == (LAST - FIRST).days + 1  # every day, empty ones included


def triangle(warehouse: Warehouse, grain: str, product: str, seg: str, value: str) -> Any:
    rows = query(
        warehouse,
        "SELECT cohort, period_offset, cohort_size, active_users, unbounded_users, "
        "retention_rate FROM analytics.retention_triangle WHERE grain = :g AND product_id = :p "
        "AND segment_type = :t AND segment = :s ORDER BY cohort, period_offset",
        g=grain,
        p=product,
        t=seg,
        s=value,
    )
    out: dict[str, list[tuple[int, int, int]]] = {}
    for r in rows:
        out.setdefault(str(r.cohort), []).append((r.cohort_size, r.active_users, r.unbounded_users))
    return out


def test_retention_triangle_by_hand(hand: Any) -> None:
    warehouse, _ = hand
    # (cohort size, N-period, unbounded) for offsets 0 .. periods elapsed
    assert triangle(warehouse, "week", "p", "all", "all") == {
        "2024-12-16": [(3, 3, 3), (3, 1, 2), (3, 1, 2), (3, 1, 1), (3, 0, 0), (3, 0, 0)],
        "2024-12-30": [(1, 1, 1), (1, 0, 1), (1, 0, 1), (1, 1, 1)],
    }
    assert triangle(warehouse, "week", "all", "all", "all")["2024-12-23"] == [
        (1, 1, 1),
        (1, 1, 1),
        (1, 0, 0),
        (1, 0, 0),
        (1, 0, 0),
    ]
    assert triangle(warehouse, "month", "p", "all", "all") == {
        "2024-12-01": [(4, 4, 4), (4, 3, 3)],
    }
    assert triangle(warehouse, "week", "p", "channel", "organic")["2024-12-16"][:2] == [
        (2, 2, 2),
        (2, 1, 1),
    ]
    assert list(triangle(warehouse, "week", "p", "channel", "unknown")) == ["2024-12-30"]
    assert triangle(warehouse, "week", "q", "channel", HOSTILE_CHANNEL) == {
        "2024-12-23": [(1, 1, 1), (1, 1, 1), (1, 0, 0), (1, 0, 0), (1, 0, 0)],
    }
    assert triangle(warehouse, "week", "p", "plan", "price_pro")["2024-12-16"][3] == (1, 1, 1)
    assert triangle(warehouse, "week", "p", "plan", "none")["2024-12-16"][0] == (2, 2, 2)
    # u4's subscription starts after its cohort week and month
    assert "2024-12-30" in triangle(warehouse, "week", "p", "plan", "none")
    rates = query(
        warehouse,
        "SELECT period_0, period_1, period_3, period_5, period_6 FROM analytics.retention_heatmap "
        "WHERE grain = 'week' AND product_id = 'p' AND segment_type = 'all' "
        "AND cohort = '2024-12-16' AND variant = 'n_period'",
    )
    assert rates == [(D("1"), D("0.333333"), D("0.333333"), D("0"), None)]


def test_cohort_ltv_by_hand(hand: Any) -> None:
    warehouse, _ = hand
    rows = query(
        warehouse,
        "SELECT cohort, period_offset, cohort_size, net_revenue, cumulative_net_revenue, ltv "
        "FROM analytics.cohort_ltv WHERE grain = 'week' AND product_id = 'p' "
        "ORDER BY cohort, period_offset",
    )
    got = [
        (str(r.cohort), r.period_offset, r.net_revenue, r.cumulative_net_revenue, r.ltv)
        for r in rows
    ]
    assert got == [
        ("2024-12-16", 0, D("10"), D("10"), D("3.333333")),
        ("2024-12-16", 1, D("0"), D("10"), D("3.333333")),
        ("2024-12-16", 2, D("0"), D("10"), D("3.333333")),
        ("2024-12-16", 3, D("-4"), D("6"), D("2")),  # u1's refund
        ("2024-12-16", 4, D("0"), D("6"), D("2")),
        ("2024-12-16", 5, D("0"), D("6"), D("2")),
        ("2024-12-30", 0, D("7"), D("7"), D("7")),  # paid before the first activity
        ("2024-12-30", 1, D("0"), D("7"), D("7")),
        ("2024-12-30", 2, D("0"), D("7"), D("7")),
        ("2024-12-30", 3, D("20"), D("27"), D("27")),
    ]
    monthly = query(
        warehouse,
        "SELECT period_offset, cumulative_net_revenue FROM analytics.cohort_ltv "
        "WHERE grain = 'month' AND product_id = 'all' ORDER BY period_offset",
    )
    assert monthly == [(0, D("17")), (1, D("33"))]  # u9's 5.00 belongs to no cohort


def days_of(activity: list[tuple[int, int]], product: int = 0) -> list[Day]:
    """(user number, d) active days as :func:`count` reads them: one entry per day, in order."""
    by_day: dict[int, list[int]] = {}
    for user, d in activity:
        by_day.setdefault(d, []).append(user)
    return [
        (d, np.array(users, np.int64), np.full(len(users), product, np.int64))
        for d, users in sorted(by_day.items())
    ]


def test_power_user_histogram_folds_days_before_the_window() -> None:
    """The trailing counts alone: days are offsets from the window's first day; days before
    it count only while they are inside the trailing window."""
    activity = [(1, -10), (1, 0), (1, 3), (2, -7), (3, -6), (3, 4)]
    counted = count(days_of(activity), 5, 1)

    def rows(window: int) -> list[tuple[int, int, int]]:
        mine = counted.filter(pl.col("window_days") == window)
        return sorted(mine.select("d", "active_days", "users").iter_rows())

    # L7 of day d counts active days in [d-6, d]: a has 0 (and 3 from day 3); b (-7) never
    # counts; c has -6 on day 0 only, then 4 from day 4.
    assert rows(7) == [(0, 1, 2), (1, 1, 1), (2, 1, 1), (3, 2, 1), (4, 1, 1), (4, 2, 1)]
    # L28: a has -10 and 0 (3 from day 3); b has -7; c has -6 (and 4 from day 4).
    assert rows(28) == [
        (0, 1, 2), (0, 2, 1), (1, 1, 2), (1, 2, 1), (2, 1, 2), (2, 2, 1),
        (3, 1, 2), (3, 3, 1), (4, 1, 1), (4, 2, 1), (4, 3, 1),
    ]  # fmt: skip
    assert count([], 5, 1).is_empty()


def test_power_user_histogram_keeps_products_apart_and_counts_to_the_window() -> None:
    """Two products' users move only their own product's buckets; a user active every day
    reaches L7 = 7 and L28 = 28 (the top bucket) and stays there."""
    every_day = [(1, d) for d in range(-27, 40)]
    other = [(2, d) for d in range(0, 40, 2)]
    merged = {d: (u, p) for d, u, p in days_of(every_day)}
    for d, u, p in days_of(other, product=1):
        merged[d] = (np.concatenate([merged[d][0], u]), np.concatenate([merged[d][1], p]))
    days = [(d, u, p) for d, (u, p) in sorted(merged.items())]
    counted = count(days, 40, 2)
    top = counted.filter(pl.col("product") == 0).select("window_days", "active_days", "users")
    assert top.unique().sort("window_days").rows() == [(7, 7, 1), (28, 28, 1)]
    second = counted.filter((pl.col("product") == 1) & (pl.col("d") == 39))
    # the other user, active on even days: 3 of the last 7 (34, 36, 38), 14 of the last 28
    assert sorted(second.select("window_days", "active_days").rows()) == [(7, 3), (28, 14)]


def test_power_user_histogram_refuses_days_out_of_order() -> None:
    days = days_of([(1, 3), (2, 1)])
    with pytest.raises(ValueError, match="out of order"):
        count(list(reversed(days)), 5, 1)
    with pytest.raises(ValueError, match="out of order or out of range"):
        count(days_of([(1, 9)]), 5, 1)


def test_power_user_days_are_numbered_alike_across_frames() -> None:
    """Frames cut in the middle of a day (as COPY chunks are) give one entry per day; a
    (product, user) pair has the same number in every frame, ids that differ only by their
    escaping are told apart, the same id in two products is two users, and rows of a product
    not asked for are skipped."""
    hexed = {p: p.encode().hex() for p in ("p", "q", "x")}
    frames = [
        pl.DataFrame(
            {"d": [0, 1], "product": [hexed["p"], hexed["p"]], "users": ["a b\\sc", "a"]},
            schema=ACTIVITY_SCHEMA,
        ),
        pl.DataFrame(
            {
                "d": [1, 1, 2],
                "product": [hexed["q"], hexed["x"], hexed["p"]],
                "users": ["a", "zz", "b\\sc b"],
            },
            schema=ACTIVITY_SCHEMA,
        ),
    ]
    days = list(coded_days(frames, ["p", "q"]))
    assert [d for d, _, _ in days] == [0, 1, 2]
    (_, u0, p0), (_, u1, p1), (_, u2, p2) = days
    a_p, b_sc, a_q = int(u0[0]), int(u0[1]), int(u1[1])
    assert p0.tolist() == [0, 0] and p1.tolist() == [0, 1] and p2.tolist() == [0, 0]
    assert u1.tolist() == [a_p, a_q] and len({a_p, b_sc, a_q}) == 3
    # the same token again; "b" is a user of its own
    assert u2[0] == b_sc and u2[1] not in (a_p, b_sc, a_q)


def test_power_users_by_hand(hand: Any) -> None:
    warehouse, _ = hand
    rows = query(
        warehouse,
        "SELECT day, window_days, active_days, users FROM analytics.power_users "
        "WHERE product_id = 'p' AND day IN ('2024-12-30', '2025-01-08') "
        "ORDER BY day, window_days, active_days",
    )
    assert [(str(r.day), r.window_days, r.active_days, r.users) for r in rows] == [
        ("2024-12-30", 7, 1, 2),  # u1 (12-29), u4 (12-30)
        ("2024-12-30", 28, 1, 3),  # u2, u3, u4
        ("2024-12-30", 28, 2, 1),  # u1: 12-16, 12-29
        ("2025-01-08", 7, 1, 1),  # u3
        ("2025-01-08", 28, 1, 2),  # u2, u4
        ("2025-01-08", 28, 2, 1),  # u3: 12-18, 01-08
        ("2025-01-08", 28, 3, 1),  # u1: 12-16, 12-29, 01-01
    ]


# ids that escaping must tell apart ("a b" is written "a\\sb" in the COPY stream, so the id
# "a\\sb" must stay another user) and that a naive split or CSV parse would break
HOSTILE_IDS = ["a b", "a\\sb", "a\\\\sb", "tab\there", "new\nline", 'quo"te', "comma,x", "ü ß"]


def test_power_users_with_hostile_ids_in_frames_cut_mid_day(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Power users over user and product ids holding spaces, backslashes, tabs, line breaks,
    quotes and commas, read in frames of a few bytes (every day split between frames), equal
    a count by hand: per day, window and product, the users by active days in the window."""
    monkeypatch.setattr(histogram, "CHUNK_BYTES", 16)
    first = date(2024, 12, 1)
    active: dict[tuple[str, str], set[date]] = {}
    events: list[Event] = []
    for i, user in enumerate(HOSTILE_IDS):
        for product in ("p q", "p"):
            days = {first + timedelta(days=(i * 3 + k * (5 + i)) % 40) for k in range(6)}
            active[(product, user)] = days
            events += [engagement(product, user, str(d)) for d in sorted(days)]
    load_events(warehouse, events)
    load_users(warehouse, [(p, u, at(str(min(d)), 0), None, None) for (p, u), d in active.items()])
    build_cohorts(warehouse, first, first + timedelta(days=39))

    expected = trailing_counts(active, first, 40)
    rows = query(
        warehouse, "SELECT day, product_id, window_days, active_days, users FROM growth.power_users"
    )
    assert len(expected) > 500
    assert {tuple(r[:4]): r[4] for r in rows} == expected

    # An empty id (refused at load, "missing user id") written by hand, alone in its product
    # (an empty field in the stream): read as the empty string, not as a missing value.
    day = first + timedelta(days=3)
    load_users(warehouse, [("solo", "", at(str(day), 0), None, None)])
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO growth.user_activity_daily (day, product_id, user_id, events, "
                "user_events, revenue, refunds, active, signed_up, activated, paid, churned) "
                "VALUES (:day, 'solo', '', 1, 1, 0, 0, true, false, false, false, false)"
            ),
            {"day": day},
        )
        histogram.rebuild(conn, at(str(first), 0), at(str(first + timedelta(days=40)), 0))
    active[("solo", "")] = {day}
    rows = query(
        warehouse, "SELECT day, product_id, window_days, active_days, users FROM growth.power_users"
    )
    assert {tuple(r[:4]): r[4] for r in rows} == trailing_counts(active, first, 40)


def test_power_users_failing_mid_read_roll_back(
    warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error while the activity is still streaming (the COPY open) fails the rebuild with
    that error and rolls it back: the COPY is cancelled first, since an open one would block
    the rollback for ever."""
    load_events(warehouse, EVENTS)
    load_users(warehouse, USERS)
    build_cohorts(warehouse, FIRST, LAST)
    table = "SELECT * FROM growth.power_users ORDER BY day, product_id, window_days, active_days"
    before = query(warehouse, table)
    monkeypatch.setattr(histogram, "CHUNK_BYTES", 16)  # a frame per row: the COPY stays open

    def failing(days: Iterable[Day], span: int, products: int) -> pl.DataFrame:
        next(iter(days))
        raise RuntimeError("counting failed")

    monkeypatch.setattr(histogram, "count", failing)
    outcome: dict[str, str] = {}

    def rebuild() -> None:
        try:
            with warehouse.transaction() as conn:
                histogram.rebuild(conn, at(str(FIRST), 0), at(str(LAST + timedelta(days=1)), 0))
        except RuntimeError as error:
            outcome["error"] = str(error)

    worker = threading.Thread(target=rebuild, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the failed rebuild hung in its rollback"
    assert outcome == {"error": "counting failed"}
    assert query(warehouse, table) == before


def trailing_counts(
    active: dict[tuple[str, str], set[date]], first: date, span: int
) -> dict[tuple[Any, ...], int]:
    """(day, product or 'all', window, active days) -> users, counted by hand."""
    expected: Counter[tuple[Any, ...]] = Counter()
    for (product, _), days in active.items():
        for t in (first + timedelta(days=n) for n in range(span)):
            for w in (7, 28):
                n = sum(1 for d in days if t - timedelta(days=w) < d <= t)
                if n:
                    expected[(t, product, w, n)] += 1
                    expected[(t, "all", w, n)] += 1
    return dict(expected)


def test_feature_adoption_by_hand(hand: Any) -> None:
    warehouse, checks = hand
    rows = query(
        warehouse,
        "SELECT grain, period, product_id, feature, active_users, feature_users, adoption "
        "FROM analytics.feature_adoption WHERE (grain, period) IN "
        "(('week', '2024-12-16'), ('week', '2024-12-30'), ('month', '2024-12-01')) "
        "ORDER BY grain, period, product_id, feature",
    )
    got = [
        (
            r.grain,
            str(r.period),
            r.product_id,
            r.feature,
            r.active_users,
            r.feature_users,
            r.adoption,
        )
        for r in rows
    ]
    assert got == [
        ("month", "2024-12-01", "all", "dashboards", 5, 3, D("0.6")),
        ("month", "2024-12-01", "all", "exports", 5, 2, D("0.4")),
        ("month", "2024-12-01", "p", "dashboards", 4, 2, D("0.5")),
        ("month", "2024-12-01", "p", "exports", 4, 2, D("0.5")),
        ("month", "2024-12-01", "q", "dashboards", 1, 1, D("1")),
        ("week", "2024-12-16", "all", "dashboards", 3, 2, D("0.666667")),
        ("week", "2024-12-16", "all", "exports", 3, 1, D("0.333333")),
        ("week", "2024-12-16", "p", "dashboards", 3, 2, D("0.666667")),
        ("week", "2024-12-16", "p", "exports", 3, 1, D("0.333333")),
        ("week", "2024-12-30", "all", "dashboards", 3, 1, D("0.333333")),
        ("week", "2024-12-30", "all", "exports", 3, 1, D("0.333333")),
        ("week", "2024-12-30", "p", "exports", 2, 1, D("0.5")),
        ("week", "2024-12-30", "q", "dashboards", 1, 1, D("1")),
    ]
    assert "api" in checks["shares_valid"]["features_not_seen"]


def test_configured_features(hand: Any, tmp_path: Path) -> None:
    """Only the configured features are measured; a TOML file can rename and re-target one."""
    warehouse, _ = hand
    spec = tmp_path / "features.toml"
    spec.write_text('[[features]]\nname = "csv_export"\nvalue = "exports"\n')
    settings = model_settings_from_env({"GROWTH_FEATURES": str(spec)})
    assert [f.name for f in settings.features] == ["csv_export"]
    with DagsterInstance.ephemeral() as instance:
        assert materialize(
            [a for a in COHORT_ASSETS if a.key.path[-1] == "feature_adoption"],
            resources={"warehouse": warehouse, "settings": settings},
            instance=instance,
            tags=range_tags(date(2024, 12, 30), date(2024, 12, 30), "daily"),
        ).success
    rows = query(
        warehouse,
        "SELECT DISTINCT feature FROM growth.feature_adoption WHERE grain = 'week' "
        "AND period = '2024-12-30'",
    )
    assert rows == [("csv_export",)]
    # restore the default features for the other tests of the module
    build_cohorts(warehouse, date(2024, 12, 30), date(2024, 12, 30))


def test_feature_settings() -> None:
    assert [f.name for f in load_features("dashboards, api")] == ["dashboards", "api"]
    assert '"event_type": "engagement"' in features_json([FeatureSpec(name="api")])
    with pytest.raises(FeatureConfigError, match="unique"):
        load_features("api,api")
    with pytest.raises(FeatureConfigError, match="no such file"):
        load_features("/nonexistent/features.toml")
    assert len(ModelSettings().features) == 10


def test_reruns_converge(hand: Any) -> None:
    """Single days re-run in any order leave every table exactly as the full build did."""
    warehouse, _ = hand
    before = snapshot(warehouse)
    for day in (date(2025, 1, 1), date(2024, 12, 16), date(2025, 1, 14)):
        build_cohorts(warehouse, day, day)
    assert snapshot(warehouse) == before


TABLES = {
    "growth.growth_accounting": "grain, product_id, period",
    "growth.retention_triangle": "grain, product_id, segment_type, segment, cohort, period_offset",
    "growth.cohort_ltv": "grain, product_id, cohort, period_offset",
    "growth.power_users": "day, product_id, window_days, active_days",
    "growth.feature_adoption": "grain, product_id, period, feature",
}


def snapshot(warehouse: Warehouse) -> dict[str, list[Any]]:
    out = {}
    for table, order in TABLES.items():
        rows = query(warehouse, f"SELECT * FROM {table} ORDER BY {order}")
        out[table] = [tuple(v for k, v in r._mapping.items() if k != "updated_at") for r in rows]
    return out


COHORT_VIEWS = [
    "growth_accounting",
    "retention_triangle",
    "retention_heatmap",
    "cohort_ltv",
    "power_users",
    "feature_adoption",
]


def test_bi_role_and_product_scope(hand: Any) -> None:
    """growth_bi reads every cohort view; a product reader sees only its product's rows."""
    import uuid

    from tests.test_analytics import login

    warehouse, _ = hand
    team = f"team_p_{uuid.uuid4().hex[:8]}"
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text("SELECT ops.create_product_reader(:r, 'p')"), {"r": team})
    try:
        with login(warehouse, "growth_bi") as bi, bi.connect() as conn:
            for view in COHORT_VIEWS:
                products = set(
                    conn.execute(sa.text(f"SELECT DISTINCT product_id FROM analytics.{view}"))
                    .scalars()
                    .all()
                )
                assert products == {"p", "q", "all"}, view
        with login(warehouse, team) as alice, alice.connect() as conn:
            for view in COHORT_VIEWS:
                products = set(
                    conn.execute(sa.text(f"SELECT DISTINCT product_id FROM analytics.{view}"))
                    .scalars()
                    .all()
                )
                assert products == {"p"}, view
    finally:
        with warehouse.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP ROLE {team}")
