"""The cohort SQL against an independent reference: polars over the canonical events.

A seeded generator writes a few thousand users' events (over a year end, with one-time
users, long gaps, users who pay without ever being active, refunds, events at the edges of
UTC days) straight into growth.events, with their users and subscriptions. The warehouse
builds the cohort assets in two runs (two halves of the range: incremental runs must
converge to the full answer); the reference recomputes every table from the events alone
(and the generator's own user attributes) and must agree exactly, rates included.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa

from growth_assets.cohorts.adoption import rebuild as rebuild_adoption
from growth_assets.cohorts.groups import product_groups
from growth_assets.cohorts.lifecycle import rebuild as rebuild_lifecycle
from growth_assets.cohorts.triangle import rebuild as rebuild_triangle
from resources.features import DEFAULT_FEATURE_NAMES, features_json
from resources.settings import ModelSettings
from resources.warehouse import Warehouse
from tests.cohort_data import Event, build_cohorts, load_events, load_subscriptions, load_users

FIRST, MID, LAST = date(2024, 11, 18), date(2024, 12, 31), date(2025, 2, 20)
PRODUCTS = ("alpha", "bravo", "charlie")
CHANNELS = ("organic", "paid_search", "referral", None)
COUNTRIES = ("US", "DE", "JP", None)
USERS = 3000
EPOCH_MONDAY = date(2024, 1, 1)
SIX = Decimal("0.000001")


def generate(seed: int = 11) -> tuple[list[Event], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Events, users (product, user, channel, country) and subscriptions, deterministic."""
    rng = np.random.default_rng(seed)
    span = (LAST - FIRST).days + 1
    events: list[Event] = []
    users: list[tuple[Any, ...]] = []
    subs: list[tuple[Any, ...]] = []
    t0 = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=UTC)
    for i in range(USERS):
        product = PRODUCTS[int(rng.integers(0, len(PRODUCTS)))]
        user = f"u{i:05d}"
        start = int(rng.integers(0, span))
        kind = rng.random()
        if kind < 0.3:
            n = 1  # active on one day only
        elif kind < 0.95:
            n = 1 + int(rng.poisson(rng.choice([2, 6, 15])))
        else:
            n = 0  # pays without ever being active
        offsets = rng.integers(0, span - start, max(n - 1, 0))
        days = sorted({start, *(start + int(d) for d in offsets)}) if n else []
        users.append(
            (
                product,
                user,
                CHANNELS[int(rng.integers(0, 4))],
                COUNTRIES[int(rng.integers(0, 4))],
            )
        )
        for j, d in enumerate(days):
            for _ in range(1 + int(rng.integers(0, 3))):
                # seconds in the day, with the day's first and last second over-represented
                second = int(rng.choice([0, 86_399, int(rng.integers(0, 86_400))]))
                ts = t0 + timedelta(days=d, seconds=second)
                r = rng.random()
                if j == 0 and r < 0.3:
                    events.append((product, user, ts, "signup", None, {}))
                elif r < 0.75:
                    feature = rng.choice([*DEFAULT_FEATURE_NAMES[:5], "unlisted", ""])
                    props = {"feature": str(feature)} if feature else {"plan": "pro"}
                    events.append((product, user, ts, "engagement", None, props))
                else:
                    events.append(
                        (product, user, ts, rng.choice(["key_action", "activation"]), None, {})
                    )
            if rng.random() < 0.1:
                ts = t0 + timedelta(days=d, hours=int(rng.integers(0, 24)))
                events.append((product, user, ts, "support_ticket_created", None, {}))
        if n == 0 or rng.random() < 0.2:
            pay_day = start + int(rng.integers(-3, 10))
            created = t0 + timedelta(days=pay_day, hours=int(rng.integers(0, 24)))
            ended = (
                created + timedelta(days=int(rng.integers(1, 60))) if rng.random() < 0.4 else None
            )
            subs.append(
                (
                    f"sub_{i}",
                    product,
                    user,
                    f"price_{product}_{int(rng.integers(0, 2))}",
                    created,
                    ended,
                )
            )
            for m in range(int(rng.integers(1, 4))):
                day = pay_day + 30 * m
                if 0 <= day < span:
                    ts = t0 + timedelta(days=day, hours=int(rng.integers(0, 24)))
                    cents = int(rng.integers(500, 9_999))
                    events.append((product, user, ts, "revenue", Decimal(cents) / 100, {}))
                    if rng.random() < 0.15:
                        back = int(rng.integers(1, cents + 1))
                        later = ts + timedelta(days=int(rng.integers(0, 20)))
                        if later < t0 + timedelta(days=span):
                            events.append((product, user, later, "refund", Decimal(back) / 100, {}))
    return events, users, subs


