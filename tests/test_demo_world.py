"""The demo world simulator: determinism, windowing, API shapes and the planted anomalies.

Pure Python, no database: small worlds (hundreds to a few thousand users) build in well under
a second. Only ``test_default_scale`` builds the full default world.
"""

from __future__ import annotations

import collections
import functools
import itertools
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from growth_assets.demo import DemoConfig, DemoWorld
from growth_assets.demo.world import get_world

SMALL = DemoConfig(users=800, days=60)
SPIKY = DemoConfig(users=3000, days=120, spike_day=90, spike_cancellations=20)
STREAMS = [
    ("mixpanel", "events"),
    ("stripe", "customers"),
    ("stripe", "subscriptions"),
    ("stripe", "invoices"),
    ("stripe", "events"),
    ("stripe", "charges"),
    ("stripe", "refunds"),
    ("zendesk", "tickets"),
]
Record = dict[str, Any]
FAR = 4_070_908_800  # 2099-01-01T00:00:00Z


def window_key(source: str, record: Record) -> int:
    """The timestamp `fetch` windows by (see the module docstring of the simulator)."""
    if source == "mixpanel":
        props = record["properties"]
        return int(min(props["time"], props["mp_processing_time_ms"] // 1000))
    if source == "stripe":
        return int(record["created"])
    return int(datetime.fromisoformat(record["updated_at"].replace("Z", "+00:00")).timestamp())


def record_id(source: str, record: Record) -> Any:
    return record["properties"]["$insert_id"] if source == "mixpanel" else record["id"]


def at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def everything(world: DemoWorld) -> str:
    payload = {
        "products": world.products(),
        "fx": world.fx_rates(),
        "bad": world.planted_bad_records(),
        "spike": world.planted_spike(),
        **{f"{s}/{t}": world.fetch(s, t, world.start, world.end) for s, t in STREAMS},
    }
    return json.dumps(payload, default=str)


@pytest.fixture(scope="module")
def world() -> DemoWorld:
    return DemoWorld(SMALL)


@pytest.fixture(scope="module")
def full(world: DemoWorld) -> dict[tuple[str, str], list[Record]]:
    return {key: world.fetch(*key, world.start, world.end) for key in STREAMS}


@pytest.fixture(scope="module")
def spiky() -> DemoWorld:
    return DemoWorld(SPIKY)


# ----------------------------------------------------------------------------- determinism


def test_same_config_gives_byte_identical_output_whatever_was_fetched_before() -> None:
    first = DemoWorld(SMALL)
    second = DemoWorld(SMALL)
    rng = random.Random(1)
    span = int((second.end - second.start).total_seconds())
    for _ in range(30):  # fetch random windows in random order before the full dump
        source, stream = rng.choice(STREAMS)
        lo = second.start + timedelta(seconds=rng.randrange(span))
        second.fetch(source, stream, lo, lo + timedelta(hours=rng.randrange(1, 200)))
    assert everything(first) == everything(second)


def test_different_seed_gives_different_output() -> None:
    assert everything(DemoWorld(SMALL)) != everything(
        DemoWorld(DemoConfig(seed=8, users=800, days=60))
    )


def test_get_world_caches_per_config() -> None:
    assert get_world(SMALL) is get_world(DemoConfig(users=800, days=60))


# -------------------------------------------------------------------------------- windows


def test_counts_cover_every_stream_and_match_the_full_window(
    world: DemoWorld, full: dict[tuple[str, str], list[Record]]
) -> None:
    assert set(world.counts()) == set(STREAMS)
    assert {key: len(records) for key, records in full.items()} == world.counts()
    assert all(count > 0 for count in world.counts().values())


def test_full_window_is_sorted_by_timestamp_then_id(
    full: dict[tuple[str, str], list[Record]],
) -> None:
    for (source, _), records in full.items():
        keys = [(window_key(source, r), record_id(source, r)) for r in records]
        assert keys == sorted(keys)


def test_every_record_lies_inside_the_world(
    world: DemoWorld, full: dict[tuple[str, str], list[Record]]
) -> None:
    lo, hi = world.start.timestamp(), world.end.timestamp()
    for (source, _), records in full.items():
        assert all(lo <= window_key(source, r) < hi for r in records)


def test_window_fetch_equals_filter_of_full_fetch(
    world: DemoWorld, full: dict[tuple[str, str], list[Record]]
) -> None:
    rng = random.Random(2)
    span = int((world.end - world.start).total_seconds())
    for (source, stream), records in full.items():
        for hours in (1, 7, 24 * 9):
            lo = world.start + timedelta(seconds=rng.randrange(span))
            hi = lo + timedelta(hours=hours)
            expected = [
                r for r in records if lo.timestamp() <= window_key(source, r) < hi.timestamp()
            ]
            assert world.fetch(source, stream, lo, hi) == expected


def test_windows_are_half_open(world: DemoWorld, full: dict[tuple[str, str], list[Record]]) -> None:
    for (source, stream), records in full.items():
        key = window_key(source, records[len(records) // 2])
        same = [r for r in records if window_key(source, r) == key]
        second = timedelta(seconds=1)
        assert world.fetch(source, stream, at(key), at(key) + second) == same
        assert world.fetch(source, stream, at(key) - second, at(key)) == [
            r for r in records if window_key(source, r) == key - 1
        ]
        assert world.fetch(source, stream, at(key), at(key)) == []
        tiny = timedelta(microseconds=1)  # sub-second bounds: [key - 1us, key + 1us) holds key
        assert world.fetch(source, stream, at(key) - tiny, at(key) + tiny) == same
        assert world.fetch(source, stream, at(key) + tiny, at(key) + second) == []


def test_adjacent_windows_concatenate_to_their_union(
    full: dict[tuple[str, str], list[Record]],
) -> None:
    fresh = DemoWorld(SMALL)
    rng = random.Random(3)
    cuts = sorted(
        fresh.start
        + timedelta(seconds=rng.randrange(int((fresh.end - fresh.start).total_seconds())))
        for _ in range(12)
    )
    bounds = [fresh.start, *cuts, fresh.end]
    windows = list(itertools.pairwise(bounds))
    for source, stream in STREAMS:
        pieces = {w: fresh.fetch(source, stream, *w) for w in reversed(windows)}
        assert [r for w in windows for r in pieces[w]] == full[(source, stream)]


def test_timezone_of_the_bounds_does_not_matter(world: DemoWorld) -> None:
    plus_two = timezone(timedelta(hours=2))
    lo, hi = world.start + timedelta(days=20), world.start + timedelta(days=21)
    for source, stream in STREAMS:
        assert world.fetch(source, stream, lo, hi) == world.fetch(
            source, stream, lo.astimezone(plus_two), hi.astimezone(plus_two)
        )


def test_windows_outside_the_world_are_empty(world: DemoWorld) -> None:
    before = world.start - timedelta(days=30)
    assert world.fetch("mixpanel", "events", before, world.start) == []
    assert world.fetch("stripe", "charges", world.end, world.end + timedelta(days=400)) == []


# --------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("source", "stream", "start", "end", "message"),
    [
        ("mixpanel", "events", datetime(2024, 11, 2), datetime(2024, 11, 3, tzinfo=UTC), "start"),
        ("mixpanel", "events", datetime(2024, 11, 2, tzinfo=UTC), datetime(2024, 11, 3), "end"),
        (
            "stripe",
            "charges",
            datetime(2024, 11, 3, tzinfo=UTC),
            datetime(2024, 11, 2, tzinfo=UTC),
            "before",
        ),
        (
            "stripe",
            "payouts",
            datetime(2024, 11, 2, tzinfo=UTC),
            datetime(2024, 11, 3, tzinfo=UTC),
            "unknown",
        ),
        (
            "hubspot",
            "events",
            datetime(2024, 11, 2, tzinfo=UTC),
            datetime(2024, 11, 3, tzinfo=UTC),
            "unknown",
        ),
    ],
)
def test_fetch_rejects_bad_arguments(
    world: DemoWorld, source: str, stream: str, start: datetime, end: datetime, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        world.fetch(source, stream, start, end)


@pytest.mark.parametrize(
    "overrides",
    [{"days": 0}, {"users": 0}, {"products": 3}, {"spike_day": 60}, {"spike_cancellations": -1}],
)
def test_config_rejects_impossible_values(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="invalid DemoConfig"):
        DemoConfig(**{"days": 60, **overrides})


def test_end_is_start_plus_days_in_utc(world: DemoWorld) -> None:
    assert world.end == datetime(2024, 12, 31, tzinfo=UTC)
    assert world.end.utcoffset() == timedelta(0)


# ------------------------------------------------------------------------ catalog and fx


def test_products_catalog(world: DemoWorld) -> None:
    products = world.products()
    assert [p["product_id"] for p in products] == [
        "atlas",
        "beacon",
        "cinder",
        "delta",
        "ember",
        "fable",
        "garnet",
        "harbor",
        "iris",
        "juniper",
    ]
    currencies = collections.Counter(p["currency"] for p in products)
    assert currencies == {"usd": 6, "eur": 2, "gbp": 1, "jpy": 1}
    assert next(p for p in products if p["product_id"] == "delta")["currency"] == "usd"
    for product in products:
        assert product["name"] == product["product_id"].title()
        assert product["launched_on"] <= SMALL.start
        assert 4 <= len(product["features"]) <= 6
        intervals = collections.Counter(plan["interval"] for plan in product["plans"])
        assert 2 <= intervals["month"] <= 3 and intervals["year"] == 1
        for plan in product["plans"]:
            assert plan["plan_id"].startswith("price_") and plan["currency"] == product["currency"]
            assert isinstance(plan["unit_amount"], int) and plan["unit_amount"] > 0
    assert len({p["launched_on"] for p in products}) == len(products)


def test_product_count_is_configurable() -> None:
    ids = [
        p["product_id"] for p in DemoWorld(DemoConfig(users=50, days=10, products=12)).products()
    ]
    assert ids[-3:] == ["juniper", "p11", "p12"]
    few = DemoWorld(DemoConfig(users=50, days=10, products=2, spike=False)).products()
    assert [p["product_id"] for p in few] == ["atlas", "beacon"]


def test_fx_rates_cover_every_day_and_currency_at_realistic_levels(world: DemoWorld) -> None:
    rates = world.fx_rates()
    days = {SMALL.start + timedelta(days=i) for i in range(SMALL.days)}
    assert {(r["day"], r["currency"]) for r in rates} == {
        (d, c) for d in days for c in ("EUR", "GBP", "JPY")
    }
    assert len(rates) == 3 * SMALL.days
    levels = {"EUR": 1.08, "GBP": 1.27, "JPY": 0.0067}
    for rate in rates:
        assert isinstance(rate["day"], date) and isinstance(rate["rate"], float)
        assert abs(rate["rate"] / levels[rate["currency"]] - 1) < 0.15


# --------------------------------------------------------------------------------- shapes


def test_mixpanel_event_shape(full: dict[tuple[str, str], list[Record]]) -> None:
    names = {"Sign Up", "Activated", "Session Started", "Feature Used", "Upgrade Clicked"}
    good = [
        r
        for r in full[("mixpanel", "events")]
        if r["event"] in names
        and "distinct_id" in r["properties"]
        and r["properties"]["time"] < FAR
    ]
    assert len(good) > 0.99 * len(full[("mixpanel", "events")])
    for record in good:
        assert set(record) == {"event", "properties"}
        props = record["properties"]
        assert isinstance(props["time"], int)
        assert isinstance(props["distinct_id"], str) and len(props["distinct_id"]) == 8
        insert_id = props["$insert_id"]
        assert len(insert_id) == 32 and int(insert_id, 16) >= 0
        assert props["channel"] in {"organic", "paid_search", "referral", "social", "partner"}
        assert props["platform"] in {"web", "ios", "android"}
        assert len(props["mp_country_code"]) == 2 and props["mp_country_code"].isupper()
        assert isinstance(props["$os"], str) and isinstance(props["product_id"], str)
        assert ("feature" in props) == (record["event"] == "Feature Used")
        assert ("plan" in props) == (record["event"] == "Upgrade Clicked")


def test_mixpanel_funnel_proportions(full: dict[tuple[str, str], list[Record]]) -> None:
    events = collections.Counter(r["event"] for r in full[("mixpanel", "events")])
    assert events["Sign Up"] == SMALL.users
    assert 0.5 <= events["Activated"] / SMALL.users <= 0.7
    assert events["Session Started"] > events["Sign Up"] and events["Feature Used"] > 0
    assert events["Upgrade Clicked"] > 0
    signups = {
        r["properties"]["distinct_id"]: r["properties"]["time"]
        for r in full[("mixpanel", "events")]
        if r["event"] == "Sign Up"
    }
    assert sorted(signups) == [f"u{i:07d}" for i in range(1, SMALL.users + 1)]
    for record in full[("mixpanel", "events")]:
        props = record["properties"]
        if record["event"] == "Activated":
            assert 0 <= props["time"] - signups[props["distinct_id"]] < 3 * 86_400


def test_stripe_customer_shape(full: dict[tuple[str, str], list[Record]]) -> None:
    for customer in full[("stripe", "customers")]:
        assert customer["object"] == "customer"
        assert customer["id"].startswith("cus_") and len(customer["id"]) == 18
        assert customer["id"][4:].isalnum()
        assert customer["email"] == f"{customer['metadata']['user_id']}@example.com"
        assert customer["currency"] in {"usd", "eur", "gbp", "jpy"}
        assert isinstance(customer["created"], int)


def check_subscription(sub: Record) -> None:
    assert sub["object"] == "subscription" and sub["id"].startswith("sub_")
    assert sub["status"] in {"active", "past_due", "canceled", "trialing"}
    assert sub["customer"].startswith("cus_") and sub["currency"] in {"usd", "eur", "gbp", "jpy"}
    assert sub["start_date"] == sub["created"]
    assert isinstance(sub["cancel_at_period_end"], bool)
    assert set(sub["metadata"]) == {"product_id", "user_id"}
    for name in ("trial_end", "canceled_at", "ended_at"):
        assert sub[name] is None or isinstance(sub[name], int)
    assert (sub["ended_at"] is not None) == (sub["status"] == "canceled")
    (item,) = sub["items"]["data"]
    assert sub["items"]["object"] == "list" and item["id"].startswith("si_")
    assert isinstance(item["quantity"], int) and item["quantity"] >= 1
    price = item["price"]
    assert price["id"].startswith("price_") and price["currency"] == sub["currency"]
    assert price["recurring"] == {"interval": price["recurring"]["interval"], "interval_count": 1}
    assert price["product"] == f"prod_{sub['metadata']['product_id']}"
    assert isinstance(price["unit_amount"], int)
    if sub["discount"] is not None:
        coupon = sub["discount"]["coupon"]
        assert coupon["duration"] in {"forever", "once", "repeating"}
        assert 0 < coupon["percent_off"] < 100


def test_stripe_subscription_shape(full: dict[tuple[str, str], list[Record]]) -> None:
    subs = full[("stripe", "subscriptions")]
    for sub in subs:
        check_subscription(sub)
    customers = {c["id"] for c in full[("stripe", "customers")]}
    assert {s["customer"] for s in subs} == customers


def test_stripe_events_replay_to_the_final_subscriptions(
    full: dict[tuple[str, str], list[Record]],
) -> None:
    last: dict[str, Record] = {}
    for event in full[("stripe", "events")]:
        assert event["object"] == "event" and event["id"].startswith("evt_")
        assert event["api_version"] == "2024-06-20"
        sub = event["data"]["object"]
        check_subscription(sub)
        kind = event["type"].rsplit(".", 1)[1]
        assert ("previous_attributes" in event["data"]) == (kind == "updated")
        if kind == "created":
            assert sub["id"] not in last and sub["created"] == event["created"]
        if kind == "deleted":
            assert sub["status"] == "canceled" and sub["ended_at"] == event["created"]
        if kind == "updated":
            previous = event["data"]["previous_attributes"]
            assert previous and all(previous[k] != sub[k] for k in previous)
        last[sub["id"]] = sub
    assert last == {s["id"]: s for s in full[("stripe", "subscriptions")]}


def test_stripe_events_include_every_lifecycle_change() -> None:
    world = DemoWorld(DemoConfig(users=5000, days=365, spike=False))
    events = world.fetch("stripe", "events", world.start, world.end)
    changes = collections.Counter(
        (e["type"], tuple(e["data"].get("previous_attributes", {}))) for e in events
    )
    updated = "customer.subscription.updated"
    assert changes[(updated, ("status",))] > 0  # trial conversions and dunning
    assert changes[(updated, ("items",))] > 0  # upgrades, downgrades and seat changes
    assert changes[(updated, ("cancel_at_period_end", "canceled_at"))] > 0
    subs = world.fetch("stripe", "subscriptions", world.start, world.end)
    per_customer = collections.Counter(s["customer"] for s in subs)
    assert max(per_customer.values()) >= 2  # second subscriptions and reactivations
    seen = {e["data"]["object"]["status"] for e in events}
    assert seen == {"active", "past_due", "canceled", "trialing"}


def test_stripe_charges_and_refunds_are_consistent(
    full: dict[tuple[str, str], list[Record]],
) -> None:
    subs = {s["id"]: s for s in full[("stripe", "subscriptions")]}
    charges = {c["id"]: c for c in full[("stripe", "charges")]}
    for charge in charges.values():
        assert charge["object"] == "charge" and charge["invoice"].startswith("in_")
        assert isinstance(charge["amount"], int) and charge["amount"] > 0
        assert charge["status"] in {"succeeded", "failed"}
        assert charge["paid"] == (charge["status"] == "succeeded")
        sub = subs[charge["metadata"]["subscription"]]
        assert charge["customer"] == sub["customer"] and charge["currency"] == sub["currency"]
        assert charge["created"] >= sub["created"]
    refunded: dict[str, int] = collections.Counter()
    for refund in full[("stripe", "refunds")]:
        charge = charges[refund["charge"]]
        assert refund["object"] == "refund" and refund["status"] == "succeeded"
        assert refund["created"] > charge["created"] and refund["currency"] == charge["currency"]
        assert 0 < refund["amount"] <= charge["amount"] and charge["paid"]
        refunded[refund["charge"]] += refund["amount"]
    for charge in charges.values():
        assert charge["amount_refunded"] == refunded.get(charge["id"], 0)
        assert charge["refunded"] == (charge["amount_refunded"] == charge["amount"] > 0)


def test_stripe_invoices_match_subscriptions_and_charges(
    full: dict[tuple[str, str], list[Record]],
) -> None:
    subs = {s["id"]: s for s in full[("stripe", "subscriptions")]}
    invoices = {i["id"]: i for i in full[("stripe", "invoices")]}
    charges = full[("stripe", "charges")]
    assert {c["invoice"] for c in charges} <= set(invoices)
    attempts = collections.Counter(c["invoice"] for c in charges)
    for invoice in invoices.values():
        assert invoice["object"] == "invoice" and invoice["id"].startswith("in_")
        sub = subs[invoice["subscription"]]
        assert invoice["customer"] == sub["customer"] and invoice["currency"] == sub["currency"]
        assert invoice["metadata"] == {**sub["metadata"], "subscription": sub["id"]}
        assert invoice["created"] >= sub["created"]
        (line,) = invoice["lines"]["data"]
        assert line["price"]["currency"] == invoice["currency"] and line["quantity"] >= 1
        assert line["amount"] == invoice["subtotal"]
        assert invoice["subtotal"] in (0, line["price"]["unit_amount"] * line["quantity"])
        assert 0 <= invoice["amount_due"] <= invoice["subtotal"]
        discount = sum(d["amount"] for d in invoice["total_discount_amounts"])
        assert invoice["amount_due"] == invoice["subtotal"] - discount
        assert invoice["status"] in {"paid", "open", "uncollectible"}
        assert invoice["amount_paid"] == (invoice["amount_due"] if invoice["paid"] else 0)
        assert invoice["attempt_count"] == attempts.get(invoice["id"], 0)
        assert invoice["period_start"] <= invoice["period_end"] <= invoice["created"]
        assert line["period"]["start"] == invoice["created"] < line["period"]["end"]
        if invoice["attempt_count"] == 0:  # the zero invoice that opens a trial
            assert invoice["amount_due"] == 0 and sub["trial_end"] == line["period"]["end"]
    for charge in charges:
        invoice = invoices[charge["invoice"]]
        assert charge["amount"] == invoice["amount_due"]
        if charge["paid"]:
            assert invoice["status"] == "paid" and invoice["charge"] == charge["id"]
    first = [i for i in invoices.values() if i["billing_reason"] == "subscription_create"]
    assert len(first) == len(subs)  # every subscription starts with one invoice


def test_zero_decimal_jpy_amounts_are_whole_yen_of_a_plausible_size() -> None:
    world = DemoWorld(DemoConfig(users=6000, days=180, spike=False))
    juniper = next(p for p in world.products() if p["currency"] == "jpy")
    for plan in juniper["plans"]:
        assert plan["unit_amount"] % 100 == 0  # list prices are round yen, not cents
        low, high = (500, 100_000) if plan["interval"] == "month" else (5_000, 1_000_000)
        assert low <= plan["unit_amount"] <= high
    charges = [
        c
        for c in world.fetch("stripe", "charges", world.start, world.end)
        if c["currency"] == "jpy"
    ]
    assert charges
    assert all(isinstance(c["amount"], int) and 300 <= c["amount"] <= 2_000_000 for c in charges)
    usd = next(p for p in world.products() if p["product_id"] == "atlas")
    assert usd["plans"][0]["unit_amount"] < juniper["plans"][0]["unit_amount"]


def test_zendesk_ticket_shape(full: dict[tuple[str, str], list[Record]]) -> None:
    tickets = full[("zendesk", "tickets")]
    assert sorted(t["id"] for t in tickets) == list(range(1, len(tickets) + 1))
    # 60 days: mostly free users' early questions (0.045 each) plus payers at 0.8 a paying year.
    assert 15 <= SMALL.users / len(tickets) <= 60
    for ticket in tickets:
        assert ticket["url"].endswith(f"/api/v2/tickets/{ticket['id']}.json")
        assert ticket["status"] in {"new", "open", "pending", "solved", "closed"}
        assert ticket["priority"] in {"low", "normal", "high", "urgent"}
        created, updated = ticket["created_at"], ticket["updated_at"]
        assert created.endswith("Z") and len(created) == 20 and created <= updated
        assert isinstance(ticket["requester_id"], int) and ticket["subject"]
        fields = {f["id"]: f["value"] for f in ticket["custom_fields"]}
        assert fields[360002].startswith("u") and isinstance(fields[360001], str)
        solved_at = ticket["metric_set"]["solved_at"]
        assert (solved_at is not None) == (ticket["status"] in {"solved", "closed"})
        reply = ticket["metric_set"]["reply_time_in_minutes"]["business"]
        assert reply is None if ticket["status"] == "new" else isinstance(reply, int)


# ------------------------------------------------------------------------- planted anomalies


def delta_deletions_per_day(world: DemoWorld) -> collections.Counter[date]:
    events = world.fetch("stripe", "events", world.start, world.end)
    return collections.Counter(
        at(e["created"]).date()
        for e in events
        if e["type"] == "customer.subscription.deleted"
        and e["data"]["object"]["metadata"]["product_id"] == "delta"
    )


def test_churn_spike_is_planted_on_the_spike_day(spiky: DemoWorld) -> None:
    spike = spiky.planted_spike()
    day = SPIKY.start + timedelta(days=90)
    assert spike == {
        "product_id": "delta",
        "day": day,
        "requested": 20,
        "eligible": spike["eligible"],
        "cancellations": 20,
    }
    per_day = delta_deletions_per_day(spiky)
    others = max(count for d, count in per_day.items() if d != day)
    assert per_day[day] >= SPIKY.spike_cancellations
    assert per_day[day] >= 4 * others
    hours = {
        at(e["created"]).hour
        for e in spiky.fetch("stripe", "events", at(0) + (day - date(1970, 1, 1)), spiky.end)
        if e["type"].endswith("deleted") and at(e["created"]).date() == day
    }
    assert len(hours) >= 8  # spread over the day


def test_spike_cancellations_are_real_cancellations(spiky: DemoWorld) -> None:
    day = SPIKY.start + timedelta(days=90)
    lo = datetime(day.year, day.month, day.day, tzinfo=UTC)
    deleted = [
        e["data"]["object"]
        for e in spiky.fetch("stripe", "events", lo, lo + timedelta(days=1))
        if e["type"].endswith("deleted")
        and e["data"]["object"]["metadata"]["product_id"] == "delta"
    ]
    subs = {s["id"]: s for s in spiky.fetch("stripe", "subscriptions", spiky.start, spiky.end)}
    for sub in deleted:
        assert subs[sub["id"]]["status"] == "canceled"
        assert at(sub["canceled_at"]).date() == day == at(sub["ended_at"]).date()
    later = spiky.fetch("stripe", "charges", lo + timedelta(days=1), spiky.end)
    assert not {c["metadata"]["subscription"] for c in later} & {s["id"] for s in deleted}


def test_no_spike_when_disabled() -> None:
    calm = DemoWorld(DemoConfig(users=3000, days=120, spike_day=90, spike=False))
    assert calm.planted_spike()["cancellations"] == 0
    assert max(delta_deletions_per_day(calm).values()) < 10


def test_spike_is_capped_in_worlds_too_small_for_it() -> None:
    tiny = DemoWorld(DemoConfig(users=300, days=30))
    spike = tiny.planted_spike()
    assert spike["cancellations"] == min(spike["requested"], spike["eligible"]) < 50


def test_planted_bad_records_are_counted_exactly(
    world: DemoWorld, full: dict[tuple[str, str], list[Record]]
) -> None:
    events = full[("mixpanel", "events")]
    insert_ids = collections.Counter(r["properties"]["$insert_id"] for r in events)
    found = {
        "missing_distinct_id": sum("distinct_id" not in r["properties"] for r in events),
        "unknown_event": sum(r["event"] == "Legacy Ping" for r in events),
        "duplicate": sum(n - 1 for n in insert_ids.values()),
        "future_time": sum(r["properties"]["time"] >= FAR for r in events),
    }
    assert found == world.planted_bad_records()
    assert all(count >= 1 for count in found.values())
    assert sum(found.values()) <= 0.002 * len(events) + 4
    duplicated = {i for i, n in insert_ids.items() if n > 1}
    copies = [r for r in events if r["properties"]["$insert_id"] in duplicated]
    by_id: dict[str, list[Record]] = collections.defaultdict(list)
    for record in copies:
        by_id[record["properties"]["$insert_id"]].append(record)
    assert all(len(group) == 2 and group[0] == group[1] for group in by_id.values())


# -------------------------------------------------------------------------------- scale


def timed(call: Callable[[], object]) -> float:
    begin = time.perf_counter()
    call()
    return time.perf_counter() - begin


def test_volume_scales_with_users() -> None:
    small = sum(DemoWorld(DemoConfig(users=1000, days=120)).counts().values())
    double = sum(DemoWorld(DemoConfig(users=2000, days=120)).counts().values())
    assert 1.7 <= double / small <= 2.3


@pytest.mark.slow
def test_default_scale() -> None:
    # Builds the default world (50,000 users, 730 days): a few seconds.
    world = get_world(DemoConfig())
    counts = world.counts()
    assert 650_000 <= sum(counts.values()) <= 850_000
    assert counts[("mixpanel", "events")] > 0.8 * sum(counts.values())
    spike = world.planted_spike()
    assert spike["eligible"] >= 150 and spike["cancellations"] == 50
    last_day = world.end - timedelta(days=1)
    per_day = delta_deletions_per_day(world)
    assert per_day[last_day.date()] >= 50
    assert max(n for d, n in per_day.items() if d != last_day.date()) <= 10
    hour = world.end - timedelta(hours=6)
    for source, stream in STREAMS:
        fetch = functools.partial(world.fetch, source, stream, hour, hour + timedelta(hours=1))
        fetch()  # warm up
        assert timed(fetch) < 0.05


def test_windows_outside_the_world_are_answered_without_simulating() -> None:
    from resources.clients import DemoSettings, DemoSourceClient

    settings = DemoSettings(seed=99, start="2024-11-01", days=3, users=50, products=4)
    client = DemoSourceClient(source="mixpanel", demo=settings)
    first, last = settings.span()
    assert (first, last) == (datetime(2024, 11, 1, tzinfo=UTC), datetime(2024, 11, 4, tzinfo=UTC))
    misses = get_world.cache_info().misses
    assert list(client.fetch("events", last, last + timedelta(hours=1))) == []
    assert list(client.fetch("events", first - timedelta(days=1), first)) == []
    assert get_world.cache_info().misses == misses  # no world was simulated
    inside = list(client.fetch("events", first, last))
    assert inside and get_world.cache_info().misses == misses + 1
