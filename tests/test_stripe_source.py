"""The Stripe source end to end: the real ``stripe`` library against a local Stripe API.

Every test talks HTTP to :class:`tests.receivers.stripe_api.StripeReceiver` on 127.0.0.1
through :class:`resources.stripe_api.StripeApiClient` (so through ``stripe.StripeClient``),
with retry policies of a few milliseconds. Pipeline tests run the real assets with Dagster on
a migrated PostgreSQL database of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import (
    AssetKey,
    DagsterInstance,
    EnvVar,
    build_schedule_context,
    materialize,
)

from growth_assets.backfill import materialize_days
from growth_assets.definitions import ASSETS, build_definitions
from growth_assets.models.events import FX_RATES_KEY
from growth_assets.models.subscriptions import SUBSCRIPTIONS_KEY
from growth_assets.sources.stripe_schedules import (
    RESNAPSHOT_JOB,
    stripe_resnapshot_schedule,
)
from resources.fx import CsvFxRates
from resources.retries import CredentialsError, SourceUnavailableError
from resources.settings import ModelSettings
from resources.stripe_api import API_VERSION, StripeApiClient, StripeConfigError
from resources.warehouse import Warehouse
from tests.receivers.stripe_api import Fault, StripeReceiver
from tests.sources import static

KEY = "sk_test_51GrowthAssetsSecretKey0000LocalOnly9zQ"
DAY = date(2024, 11, 5)
START = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
END = START + timedelta(days=1)


def ts(hour: int, minute: int = 0, day: date = DAY) -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).timestamp())


def charge(
    cid: str, amount: int, currency: str, at: int, product: str = "atlas", user: str = "u1"
) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "charge",
        "amount": amount,
        "currency": currency,
        "created": at,
        "customer": f"cus_{user}",
        "status": "succeeded",
        "paid": True,
        "metadata": {"product_id": product, "user_id": user},
    }


def subscription(
    sid: str,
    *,
    status: str = "active",
    currency: str = "usd",
    unit_amount: int = 2900,
    quantity: int = 1,
    interval: str = "month",
    interval_count: int = 1,
    coupon: dict[str, Any] | None = None,
    usage_type: str = "licensed",
    created: int | None = None,
    product: str = "atlas",
) -> dict[str, Any]:
    created = ts(9) if created is None else created
    return {
        "id": sid,
        "object": "subscription",
        "customer": f"cus_{sid}",
        "status": status,
        "currency": currency,
        "created": created,
        "start_date": created,
        "trial_end": created + 14 * 86_400 if status == "trialing" else None,
        "canceled_at": created + 3_600 if status == "canceled" else None,
        "ended_at": created + 3_600 if status == "canceled" else None,
        "cancel_at_period_end": False,
        "metadata": {"product_id": product, "user_id": f"user_{sid}"},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{sid}",
                    "object": "subscription_item",
                    "quantity": quantity,
                    "price": {
                        "id": f"price_{sid}",
                        "object": "price",
                        "unit_amount": unit_amount,
                        "currency": currency,
                        "recurring": {
                            "interval": interval,
                            "interval_count": interval_count,
                            "usage_type": usage_type,
                        },
                    },
                }
            ],
        },
        "discount": None if coupon is None else {"object": "discount", "coupon": coupon},
    }


@pytest.fixture
def receiver() -> Iterator[StripeReceiver]:
    with StripeReceiver(KEY) as receiver:
        yield receiver


def client(receiver: StripeReceiver, key: Any = KEY, **overrides: Any) -> StripeApiClient:
    settings: dict[str, Any] = {
        "api_key": key,
        "api_base": receiver.url,
        "requests_per_second": 0,
        "timeout_seconds": 0.5,
        "retry_attempts": 4,
        "retry_initial_seconds": 0.01,
        "retry_max_seconds": 0.05,
        "retry_jitter_seconds": 0,
        **overrides,
    }
    return StripeApiClient(**settings)


# ----------------------------------------------------------------------------- the client


def test_pages_through_a_window_with_starting_after(receiver: StripeReceiver) -> None:
    charges = [charge(f"ch_{i:03d}", 100 + i, "usd", ts(0) + 60 * i) for i in range(250)]
    receiver.add(
        "charges", *charges, charge("ch_next_day", 1, "usd", ts(1, day=DAY + timedelta(1)))
    )
    stripe = client(receiver)
    got = list(stripe.fetch("charges", START, END))
    assert sorted(c["id"] for c in got) == sorted(c["id"] for c in charges)
    assert got[0] == charges[-1]  # newest first, the payload exactly as the API sent it
    pages = receiver.pages("/v1/charges")
    assert [p.query.get("starting_after") for p in pages] == [None, ["ch_150"], ["ch_050"]]
    assert all(p.query["limit"] == ["100"] for p in pages)
    assert all(p.query["created[gte]"] == [str(ts(0))] for p in pages)
    assert all(p.query["created[lt]"] == [str(int(END.timestamp()))] for p in pages)
    assert {p.stripe_version for p in pages} == {API_VERSION}
    assert stripe.stats("charges") == {
        "requests": 3,
        "pages": 3,
        "retries": 0,
        "retry_wait_seconds": 0.0,
        "objects_listed": 250,
        "cursor_before": f"created>={START.isoformat()}",
        "cursor_after": "ch_000",
    }


def test_subscriptions_include_canceled_and_events_only_subscription_types(
    receiver: StripeReceiver,
) -> None:
    receiver.add("subscriptions", subscription("sub_a"), subscription("sub_b", status="canceled"))
    event = {"object": "event", "created": ts(10), "data": {"object": {}}}
    receiver.add(
        "events",
        {**event, "id": "evt_1", "type": "customer.subscription.updated"},
        {**event, "id": "evt_2", "type": "invoice.paid"},
        {**event, "id": "evt_3", "type": "customer.subscription.deleted"},
    )
    stripe = client(receiver)
    assert {s["id"] for s in stripe.fetch("subscriptions", START, END)} == {"sub_a", "sub_b"}
    assert {e["id"] for e in stripe.fetch("events", START, END)} == {"evt_1", "evt_3"}
    (request,) = receiver.pages("/v1/subscriptions")
    assert request.query["status"] == ["all"]


def test_rate_limit_waits_for_retry_after(receiver: StripeReceiver) -> None:
    receiver.add("charges", *[charge(f"ch_{i}", 100, "usd", ts(3) + i) for i in range(5)])
    receiver.script("/v1/charges", None, Fault.http(429, retry_after="0.3"))
    stripe = client(receiver, page_size=2)
    assert len(list(stripe.fetch("charges", START, END))) == 5
    stats = stripe.progress("charges").calls
    assert (stats.pages, stats.requests, stats.retries) == (3, 4, 1)
    assert stats.waited_seconds >= 0.3
    second, third = receiver.pages("/v1/charges")[1:3]
    assert second.query["starting_after"] == third.query["starting_after"]  # same page again


@pytest.mark.parametrize(
    "fault",
    [Fault.http(500), Fault.http(503), Fault.delay(1.5), Fault.truncated(), Fault.not_json()],
    ids=["500", "503", "timeout", "truncated", "not-json"],
)
def test_transient_faults_are_retried(receiver: StripeReceiver, fault: Fault) -> None:
    receiver.add("refunds", *[{"id": f"re_{i}", "created": ts(4) + i} for i in range(5)])
    receiver.script("/v1/refunds", None, fault)
    stripe = client(receiver, page_size=2)
    assert sorted(r["id"] for r in stripe.fetch("refunds", START, END)) == [
        f"re_{i}" for i in range(5)
    ]
    stats = stripe.progress("refunds").calls
    assert (stats.pages, stats.retries) == (3, 1)
    assert KEY not in " ".join(stats.errors)


def test_gives_up_after_the_policy_and_names_the_source(receiver: StripeReceiver) -> None:
    receiver.add("charges", charge("ch_1", 100, "usd", ts(5)))
    receiver.script("/v1/charges", *[Fault.http(500)] * 4)
    stripe = client(receiver)
    with pytest.raises(SourceUnavailableError, match="stripe: gave up after 4 attempts") as info:
        list(stripe.fetch("charges", START, END))
    assert KEY not in str(info.value)
    assert len(receiver.requests) == 4


@pytest.mark.parametrize(("status", "wording"), [(401, "rejected"), (403, "denied access")])
def test_bad_credentials_fail_at_once_naming_the_variable(
    receiver: StripeReceiver, status: int, wording: str
) -> None:
    key = "sk_test_WrongKeyWrongKeyWrongKey4242"
    if status == 403:
        key = "rk_test_RestrictedKeyWithoutCharges77"
        receiver.restricted_keys.add(key)
    stripe = client(receiver, key=key)
    with pytest.raises(CredentialsError, match=f"{wording}.*STRIPE_API_KEY") as info:
        list(stripe.fetch("charges", START, END))
    assert info.value.status == status
    assert len(receiver.requests) == 1  # never retried
    text = f"{info.value} {info.value!r} {info.value.__cause__}"
    assert key not in text and key[-4:] not in text  # not even Stripe's redacted echo


def test_from_env_needs_the_key_and_keeps_it_out_of_sight(
    monkeypatch: pytest.MonkeyPatch, receiver: StripeReceiver
) -> None:
    with pytest.raises(StripeConfigError, match="STRIPE_API_KEY is not set"):
        StripeApiClient.from_env({})
    with pytest.raises(StripeConfigError, match="STRIPE_TIMEOUT_SECONDS must be a number"):
        StripeApiClient.from_env({"STRIPE_API_KEY": KEY, "STRIPE_TIMEOUT_SECONDS": "soon"})
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    env = {"STRIPE_API_KEY": KEY, "STRIPE_API_BASE": receiver.url}
    stripe = StripeApiClient.from_env(env)
    assert stripe.api_base == receiver.url and stripe.requests_per_second == 20
    assert KEY not in repr(stripe) and KEY not in str(stripe.describe())
    receiver.add("customers", {"id": "cus_1", "object": "customer", "created": ts(1)})
    assert [c["id"] for c in stripe.fetch("customers", START, END)] == ["cus_1"]


# ------------------------------------------------------------------------- the pipeline


@pytest.fixture
def fx_csv(tmp_path: Path) -> str:
    path = tmp_path / "fx.csv"
    path.write_text("day,currency,rate\n2024-11-01,EUR,1.08\n2024-11-01,JPY,0.0067\n")
    return str(path)


def pipeline_resources(
    warehouse: Warehouse, receiver: StripeReceiver, fx_csv: str, **client_overrides: Any
) -> dict[str, Any]:
    return {
        "warehouse": warehouse,
        "settings": ModelSettings(),
        "fx_source": CsvFxRates(path=fx_csv),
        "mixpanel": static("mixpanel"),
        "zendesk": static("zendesk"),
        "stripe": client(receiver, key=EnvVar("STRIPE_API_KEY"), **client_overrides),
    }


def rows(warehouse: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    with warehouse.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def warehouse_state(warehouse: Warehouse) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "raw": rows(
            warehouse,
            "SELECT 'charges', id, occurred_at, payload FROM raw.stripe_charges UNION ALL "
            "SELECT 'subs', id, occurred_at, payload FROM raw.stripe_subscriptions ORDER BY 1, 2",
        ),
        "events": rows(
            warehouse,
            "SELECT event_id, event_type, value, currency, value_reporting FROM growth.events "
            "ORDER BY 1",
        ),
        "rejected": rows(
            warehouse,
            "SELECT stream, stage, reject_key, source_id, reason FROM ops.rejected_events "
            "ORDER BY 1, 2, 3",
        ),
        "subscriptions": rows(
            warehouse, "SELECT *, NULL AS updated_at FROM growth.subscriptions ORDER BY 1"
        ),
    }


MONEY = [
    charge("ch_usd", 2900, "usd", ts(10, 30)),
    charge("ch_jpy", 3000, "jpy", ts(11, 15), product="juniper", user="u2"),  # zero-decimal
    charge("ch_eur", 1000, "eur", ts(12, 30), product="garnet", user="u3"),
    charge("ch_krw", 50000, "krw", ts(13), product="juniper", user="u4"),  # no KRW rate
    charge("ch_xyz", 1000, "xyz", ts(14), user="u5"),  # unknown currency
]
NO_CREATED = {"id": "ch_nocreated", "object": "charge", "amount": 500, "currency": "usd"}


def load_day(resources: dict[str, Any], instance: DagsterInstance) -> list[Any]:
    _, checks = materialize_days(DAY, DAY, resources, instance)
    return checks


def test_loads_amounts_rejects_and_reruns_identically(
    warehouse: Warehouse,
    receiver: StripeReceiver,
    fx_csv: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    receiver.add("charges", *MONEY)
    receiver.add_raw("charges", ts(15), NO_CREATED)
    receiver.add("subscriptions", subscription("sub_m"))
    resources = pipeline_resources(warehouse, receiver, fx_csv, page_size=2)
    caplog.set_level(logging.DEBUG)
    with DagsterInstance.ephemeral() as instance:
        load_day(resources, instance)
        first = warehouse_state(warehouse)
        load_day(resources, instance)
        assert warehouse_state(warehouse) == first  # re-running the partitions changes nothing
        shown = []
        for key in instance.get_asset_keys():
            event = instance.get_latest_materialization_event(key)
            if event is not None and event.asset_materialization is not None:
                shown.append(str(event.asset_materialization.metadata))
        raw = instance.get_latest_materialization_event(AssetKey(["raw", "stripe_charges"]))
    revenue = {
        source_id: (value, currency, reporting)
        for source_id, value, currency, reporting in rows(
            warehouse,
            "SELECT source_id, value, currency, value_reporting FROM growth.events "
            "WHERE event_type = 'revenue'",
        )
    }
    assert revenue == {
        "ch_usd": (Decimal("29"), "USD", Decimal("29")),
        "ch_jpy": (Decimal("3000"), "JPY", Decimal("20.1")),  # 3000 yen, not 30
        "ch_eur": (Decimal("10"), "EUR", Decimal("10.8")),
    }
    reasons = dict(
        rows(warehouse, "SELECT coalesce(source_id, stage), reason FROM ops.rejected_events")
    )
    assert reasons == {
        "ch_nocreated": "bad timestamp (created): missing timestamp",
        "ch_krw": "no FX rate KRW->USD on or before 2024-11-05",
        "ch_xyz": "unknown currency 'XYZ'",
    }
    assert raw is not None and raw.asset_materialization is not None
    meta = {k: v.value for k, v in raw.asset_materialization.metadata.items()}
    assert meta["rows_rejected"] == 1
    assert meta["reject_reasons"] == {"bad timestamp": 1}
    assert meta["pages"] == 3 and meta["retries"] == 0 and meta["objects_listed"] == 6
    assert meta["cursor_before"] == f"created>={START.isoformat()}"
    assert meta["cursor_after"] == "ch_usd"  # the oldest charge of the day: the last page's end
    assert meta["api_version"] == API_VERSION
    everything_shown = " ".join(shown) + caplog.text + "".join(capsys.readouterr())
    assert "Request to Stripe api" in caplog.text  # the library's own logs were captured
    assert KEY not in everything_shown


def test_failure_mid_window_leaves_nothing_and_a_rerun_equals_a_clean_load(
    warehouse: Warehouse,
    plain_warehouse: Warehouse,
    receiver: StripeReceiver,
    fx_csv: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    receiver.add(
        "charges", *[charge(f"ch_{i:02d}", 100 + i, "usd", ts(8) + 60 * i) for i in range(7)]
    )
    receiver.add_raw("charges", ts(9), NO_CREATED)
    raw_charges = AssetKey(["raw", "stripe_charges"])

    def run(wh: Warehouse) -> bool:
        with DagsterInstance.ephemeral() as instance:
            result = materialize(
                ASSETS,
                selection=[raw_charges],
                resources=pipeline_resources(wh, receiver, fx_csv, page_size=2),
                instance=instance,
                partition_key=DAY.isoformat(),
                raise_on_error=False,
            )
        return result.success

    def loaded(wh: Warehouse) -> dict[str, list[tuple[Any, ...]]]:
        return {
            "raw": rows(wh, "SELECT id, occurred_at, payload FROM raw.stripe_charges ORDER BY 1"),
            "rejected": rows(
                wh, "SELECT stage, reject_key, payload, reason FROM ops.rejected_events ORDER BY 2"
            ),
        }

    assert run(plain_warehouse)  # the clean load, in a database of its own
    receiver.requests.clear()
    receiver.script("/v1/charges", None, None, *[Fault.http(500)] * 4)  # page 3 never comes
    assert not run(warehouse)
    assert loaded(warehouse) == {"raw": [], "rejected": []}  # pages 1-2 were not kept
    assert len(receiver.pages("/v1/charges")) == 6
    assert run(warehouse)  # the re-run re-reads the window from its first page
    assert receiver.pages("/v1/charges")[6].query.get("starting_after") is None
    assert loaded(warehouse) == loaded(plain_warehouse)
    assert len(loaded(warehouse)["raw"]) == 7


def test_a_bad_key_fails_the_asset_without_showing_the_key(
    warehouse: Warehouse,
    receiver: StripeReceiver,
    fx_csv: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "sk_live_ThisKeyWasRevokedLongAgo0000000"
    monkeypatch.setenv("STRIPE_API_KEY", wrong)
    caplog.set_level(logging.DEBUG)
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            ASSETS,
            selection=[AssetKey(["raw", "stripe_customers"])],
            resources=pipeline_resources(warehouse, receiver, fx_csv),
            instance=instance,
            partition_key=DAY.isoformat(),
            raise_on_error=False,
        )
        failures = [e for e in result.all_events if e.is_step_failure]
    assert not result.success and len(failures) == 1
    error = failures[0].step_failure_data.error
    assert error is not None
    assert "CredentialsError" in error.to_string()
    assert "check STRIPE_API_KEY" in error.to_string()
    assert wrong not in error.to_string() and wrong not in caplog.text
    assert len(receiver.requests) == 1


# ------------------------------------------------------------------- growth.subscriptions

FOREVER_20 = {"id": "PARTNER20", "percent_off": 20.0, "duration": "forever"}
ONCE_20 = {"id": "WELCOME20", "percent_off": 20.0, "duration": "once"}
FOREVER_500_OFF = {"id": "FIVEOFF", "amount_off": 500, "currency": "usd", "duration": "forever"}
SUBSCRIPTIONS = [
    subscription("sub_monthly"),  # 29.00 USD a month
    subscription("sub_yearly", unit_amount=29000, interval="year"),  # 290.00 / 12
    subscription("sub_seats", currency="eur", unit_amount=1500, quantity=3),  # 3 × 15.00 EUR
    subscription("sub_forever", unit_amount=10000, coupon=FOREVER_20),  # 100.00 − 20 %
    subscription("sub_once", unit_amount=10000, coupon=ONCE_20),  # a once coupon: still 100
    subscription("sub_amount_off", unit_amount=3000, coupon=FOREVER_500_OFF),  # 30 − 5
    subscription("sub_trial", status="trialing", unit_amount=5000),
    subscription("sub_canceled", status="canceled", unit_amount=5000),
    subscription("sub_yen", currency="jpy", unit_amount=3000, quantity=2),  # zero-decimal
    subscription(  # every 2 weeks: 10.00 × 52 / 12 / 2, and past_due still counts
        "sub_fortnight", status="past_due", unit_amount=1000, interval="week", interval_count=2
    ),
    subscription("sub_metered", unit_amount=25, usage_type="metered"),
]


def build_subscriptions(resources: dict[str, Any]) -> None:
    with DagsterInstance.ephemeral() as instance:
        materialize(ASSETS, selection=[FX_RATES_KEY], resources=resources, instance=instance)
        result = materialize(
            ASSETS,
            selection=[AssetKey(["raw", "stripe_subscriptions"]), SUBSCRIPTIONS_KEY],
            resources=resources,
            instance=instance,
            partition_key=DAY.isoformat(),
        )
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks), checks


def test_subscription_mrr_hand_checked(
    warehouse: Warehouse,
    receiver: StripeReceiver,
    fx_csv: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    receiver.add("subscriptions", *SUBSCRIPTIONS)
    resources = pipeline_resources(warehouse, receiver, fx_csv)
    build_subscriptions(resources)
    got = {
        r[0]: r[1:]
        for r in rows(
            warehouse,
            "SELECT subscription_id, status, currency, mrr_minor, mrr, mrr_reporting "
            "FROM growth.subscriptions",
        )
    }
    d = Decimal
    assert got == {
        "sub_monthly": ("active", "USD", d("2900"), d("29"), d("29")),
        "sub_yearly": ("active", "USD", d("2416.666667"), d("24.166667"), d("24.166667")),
        "sub_seats": ("active", "EUR", d("4500"), d("45"), d("48.6")),
        "sub_forever": ("active", "USD", d("8000"), d("80"), d("80")),
        "sub_once": ("active", "USD", d("10000"), d("100"), d("100")),
        "sub_amount_off": ("active", "USD", d("2500"), d("25"), d("25")),
        "sub_trial": ("trialing", "USD", d("0"), d("0"), d("0")),
        "sub_canceled": ("canceled", "USD", d("0"), d("0"), d("0")),
        "sub_yen": ("active", "JPY", d("6000"), d("6000"), d("40.2")),
        "sub_fortnight": ("past_due", "USD", d("2166.666667"), d("21.666667"), d("21.666667")),
        "sub_metered": ("active", "USD", d("0"), d("0"), d("0")),
    }
    (items,) = rows(
        warehouse, "SELECT items FROM growth.subscriptions WHERE subscription_id = 'sub_seats'"
    )[0]
    assert items == [
        {
            "item_id": "si_sub_seats",
            "price_id": "price_sub_seats",
            "unit_amount": 1500,
            "quantity": 3,
            "interval": "month",
            "interval_count": 1,
            "usage_type": "licensed",
            "mrr_minor": 4500,
        }
    ]
    (dates,) = rows(
        warehouse,
        "SELECT started_at, trial_end, canceled_at, ended_at, product_id, user_id "
        "FROM growth.subscriptions WHERE subscription_id = 'sub_canceled'",
    )
    assert dates[0] == START + timedelta(hours=9) and dates[1] is None
    assert dates[2] == dates[3] == START + timedelta(hours=10)
    assert dates[4:] == ("atlas", "user_sub_canceled")
    before = rows(warehouse, "SELECT subscription_id, updated_at FROM growth.subscriptions")
    build_subscriptions(resources)  # the same snapshot again: nothing is rewritten
    assert rows(warehouse, "SELECT subscription_id, updated_at FROM growth.subscriptions") == before


def test_a_resnapshot_updates_the_row(
    warehouse: Warehouse,
    receiver: StripeReceiver,
    fx_csv: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    receiver.add("subscriptions", subscription("sub_x", status="trialing"))
    resources = pipeline_resources(warehouse, receiver, fx_csv)
    build_subscriptions(resources)
    receiver.objects["subscriptions"] = [subscription("sub_x", quantity=2)]  # trial converted
    build_subscriptions(resources)
    assert rows(warehouse, "SELECT status, mrr_minor FROM growth.subscriptions") == [
        ("active", Decimal("5800"))
    ]


def test_a_missing_fx_rate_fails_the_subscriptions_check(
    warehouse: Warehouse,
    receiver: StripeReceiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    receiver.add("subscriptions", subscription("sub_gbp", currency="gbp"))
    fx = tmp_path / "eur_only.csv"
    fx.write_text("day,currency,rate\n2024-11-01,EUR,1.08\n")
    resources = pipeline_resources(warehouse, receiver, str(fx))
    with DagsterInstance.ephemeral() as instance:
        materialize(ASSETS, selection=[FX_RATES_KEY], resources=resources, instance=instance)
        result = materialize(
            ASSETS,
            selection=[AssetKey(["raw", "stripe_subscriptions"]), SUBSCRIPTIONS_KEY],
            resources=resources,
            instance=instance,
            partition_key=DAY.isoformat(),
            raise_on_error=False,  # the check is blocking: its failure fails the step
        )
    assert not result.success
    (check,) = [c for c in result.get_asset_check_evaluations() if c.asset_key == SUBSCRIPTIONS_KEY]
    assert not check.passed and check.blocking
    assert check.metadata["paying_without_fx_rate"].value == ["sub_gbp"]
    assert rows(warehouse, "SELECT mrr, mrr_reporting FROM growth.subscriptions") == [
        (Decimal("29"), None)
    ]


# ----------------------------------------------------------------------- re-snapshots


def test_resnapshot_schedule_requests_the_trailing_35_days() -> None:
    defs = build_definitions()
    assert defs.resolve_schedule_def("stripe_resnapshot_schedule").job_name == RESNAPSHOT_JOB
    job = defs.resolve_job_def(RESNAPSHOT_JOB)
    assert set(job.asset_layer.selected_asset_keys) == {
        AssetKey(["raw", "stripe_subscriptions"]),
        AssetKey(["raw", "stripe_invoices"]),
        SUBSCRIPTIONS_KEY,
    }
    context = build_schedule_context(
        scheduled_execution_time=datetime(2025, 3, 10, 3, 30, tzinfo=UTC)
    )
    request = stripe_resnapshot_schedule(context)
    assert request.tags["dagster/asset_partition_range_start"] == "2025-02-03"
    assert request.tags["dagster/asset_partition_range_end"] == "2025-03-09"
    early = build_schedule_context(
        scheduled_execution_time=datetime(2024, 11, 10, 3, 30, tzinfo=UTC)
    )
    assert (
        stripe_resnapshot_schedule(early).tags["dagster/asset_partition_range_start"]
        == "2024-11-01"
    )  # never before the partitions' start
    first_day = build_schedule_context(
        scheduled_execution_time=datetime(2024, 11, 1, 3, 30, tzinfo=UTC)
    )
    assert stripe_resnapshot_schedule(first_day).skip_message


def test_live_environment_wires_the_stripe_client_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from growth_assets.environment import demo_settings, source_client

    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    with pytest.raises(StripeConfigError, match="STRIPE_API_KEY is not set"):
        source_client("stripe", "live", demo_settings())
    monkeypatch.setenv("STRIPE_API_KEY", KEY)
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")
    stripe = source_client("stripe", "live", demo_settings())
    assert isinstance(stripe, StripeApiClient) and stripe.api_base == "http://127.0.0.1:9"
    assert isinstance(stripe.api_key, EnvVar) and KEY not in repr(stripe)