# ------------------------------------------------------------------ the reference


def rate(a: int, b: int) -> Decimal | None:
    return None if b == 0 else (Decimal(a) / Decimal(b)).quantize(SIX, ROUND_HALF_UP)


def period_index(day: pl.Expr, grain: str) -> pl.Expr:
    if grain == "day":
        return (day - pl.lit(EPOCH_MONDAY)).dt.total_days()
    if grain == "week":
        return (day - pl.lit(EPOCH_MONDAY)).dt.total_days() // 7
    return day.dt.year() * 12 + day.dt.month() - 1


def period_start(index: int, grain: str) -> date:
    if grain == "day":
        return EPOCH_MONDAY + timedelta(days=index)
    if grain == "week":
        return EPOCH_MONDAY + timedelta(days=7 * index)
    return date(index // 12, index % 12 + 1, 1)


class Reference:
    """Every cohort table recomputed from growth.events with polars."""

    def __init__(self, warehouse: Warehouse, users: list[tuple[Any, ...]], subs: list[Any]):
        with warehouse.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT product_id, user_id, occurred_at, event_type, value_reporting, "
                    "CAST(properties AS text) AS properties FROM growth.events"
                )
            ).all()
            initiated = [
                r[0]
                for r in conn.execute(
                    sa.text("SELECT event_type FROM growth.event_types WHERE user_initiated")
                )
            ]
        ev = pl.DataFrame(
            {
                "product_id": [r.product_id for r in rows],
                "user_id": [r.user_id for r in rows],
                "ts": [r.occurred_at for r in rows],
                "event_type": [r.event_type for r in rows],
                "cents": [
                    None if r.value_reporting is None else int(r.value_reporting * 100)
                    for r in rows
                ],
                "properties": [r.properties for r in rows],
            }
        )
        self.events = ev.with_columns(
            day=pl.col("ts").dt.convert_time_zone("UTC").dt.date(),
            feature=pl.col("properties").str.json_path_match("$.feature"),
        )
        self.active = (
            self.events.filter(pl.col("event_type").is_in(initiated))
            .select("product_id", "user_id", "day")
            .unique()
        )
        self.last_day: date = self.events["day"].max()  # type: ignore[assignment]
        self.first_day = dict(
            self.events.group_by("product_id").agg(pl.col("day").min()).iter_rows()
        )
        self.users = pl.DataFrame(
            users, schema=["product_id", "user_id", "channel", "country"], orient="row"
        ).with_columns(pl.col("channel", "country").fill_null("unknown"))
        self.subs = pl.DataFrame(
            subs,
            schema=["subscription_id", "product_id", "user_id", "price", "created", "ended"],
            orient="row",
        )

    def products(self) -> list[str]:
        return sorted(self.first_day)

    # -- growth accounting
    def accounting(self, grain: str) -> dict[tuple[str, date], tuple[Any, ...]]:
        last = int(pl.select(period_index(pl.lit(self.last_day), grain)).item())
        up = (
            self.active.with_columns(p=period_index(pl.col("day"), grain))
            .select("product_id", "user_id", "p")
            .unique()
            .sort("product_id", "user_id", "p")
            .with_columns(
                prev=pl.col("p").shift(1).over("product_id", "user_id"),
                nxt=pl.col("p").shift(-1).over("product_id", "user_id"),
            )
        )
        counts: dict[tuple[str, int], list[int]] = {}

        def add(product: str, p: int, slot: int) -> None:
            for key in ((product, p), ("all", p)):
                counts.setdefault(key, [0] * 6)[slot] += 1

        for product, _user, p, prev, nxt in up.iter_rows():
            add(product, p, 0)
            if prev is None:
                add(product, p, 1)
            elif prev == p - 1:
                add(product, p, 2)
                add(product, p, 5)
            else:
                add(product, p, 3)
            if (nxt is None or nxt > p + 1) and p + 1 <= last:
                add(product, p + 1, 4)
                add(product, p + 1, 5)
        firsts = {
            **{
                k: int(pl.select(period_index(pl.lit(v), grain)).item())
                for k, v in self.first_day.items()
            },
        }
        firsts["all"] = min(firsts.values())
        out = {}
        for product, first in firsts.items():
            for p in range(first, last + 1):
                a, n, r, s, c, prev = counts.get((product, p), [0] * 6)
                out[(product, period_start(p, grain))] = (
                    a,
                    n,
                    r,
                    s,
                    c,
                    prev,
                    rate(n + s, c),
                    rate(r, prev),
                )
        return out

    # -- cohorts
    def members(self, grain: str) -> pl.DataFrame:
        m = (
            self.active.group_by("product_id", "user_id")
            .agg(first=pl.col("day").min(), last=pl.col("day").max())
            .with_columns(
                cohort=period_index(pl.col("first"), grain),
                last_p=period_index(pl.col("last"), grain),
            )
            .join(self.users, on=["product_id", "user_id"], how="left")
        )
        spans = m.select("product_id", "user_id", "cohort").with_columns(
            starts=pl.col("cohort").map_elements(
                lambda i: datetime.combine(period_start(i, grain), datetime.min.time(), UTC),
                return_dtype=pl.Datetime("us", "UTC"),
            ),
            ends=(pl.col("cohort") + 1).map_elements(
                lambda i: datetime.combine(period_start(i, grain), datetime.min.time(), UTC),
                return_dtype=pl.Datetime("us", "UTC"),
            ),
        )
        plans = (
            spans.join(self.subs, on=["product_id", "user_id"])
            .filter(
                (pl.col("created") < pl.col("ends"))
                & (pl.col("ended").is_null() | (pl.col("ended") >= pl.col("starts")))
            )
            .sort("created", "subscription_id")
            .group_by("product_id", "user_id")
            .agg(plan=pl.col("price").first())
        )
        return m.join(plans, on=["product_id", "user_id"], how="left").with_columns(
            pl.col("plan").fill_null("none")
        )

    def triangle(self, grain: str) -> dict[tuple[Any, ...], tuple[int, int, int]]:
        m = self.members(grain)
        last = int(pl.select(period_index(pl.lit(self.last_day), grain)).item())
        up = (
            self.active.with_columns(p=period_index(pl.col("day"), grain))
            .select("product_id", "user_id", "p")
            .unique()
            .join(m, on=["product_id", "user_id"])
            .with_columns(k=pl.col("p") - pl.col("cohort"))
        )
        out: dict[tuple[Any, ...], tuple[int, int, int]] = {}
        for seg in ("all", "channel", "country", "plan"):
            segment = pl.lit("all") if seg == "all" else pl.col(seg)
            for scope in ("product", "all"):
                product = pl.col("product_id") if scope == "product" else pl.lit("all")
                keys = [product.alias("pid"), segment.alias("segment"), pl.col("cohort")]
                sizes = m.group_by(keys).agg(
                    size=pl.len(), lasts=(pl.col("last_p") - pl.col("cohort"))
                )
                cells = dict(
                    ((pid, s, c, k), n)
                    for pid, s, c, k, n in up.group_by([*keys, pl.col("k")])
                    .agg(pl.len())
                    .iter_rows()
                )
                for pid, s, c, size, lasts in sizes.iter_rows():
                    for k in range(0, last - c + 1):
                        out[(pid, seg, s, period_start(c, grain), k)] = (
                            size,
                            cells.get((pid, s, c, k), 0),
                            sum(1 for x in lasts if x >= k),
                        )
        return out

    def ltv(self, grain: str) -> dict[tuple[Any, ...], tuple[int, Decimal, Decimal]]:
        m = self.members(grain).select("product_id", "user_id", "cohort")
        last = int(pl.select(period_index(pl.lit(self.last_day), grain)).item())
        money = (
            self.events.filter(pl.col("event_type").is_in(["revenue", "refund"]))
            .with_columns(
                net=pl.when(pl.col("event_type") == "revenue")
                .then(pl.col("cents"))
                .otherwise(-pl.col("cents")),
                p=period_index(pl.col("day"), grain),
            )
            .join(m, on=["product_id", "user_id"])
            .with_columns(k=pl.max_horizontal(pl.col("p") - pl.col("cohort"), pl.lit(0)))
        )
        out = {}
        for scope in ("product", "all"):
            product = pl.col("product_id") if scope == "product" else pl.lit("all")
            sizes = m.group_by(product.alias("pid"), "cohort").agg(size=pl.len())
            nets = dict(
                ((pid, c, k), v)
                for pid, c, k, v in money.group_by(product.alias("pid"), "cohort", "k")
                .agg(pl.col("net").sum())
                .iter_rows()
            )
            for pid, c, size in sizes.iter_rows():
                total = 0
                for k in range(0, last - c + 1):
                    total += nets.get((pid, c, k), 0)
                    cum = Decimal(total) / 100
                    out[(pid, period_start(c, grain), k)] = (
                        size,
                        cum,
                        (cum / size).quantize(SIX, ROUND_HALF_UP),
                    )
        return out

    def power_users(self) -> dict[tuple[Any, ...], int]:
        out: dict[tuple[Any, ...], int] = {}
        for w in (7, 28):
            covered = (
                self.active.with_columns(
                    d=pl.date_ranges(pl.col("day"), pl.col("day") + pl.duration(days=w - 1))
                )
                .explode("d")
                .filter((pl.col("d") >= FIRST) & (pl.col("d") <= LAST))
                .group_by("product_id", "user_id", "d")
                .agg(n=pl.len())
            )
            for scope in ("product", "all"):
                product = pl.col("product_id") if scope == "product" else pl.lit("all")
                hist = covered.group_by("d", product.alias("pid"), "n").agg(pl.len())
                for d, pid, n, users in hist.iter_rows():
                    out[(d, pid, w, n)] = users
        return out

    def features(self, grain: str) -> dict[tuple[Any, ...], tuple[int, int, Decimal | None]]:
        act = (
            self.active.with_columns(p=period_index(pl.col("day"), grain))
            .select("product_id", "user_id", "p")
            .unique()
        )
        used = (
            self.events.filter(
                (pl.col("event_type") == "engagement")
                & pl.col("feature").is_in(list(DEFAULT_FEATURE_NAMES))
            )
            .with_columns(p=period_index(pl.col("day"), grain))
            .select("product_id", "user_id", "p", "feature")
            .unique()
            .join(act, on=["product_id", "user_id", "p"])
        )
        out = {}
        for scope in ("product", "all"):
            product = pl.col("product_id") if scope == "product" else pl.lit("all")
            actives = dict(
                ((pid, p), n)
                for pid, p, n in act.group_by(product.alias("pid"), "p").agg(pl.len()).iter_rows()
            )
            for pid, p, f, n in (
                used.group_by(product.alias("pid"), "p", "feature").agg(pl.len()).iter_rows()
            ):
                out[(pid, period_start(p, grain), f)] = (
                    actives[(pid, p)],
                    n,
                    rate(n, actives[(pid, p)]),
                )
        return out


