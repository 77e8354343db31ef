"""An independent reference implementation (polars) of MRR movements and funnels, which must
agree exactly with the SQL assets on generated data of a few thousand users.

The data is generated here (numpy, seeded) and written straight into growth.events,
growth.users and growth.fx_rates; the four SaaS assets are then materialised through Dagster
over six months as one single-run backfill, their checks must pass, and the reference,
computed from the same tables read back, must give the very same rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, materialize

from growth_assets.partitions import range_tags
from growth_assets.saas.assets import SAAS_ASSETS, SAAS_KEYS
from growth_assets.saas.config import DEFAULT_STEPS
from resources.settings import ModelSettings
from resources.warehouse import Warehouse
from tests.saas_helpers import add_users

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2025, 7, 1, tzinfo=UTC)
SPAN = int((END - START).total_seconds())
PRODUCTS = {"atlas": "USD", "beacon": "EUR", "cinder": "JPY"}
CHANNELS = ["organic", "paid_search", "referral", "social", None]
COUNTRIES = ["US", "GB", "DE", "JP", None]
USERS = 3000
WINDOW_DAYS = 30
MICRO = Decimal("0.000001")


def _when(offset: float) -> datetime:
    return START + timedelta(seconds=int(offset))


def generate(seed: int = 3, n_users: int = USERS) -> dict[str, list[Any]]:
    """Users, funnel events, subscription lifecycles (trials, changes at the same instant,
    churn, reactivation, second subscriptions), three currencies and their FX rates."""
    rng = np.random.default_rng(seed)
    products = list(PRODUCTS)
    users, events, rates = [], [], []
    n = 0

    def add(at: float, product: str, etype: str, user: str, **extra: Any) -> None:
        nonlocal n
        n += 1
        if at < SPAN:
            events.append((_when(at), product, etype, user, extra, f"g{n}"))

    for i in range(n_users):
        product = products[i % 3]
        user = f"u{i}"
        if rng.random() < 0.9:
            users.append(
                (product, user, CHANNELS[rng.integers(5)] or "organic", COUNTRIES[rng.integers(5)])
            )
        signup = float(rng.uniform(0, SPAN * 0.85))
        if rng.random() < 0.95:
            add(signup, product, "signup", user)
            if rng.random() < 0.1:
                add(signup + rng.uniform(0, 20) * 86400, product, "signup", user)
        activation = signup + (0 if rng.random() < 0.1 else rng.exponential(3) * 86400)
        if rng.random() < 0.7:
            add(activation, product, "activation", user)
        if rng.random() < 0.55:
            key = activation if rng.random() < 0.1 else signup + rng.uniform(-2, 40) * 86400
            add(key, product, "key_action", user)
            if rng.random() < 0.3:
                add(key + rng.uniform(0, 10) * 86400, product, "key_action", user)
        if rng.random() < 0.35:
            add(signup + rng.uniform(0, 45) * 86400, product, "revenue", user)

        if rng.random() < 0.4:  # a paying customer with one or two subscriptions
            currency = PRODUCTS[product]
            for s in range(1 + int(rng.random() < 0.12)):
                sid = f"sub_{i}_{s}"
                at = signup + rng.uniform(0, 30) * 86400
                lifecycles = 1 + int(rng.random() < 0.15)  # a later reactivation
                for life in range(lifecycles):
                    sub_id = f"{sid}_{life}"
                    kind = "subscription_started"
                    for _ in range(1 + int(rng.integers(0, 4))):
                        if currency == "JPY":
                            value = Decimal(int(rng.integers(1, 20)) * 500)
                        elif rng.random() < 0.2:  # a yearly price: 6 decimals
                            value = (Decimal(int(rng.integers(100, 2000))) / 12).quantize(MICRO)
                        else:
                            value = Decimal(int(rng.integers(900, 20000))) / 100
                        if kind == "subscription_started" and rng.random() < 0.3:
                            value = Decimal(0)  # a trial
                        add(at, product, kind, user, value=value, currency=currency, sub=sub_id)
                        kind = "subscription_changed"
                        at += 0 if rng.random() < 0.05 else rng.exponential(25) * 86400
                    if rng.random() < 0.5:
                        add(
                            at,
                            product,
                            "churn",
                            user,
                            value=Decimal(1),
                            currency=currency,
                            sub=sub_id,
                        )
                        at += rng.exponential(40) * 86400
                    else:
                        break
    for currency, level in (("EUR", 1.08), ("JPY", 0.0067)):
        day = date(2024, 12, 31)
        while day < END.date():
            rate = Decimal(str(round(level * float(rng.uniform(0.95, 1.05)), 6)))
            rates.append((day, currency, rate))
            day += timedelta(days=int(rng.integers(3, 20)))
    return {"users": users, "events": events, "rates": rates}


def load(warehouse: Warehouse, data: dict[str, list[Any]]) -> None:
    add_users(warehouse, data["users"])
    rows = [
        {
            "at": at,
            "product": product,
            "etype": etype,
            "user": user,
            "value": extra.get("value"),
            "currency": extra.get("currency"),
            "props": f'{{"subscription": "{extra["sub"]}"}}' if "sub" in extra else "{}",
            "source_id": source_id,
        }
        for at, product, etype, user, extra, source_id in data["events"]
    ]
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO growth.events (event_id, occurred_at, product_id, source, stream, "
                "source_id, event_type, user_id, value, currency, properties) VALUES "
                "(gen_random_uuid(), :at, :product, 'test', 'generated', :source_id, :etype, "
                ":user, :value, :currency, CAST(:props AS jsonb))"
            ),
            rows,
        )
        conn.execute(
            sa.text(
                "INSERT INTO growth.fx_rates (day, currency, reporting_currency, rate) "
                "VALUES (:day, :currency, 'USD', :rate)"
            ),
            [{"day": d, "currency": c, "rate": r} for d, c, r in data["rates"]],
        )


def frame(warehouse: Warehouse, sql: str) -> pl.DataFrame:
    with warehouse.engine.connect() as conn:
        result = conn.execute(sa.text(sql))
        columns = list(result.keys())
        rows = [tuple(r) for r in result]
    return pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)


def half_up(value: Any) -> Decimal:
    return Decimal(value).quantize(MICRO, rounding=ROUND_HALF_UP)


# --- MRR reference ----------------------------------------------------------------------------


def months(first: date, stop: date) -> list[date]:
    out, m = [], first
    while m < stop:
        out.append(m)
        m = date(m.year + m.month // 12, m.month % 12 + 1, 1)
    return out


def reference_mrr(warehouse: Warehouse, first: date, stop: date) -> pl.DataFrame:
    """Customer-month rows (month, product_id, customer_id, start, end, movement, subs)."""
    ev = frame(
        warehouse,
        "SELECT product_id, user_id AS customer_id, properties ->> 'subscription' AS sid, "
        "occurred_at AT TIME ZONE 'UTC' AS at, event_type, value, currency, source_id "
        "FROM growth.events WHERE event_type IN "
        "('subscription_started', 'subscription_changed', 'churn')",
    )
    fx = frame(warehouse, "SELECT day, currency, rate FROM growth.fx_rates")
    ev = (
        ev.with_columns(
            mrr=pl.when(pl.col("event_type") == "churn")
            .then(pl.lit(Decimal(0)))
            .otherwise(pl.col("value")),
            ord=pl.col("event_type").replace_strict(
                {"subscription_started": 1, "subscription_changed": 2, "churn": 3}
            ),
        )
        .sort(["sid", "at", "ord", "source_id"])
        .with_columns(until=pl.col("at").shift(-1).over("sid"))
    )
    paying = ev.filter(pl.col("mrr") > 0).with_columns(
        first_t=pl.col("at").dt.truncate("1mo").dt.offset_by("1mo")
    )
    first_paid = (
        paying.filter(pl.col("until").is_null() | (pl.col("first_t") <= pl.col("until")))
        .group_by(["product_id", "customer_id"])
        .agg(first_paid=pl.col("first_t").min())
    )
    ms = months(first, stop)
    bounds = pl.DataFrame({"t": [datetime(m.year, m.month, 1) for m in [*ms, stop]]})
    snap = paying.join(bounds, how="cross").filter(
        (pl.col("at") < pl.col("t"))
        & (pl.col("until").is_null() | (pl.col("t") <= pl.col("until")))
    )
    rate_rows = []
    for m in ms:
        nxt = months(m, stop + timedelta(days=40))[1]
        for currency in PRODUCTS.values():
            if currency == "USD":
                rate_rows.append((m, currency, Decimal(1)))
                continue
            known = fx.filter((pl.col("currency") == currency) & (pl.col("day") < nxt))
            rate_rows.append((m, currency, known.sort("day")["rate"][-1]))
    rates = pl.DataFrame(rate_rows, schema=["month", "currency", "rate"], orient="row")
    pairs = pl.DataFrame(
        [(m, datetime(m.year, m.month, 1), "start") for m in ms]
        + [
            (m, datetime(n.year, n.month, 1), "end")
            for m, n in zip(ms, [*ms[1:], stop], strict=True)
        ],
        schema=["month", "t", "side"],
        orient="row",
    )
    valued = (
        snap.join(pairs, on="t")
        .join(rates, on=["month", "currency"])
        .with_columns(amount=pl.col("mrr") * pl.col("rate"))
    )
    customer = valued.group_by(["month", "product_id", "customer_id"]).agg(
        start=pl.col("amount").filter(pl.col("side") == "start").sum(),
        end=pl.col("amount").filter(pl.col("side") == "end").sum(),
        subs=(pl.col("side") == "end").sum(),
    )
    out = []
    paid_at = {(r["product_id"], r["customer_id"]): r["first_paid"] for r in first_paid.to_dicts()}
    for r in customer.to_dicts():
        start, end = half_up(r["start"]), half_up(r["end"])
        month_ts = datetime(r["month"].year, r["month"].month, 1)
        if start == 0 and end > 0:
            movement = (
                "reactivation" if paid_at[(r["product_id"], r["customer_id"])] < month_ts else "new"
            )
        elif start > 0 and end == 0:
            movement = "churn"
        elif end > start:
            movement = "expansion"
        elif end < start:
            movement = "contraction"
        else:
            movement = "none"
        out.append((r["month"], r["product_id"], r["customer_id"], start, end, movement, r["subs"]))
    return pl.DataFrame(
        out,
        schema=["month", "product_id", "customer_id", "start_mrr", "end_mrr", "movement", "subs"],
        orient="row",
    )


# --- funnel reference -------------------------------------------------------------------------


def reference_funnel(warehouse: Warehouse) -> pl.DataFrame:
    """(product_id, user_id, first_step_at, steps_reached) for the default funnel."""
    steps = [s.event_type for s in DEFAULT_STEPS]
    ev = frame(
        warehouse,
        "SELECT product_id, user_id, event_type, occurred_at FROM growth.events",
    ).filter(pl.col("event_type").is_in(steps))
    window = timedelta(days=WINDOW_DAYS)
    reach = (
        ev.filter(pl.col("event_type") == steps[0])
        .group_by(["product_id", "user_id"])
        .agg(first=pl.col("occurred_at").min())
        .with_columns(last=pl.col("first"), reached=pl.lit(1))
    )
    for k, etype in enumerate(steps[1:], start=2):
        found = (
            reach.filter(pl.col("reached") == k - 1)
            .join(ev.filter(pl.col("event_type") == etype), on=["product_id", "user_id"])
            .filter(
                (pl.col("occurred_at") >= pl.col("last"))
                & (pl.col("occurred_at") <= pl.col("first") + window)
            )
            .group_by(["product_id", "user_id"])
            .agg(at=pl.col("occurred_at").min())
        )
        reach = (
            reach.join(found, on=["product_id", "user_id"], how="left")
            .with_columns(
                last=pl.coalesce("at", "last"),
                reached=pl.when(pl.col("at").is_not_null()).then(k).otherwise(pl.col("reached")),
            )
            .drop("at")
        )
    return reach.select("product_id", "user_id", "first", "reached")


# --- the comparison ---------------------------------------------------------------------------


@pytest.fixture
def generated(warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Iterator[Warehouse]:
    monkeypatch.setenv("GROWTH_FUNNEL_WINDOW_DAYS", str(WINDOW_DAYS))
    load(warehouse, generate())
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            SAAS_ASSETS,
            selection=SAAS_KEYS,
            resources={"warehouse": warehouse, "settings": ModelSettings()},
            instance=instance,
            tags=range_tags(date(2025, 1, 1), date(2025, 6, 30), "daily"),
        )
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
    assert result.success and not failed, failed
    yield warehouse


def test_sql_matches_the_polars_reference(generated: Warehouse) -> None:
    wh = generated
    ref = reference_mrr(wh, date(2025, 1, 1), date(2025, 7, 1))
    sql = frame(
        wh,
        "SELECT month, product_id, customer_id, start_mrr, end_mrr, movement, "
        "subscriptions_end AS subs FROM growth.mrr_customer_monthly",
    )
    key = ["month", "product_id", "customer_id"]
    assert ref.height > 1000
    assert ref.sort(key).rows() == sql.sort(key).rows()
    assert set(ref["movement"]) == {
        "new",
        "expansion",
        "contraction",
        "churn",
        "reactivation",
        "none",
    }

    summary = frame(
        wh,
        "SELECT month, product_id, start_mrr, new_mrr, expansion_mrr, reactivation_mrr, "
        "contraction_mrr, churned_mrr, end_mrr, customers_start, churned_customers, nrr "
        "FROM growth.mrr_monthly WHERE product_id <> 'all' ORDER BY 1, 2",
    )
    expected = (
        ref.group_by(["month", "product_id"])
        .agg(
            start=pl.col("start_mrr").sum(),
            new=pl.col("end_mrr").filter(pl.col("movement") == "new").sum(),
            churn=pl.col("start_mrr").filter(pl.col("movement") == "churn").sum(),
            end=pl.col("end_mrr").sum(),
            customers_start=(pl.col("start_mrr") > 0).sum(),
            churned=(pl.col("movement") == "churn").sum(),
        )
        .sort(["month", "product_id"])
    )
    got = summary.select(
        "month",
        "product_id",
        "start_mrr",
        "new_mrr",
        "churned_mrr",
        "end_mrr",
        "customers_start",
        "churned_customers",
    )
    assert [tuple(r) for r in expected.rows()] == [tuple(r) for r in got.rows()]

    funnel = reference_funnel(wh)
    users = frame(
        wh,
        "SELECT product_id, user_id, first_step_at AS first, steps_reached AS reached "
        "FROM growth.funnel_users",
    )
    fkey = ["product_id", "user_id"]
    assert funnel.height > 2500
    assert funnel.sort(fkey).rows() == users.sort(fkey).rows()
    assert set(funnel["reached"]) == {1, 2, 3, 4}
    monthly = (
        funnel.with_columns(
            cohort=pl.col("first").dt.convert_time_zone("UTC").dt.truncate("1mo").dt.date()
        )
        .group_by(["cohort", "product_id"])
        .agg(*[(pl.col("reached") >= k).sum().alias(f"s{k}") for k in range(1, 5)])
        .sort(["cohort", "product_id"])
    )
    conv = frame(
        wh,
        "SELECT cohort_start, product_id, step_no, users FROM growth.funnel_conversion "
        "WHERE cohort_grain = 'month' AND segment = 'all' AND product_id <> 'all'",
    )
    table = {(r[0], r[1], r[2]): r[3] for r in conv.rows()}
    for row in monthly.rows():
        assert [table[(row[0], row[1], k)] for k in range(1, 5)] == list(row[2:])
