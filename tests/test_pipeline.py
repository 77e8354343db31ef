"""The skeleton's numbers on a small, hand-checked data set, idempotency and rejects.

Two days (2024-11-04 and 2024-11-05) of Mixpanel, Stripe and Zendesk records, written by hand
so every expected figure below can be checked with a pencil.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import AssetKey, DagsterInstance

from growth_assets.backfill import materialize_days
from resources.fx import CsvFxRates
from resources.settings import ModelSettings
from resources.warehouse import Warehouse
from tests.sources import static

DAY1, DAY2 = date(2024, 11, 4), date(2024, 11, 5)


def ts(hour: int, minute: int = 0, day: date = DAY2) -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).timestamp())


def mp(
    event: str, user: str | None, product: str, at: int, insert_id: str | None
) -> dict[str, Any]:
    props: dict[str, Any] = {"time": at, "product_id": product, "channel": "organic"}
    if user is not None:
        props["distinct_id"] = user
    if insert_id is not None:
        props["$insert_id"] = insert_id
    return {"event": event, "properties": props}


def charge(
    cid: str,
    product: str,
    user: str,
    amount: int,
    currency: str,
    at: int,
    status: str = "succeeded",
) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "charge",
        "amount": amount,
        "currency": currency,
        "created": at,
        "customer": f"cus_{user}",
        "status": status,
        "paid": status == "succeeded",
        "metadata": {"product_id": product, "user_id": user},
    }


MIXPANEL = [
    mp("Sign Up", "u1", "atlas", ts(10), "i1"),
    mp("Session Started", "u1", "atlas", ts(10, 5), "i2"),
    mp("Activated", "u1", "atlas", ts(11), "i3"),
    mp("Sign Up", "u2", "atlas", ts(12), "i4"),
    mp("Sign Up", "u2", "atlas", ts(12), "i4"),  # Mixpanel repeats records: deduplicated
    mp("Session Started", "u3", "beacon", ts(13), "i5"),
    mp("Session Started", None, "beacon", ts(14), "i6"),  # rejected: missing user id
    mp("Legacy Ping", "u3", "beacon", ts(15), "i7"),  # rejected: unmapped event
    mp("Session Started", "u3", "beacon", ts(16), None),  # rejected at ingest: no $insert_id
]
CHARGES = [
    charge("ch_1", "atlas", "u1", 2900, "usd", ts(10, 30)),
    charge("ch_2", "beacon", "u3", 3000, "jpy", ts(13, 30)),  # zero-decimal: 3000 yen
    charge("ch_3", "beacon", "u3", 5000, "usd", ts(13, 40), status="failed"),  # no revenue
    charge("ch_4", "atlas", "u2", 1000, "eur", ts(12, 30)),
    charge("ch_5", "atlas", "u2", 1000, "xyz", ts(12, 40)),  # rejected: unknown currency
]
REFUNDS = [  # refunds often lack metadata: product and user come from the charge
    {
        "id": "re_1",
        "object": "refund",
        "amount": 900,
        "currency": "usd",
        "charge": "ch_1",
        "created": ts(18),
        "status": "succeeded",
        "metadata": {},
    },
]
SUBSCRIPTION = {
    "id": "sub_1",
    "object": "subscription",
    "customer": "cus_u1",
    "status": "canceled",
    "currency": "usd",
    "metadata": {"product_id": "atlas", "user_id": "u1"},
    "items": {
        "object": "list",
        "data": [
            {
                "id": "si_1",
                "quantity": 1,
                "price": {
                    "id": "price_1",
                    "unit_amount": 2900,
                    "currency": "usd",
                    "recurring": {"interval": "month", "interval_count": 1},
                },
            }
        ],
    },
}
EVENTS = [
    {
        "id": "evt_1",
        "object": "event",
        "type": "customer.subscription.deleted",
        "created": ts(20),
        "data": {"object": SUBSCRIPTION},
    },
]
TICKETS = [
    {
        "id": 1,
        "created_at": "2024-11-05T09:00:00Z",
        "updated_at": "2024-11-05T15:00:00Z",
        "status": "solved",
        "custom_fields": [{"id": 360001, "value": "atlas"}, {"id": 360002, "value": "u1"}],
        "metric_set": {"solved_at": "2024-11-05T15:00:00Z"},
    },
    {
        "id": 2,
        "created_at": "2024-11-04T23:00:00Z",
        "updated_at": "2024-11-05T08:00:00Z",
        "status": "open",
        "custom_fields": [{"id": 360001, "value": "atlas"}, {"id": 360002, "value": "u2"}],
        "metric_set": {"solved_at": None},
    },
]


@pytest.fixture
def resources(warehouse: Warehouse, tmp_path: Path) -> dict[str, Any]:
    fx = tmp_path / "fx.csv"
    fx.write_text("day,currency,rate\n2024-11-01,EUR,1.08\n2024-11-01,JPY,0.0067\n")
    return {
        "warehouse": warehouse,
        "settings": ModelSettings(),
        "fx_source": CsvFxRates(path=str(fx)),
        "mixpanel": static("mixpanel", events=MIXPANEL),
        "stripe": static("stripe", charges=CHARGES, refunds=REFUNDS, events=EVENTS),
        "zendesk": static("zendesk", tickets=TICKETS),
    }


def metrics(warehouse: Warehouse) -> dict[tuple[str, str], dict[str, Any]]:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM growth.metrics_daily")).mappings().all()
    return {(str(r["day"]), r["product_id"]): dict(r) for r in rows}


def snapshot(warehouse: Warehouse) -> dict[str, Any]:
    with warehouse.engine.connect() as conn:

        def q(sql: str) -> list[Any]:
            return [tuple(r) for r in conn.execute(sa.text(sql))]

        return {
            "events": q(
                "SELECT event_id, occurred_at, event_type, value_reporting FROM growth.events ORDER BY 1"
            ),
            "rejected": q(
                "SELECT source, stream, stage, reject_key, reason FROM ops.rejected_events ORDER BY 1, 2, 3, 4"
            ),
            "users": q(
                "SELECT product_id, user_id, signed_up_at, first_seen_at, last_seen_at FROM growth.users ORDER BY 1, 2"
            ),
            "metrics": q(
                "SELECT day, product_id, gross_revenue, refunds, net_revenue, signups, activations, churned_customers, active_users, tickets_created, tickets_solved, events FROM growth.metrics_daily ORDER BY 1, 2"
            ),
            "raw": q("SELECT id, payload FROM raw.mixpanel_events ORDER BY 1"),
        }


def build(resources: dict[str, Any]) -> list[Any]:
    with DagsterInstance.ephemeral() as instance:
        _, checks = materialize_days(DAY1, DAY2, resources, instance)
    return checks


def test_hand_checked_numbers(resources: dict[str, Any], warehouse: Warehouse) -> None:
    checks = build(resources)
    failed = [c for c in checks if not c.passed and c.severity == "ERROR"]
    assert not failed, failed
    m = metrics(warehouse)
    atlas, beacon, total = (
        m[("2024-11-05", "atlas")],
        m[("2024-11-05", "beacon")],
        m[("2024-11-05", "all")],
    )
    assert atlas["gross_revenue"] == Decimal("39.80")  # 29.00 USD + 10.00 EUR × 1.08
    assert atlas["refunds"] == Decimal("9.00")
    assert atlas["net_revenue"] == Decimal("30.80")
    assert (atlas["signups"], atlas["activations"], atlas["active_users"]) == (2, 1, 2)
    assert (atlas["churned_customers"], atlas["tickets_created"], atlas["tickets_solved"]) == (
        1,
        1,
        1,
    )
    assert beacon["gross_revenue"] == Decimal("20.10")  # 3000 JPY × 0.0067, not ÷ 100
    assert (beacon["signups"], beacon["active_users"]) == (0, 1)
    assert total["gross_revenue"] == Decimal("59.90")
    assert total["net_revenue"] == Decimal("50.90")
    assert (total["signups"], total["active_users"], total["churned_customers"]) == (2, 3, 1)
    # Ticket 2 was created the evening before: it counts on day 1, for atlas.
    assert m[("2024-11-04", "atlas")]["tickets_created"] == 1
    assert m[("2024-11-04", "all")]["events"] == 1
    # beacon's first user appears on day 2, so it has no row on day 1.
    assert ("2024-11-04", "beacon") not in m


def test_invalid_rows_are_rejected_with_reasons(
    resources: dict[str, Any], warehouse: Warehouse
) -> None:
    build(resources)
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT source, stream, stage, source_id, reason FROM ops.rejected_events ORDER BY source, source_id NULLS FIRST"
            )
        ).all()
    reasons = {(r.source, r.stage, r.source_id): r.reason for r in rows}
    assert reasons == {
        ("mixpanel", "ingest", None): "missing id (properties.$insert_id)",
        ("mixpanel", "normalise", "i6"): "missing user id",
        ("mixpanel", "normalise", "i7"): "unmapped source event 'Legacy Ping'",
        ("stripe", "normalise", "ch_5"): "unknown currency 'XYZ'",
    }


def test_rematerialising_changes_nothing(resources: dict[str, Any], warehouse: Warehouse) -> None:
    build(resources)
    first = snapshot(warehouse)
    build(resources)
    assert snapshot(warehouse) == first
    with warehouse.engine.connect() as conn:
        dupes = conn.execute(
            sa.text("SELECT count(*) - count(DISTINCT event_id) FROM growth.events")
        ).scalar()
    assert dupes == 0


def test_missing_fx_rate_is_a_rejection_not_one(
    resources: dict[str, Any], warehouse: Warehouse, tmp_path: Path
) -> None:
    fx = tmp_path / "usd_only.csv"
    fx.write_text("day,currency,rate\n2024-11-01,GBP,1.27\n")
    resources["fx_source"] = CsvFxRates(path=str(fx))
    build(resources)
    with warehouse.engine.connect() as conn:
        reasons = dict(
            conn.execute(
                sa.text("SELECT source_id, reason FROM ops.rejected_events WHERE source = 'stripe'")
            ).all()
        )
        revenue = conn.execute(
            sa.text(
                "SELECT gross_revenue FROM growth.metrics_daily WHERE day = '2024-11-05' AND product_id = 'all'"
            )
        ).scalar()
    assert reasons["ch_2"] == "no FX rate JPY->USD on or before 2024-11-05"
    assert reasons["ch_4"] == "no FX rate EUR->USD on or before 2024-11-05"
    assert revenue == Decimal("29.00")


def test_tier_is_reported_in_metadata(resources: dict[str, Any], warehouse: Warehouse) -> None:
    with DagsterInstance.ephemeral() as instance:
        materialize_days(DAY1, DAY2, resources, instance)
        record = instance.get_latest_materialization_event(AssetKey(["growth", "metrics_daily"]))
    assert record is not None and record.asset_materialization is not None
    tier = record.asset_materialization.metadata["timescaledb_tier"].value
    assert tier == warehouse.tier().value


def stale_marks(warehouse: Warehouse) -> dict[tuple[str, str], Any]:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT window_start, source, marked_at FROM ops.stale_windows")
        ).all()
    return {(r.window_start.astimezone(UTC).isoformat(), r.source): r.marked_at for r in rows}


def test_changed_hours_are_marked_stale_and_reruns_mark_nothing(
    resources: dict[str, Any], warehouse: Warehouse
) -> None:
    build(resources)
    first = stale_marks(warehouse)
    assert ("2024-11-05T10:00:00+00:00", "mixpanel") in first  # a first load changes its hours
    build(resources)
    assert stale_marks(warehouse) == first  # same data: no hour is marked again
    late = mp("Session Started", "u9", "atlas", ts(10, 45, day=DAY1), "late1")
    resources["mixpanel"] = static("mixpanel", events=[*MIXPANEL, late])
    build(resources)
    marks = stale_marks(warehouse)
    changed = {k for k in marks if first.get(k) != marks[k]}
    assert changed == {("2024-11-04T10:00:00+00:00", "mixpanel")}