# ------------------------------------------------------------------------ tests


@pytest.fixture(scope="module")
def built(admin: sa.Engine) -> Iterator[tuple[Warehouse, Reference]]:
    from tests.conftest import _warehouse

    gen = _warehouse(admin, "auto")
    warehouse = next(gen)
    events, users, subs = generate()
    load_events(warehouse, events)
    firsts: dict[tuple[str, str], datetime] = {}
    for product, user, ts, *_ in events:
        firsts[(product, user)] = min(ts, firsts.get((product, user), ts))
    load_users(
        warehouse,
        [(p, u, firsts[(p, u)], ch, co) for p, u, ch, co in users if (p, u) in firsts],
    )
    load_subscriptions(warehouse, subs)
    # two runs: the second must correct what the first left for the periods it shares
    build_cohorts(warehouse, FIRST, MID)
    build_cohorts(warehouse, MID + timedelta(days=1), LAST)
    yield warehouse, Reference(warehouse, users, subs)
    gen.close()


def fetch(warehouse: Warehouse, sql: str) -> list[Any]:
    with warehouse.engine.connect() as conn:
        return list(conn.execute(sa.text(sql)))


def test_scale(built: tuple[Warehouse, Reference]) -> None:
    _, ref = built
    assert ref.events.height > 20_000
    assert ref.active.select("product_id", "user_id").unique().height > 2_500


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_growth_accounting_matches_reference(
    built: tuple[Warehouse, Reference], grain: str
) -> None:
    warehouse, ref = built
    rows = fetch(
        warehouse,
        "SELECT product_id, period, active_users, new_users, retained_users, resurrected_users, "
        "churned_users, previous_active_users, quick_ratio, retention_rate "
        f"FROM growth.growth_accounting WHERE grain = '{grain}'",
    )
    got = {(r[0], r[1]): tuple(r[2:]) for r in rows}
    expected = ref.accounting(grain)
    assert len(expected) >= {"day": 300, "week": 50, "month": 16}[grain]
    assert got == expected


@pytest.mark.parametrize("grain", ["week", "month"])
def test_retention_matches_reference(built: tuple[Warehouse, Reference], grain: str) -> None:
    warehouse, ref = built
    rows = fetch(
        warehouse,
        "SELECT product_id, segment_type, segment, cohort, period_offset, cohort_size, "
        "active_users, unbounded_users, retention_rate, unbounded_retention_rate "
        f"FROM analytics.retention_triangle WHERE grain = '{grain}'",
    )
    got = {tuple(r[:5]): (r[5], r[6], r[7]) for r in rows}
    expected = ref.triangle(grain)
    assert len(expected) > {"week": 5_000, "month": 400}[grain]
    assert got == expected
    for r in rows:
        assert r.retention_rate == rate(r.active_users, r.cohort_size)
        assert r.unbounded_retention_rate == rate(r.unbounded_users, r.cohort_size)


def _rebuild_in_groups(conn: sa.Connection, table: str) -> int:
    """Rebuild ``table`` over the fixture's whole range, one product per group."""
    start = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=UTC)
    end = datetime(LAST.year, LAST.month, LAST.day, tzinfo=UTC) + timedelta(days=1)
    if table == "retention_triangle":
        Warehouse.run_file(conn, "cohorts/members")
        return rebuild_triangle(conn, group_members=1)
    if table == "growth_accounting":
        return rebuild_lifecycle(conn, start, group_members=1)
    features = features_json(ModelSettings().features)
    params = {"window_start": start, "window_end": end, "features": features}
    Warehouse.run_file(conn, "cohorts/feature_usage", params)
    return rebuild_adoption(conn, start, end, group_members=1)


@pytest.mark.parametrize(
    "table, key",
    [
        ("retention_triangle", "grain, product_id, segment_type, segment, cohort, period_offset"),
        ("growth_accounting", "grain, period, product_id"),
        ("feature_adoption", "grain, period, product_id, feature"),
    ],
)
def test_product_groups_give_the_single_pass(
    built: tuple[Warehouse, Reference], table: str, key: str
) -> None:
    """Counted one product at a time (the memory bound of a large warehouse), the triangle,
    growth accounting and feature adoption, portfolio rows included, are the rows of the
    single pass the assets made on this data (fewer members than a group holds)."""
    warehouse, _ = built
    read = f"SELECT * FROM growth.{table} ORDER BY {key}"
    with warehouse.engine.connect() as conn, conn.begin() as tx:
        whole = [r._asdict() for r in conn.execute(sa.text(read))]
        written = _rebuild_in_groups(conn, table)
        grouped = [r._asdict() for r in conn.execute(sa.text(read))]
        products = conn.execute(sa.text("SELECT count(DISTINCT product_id) FROM growth.users"))
        tx.rollback()
    assert products.scalar_one() > 1
    assert written == len(whole) > 100
    for rows in (whole, grouped):
        for row in rows:
            row.pop("updated_at", None)
    assert grouped == whole


def test_product_groups() -> None:
    sizes = [("a", 3), ("b", 2), ("c", 9), ("d", 1), ("e", 4)]
    assert product_groups(sizes, 5) == [["a", "b"], ["c"], ["d", "e"]]
    assert product_groups(sizes, 100) == [["a", "b", "c", "d", "e"]]
    assert product_groups(sizes, 1) == [["a"], ["b"], ["c"], ["d"], ["e"]]
    assert product_groups([], 5) == []


@pytest.mark.parametrize("grain", ["week", "month"])
def test_ltv_matches_reference(built: tuple[Warehouse, Reference], grain: str) -> None:
    warehouse, ref = built
    rows = fetch(
        warehouse,
        "SELECT product_id, cohort, period_offset, cohort_size, cumulative_net_revenue, ltv "
        f"FROM growth.cohort_ltv WHERE grain = '{grain}'",
    )
    expected = ref.ltv(grain)
    assert sum(1 for v in expected.values() if v[1]) > 20
    assert {tuple(r[:3]): tuple(r[3:]) for r in rows} == expected


def test_power_users_match_reference(built: tuple[Warehouse, Reference]) -> None:
    warehouse, ref = built
    rows = fetch(
        warehouse, "SELECT day, product_id, window_days, active_days, users FROM growth.power_users"
    )
    expected = ref.power_users()
    assert {k[2] for k in expected} == {7, 28} and max(k[3] for k in expected) > 7
    assert {tuple(r[:4]): r[4] for r in rows} == expected


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_feature_adoption_matches_reference(built: tuple[Warehouse, Reference], grain: str) -> None:
    warehouse, ref = built
    rows = fetch(
        warehouse,
        "SELECT product_id, period, feature, active_users, feature_users, adoption "
        f"FROM growth.feature_adoption WHERE grain = '{grain}'",
    )
    expected = ref.features(grain)
    assert len({k[2] for k in expected}) == 5
    assert {tuple(r[:3]): tuple(r[3:]) for r in rows} == expected
