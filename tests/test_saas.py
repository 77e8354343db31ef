"""SaaS analytics against hand-computed fixtures: MRR movements (upgrade and downgrade in one
month, two subscriptions cancelled one after the other, reactivation, JPY, an empty period,
FX fluctuation), funnels (steps out of order and outside the window, property filters), the
north-star expression (parsing, weeks, trend) and the customer 360 health score."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from growth_assets.saas import northstar
from growth_assets.saas.assets import (
    funnel_params,
    refresh_funnel,
    refresh_mrr,
    refresh_north_star,
)
from growth_assets.saas.config import ConfigError, FunnelConfig, FunnelStep, load_config
from growth_assets.saas.windows import period_bounds
from resources.warehouse import Warehouse
from tests.saas_helpers import add_events, add_fx, add_metric_rows, add_users, fetch

D = Decimal


def t(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def sub(at: str, product: str, etype: str, user: str, value: Any, currency: str, sid: str) -> Any:
    return (t(at), product, etype, user, value, currency, {"subscription": sid}, f"{sid}@{at}")


MRR_EVENTS = [
    # c1: upgrade then downgrade in February (net expansion), again in March (net contraction)
    sub("2025-01-10", "atlas", "subscription_started", "c1", 100, "USD", "A"),
    sub("2025-02-05", "atlas", "subscription_changed", "c1", 150, "USD", "A"),
    sub("2025-02-20", "atlas", "subscription_changed", "c1", 120, "USD", "A"),
    sub("2025-03-03", "atlas", "subscription_changed", "c1", 150, "USD", "A"),
    sub("2025-03-15", "atlas", "subscription_changed", "c1", 80, "USD", "A"),
    # c2: two subscriptions, one cancelled in April (contraction), the other in May (churn)
    sub("2025-01-05", "atlas", "subscription_started", "c2", 50, "USD", "B"),
    sub("2025-01-06", "atlas", "subscription_started", "c2", 30, "USD", "C"),
    sub("2025-04-10", "atlas", "churn", "c2", 50, "USD", "B"),
    sub("2025-05-02", "atlas", "churn", "c2", 30, "USD", "C"),
    # c3: churns in February, comes back with a new subscription in April (reactivation)
    sub("2025-01-15", "atlas", "subscription_started", "c3", 40, "USD", "D"),
    sub("2025-02-10", "atlas", "churn", "c3", 40, "USD", "D"),
    sub("2025-04-01", "atlas", "subscription_started", "c3", 60, "USD", "E"),
    # c4: 3000 JPY (zero-decimal: value is already in yen); the rate moves in February
    sub("2025-01-20", "atlas", "subscription_started", "c4", 3000, "JPY", "F"),
    # c5: a trial (MRR 0) converting in January
    sub("2025-01-08", "atlas", "subscription_started", "c5", 0, "USD", "G"),
    sub("2025-01-22", "atlas", "subscription_changed", "c5", 25, "USD", "G"),
    # c6: starts and ends within January: never paying at a month end, no movement
    sub("2025-01-02", "beacon", "subscription_started", "c6", 10, "USD", "H"),
    sub("2025-01-20", "beacon", "churn", "c6", 10, "USD", "H"),
    # c7: beacon's only customer: new, churned, an empty March, reactivated in April
    sub("2025-01-03", "beacon", "subscription_started", "c7", 20, "USD", "I"),
    sub("2025-02-10", "beacon", "churn", "c7", 20, "USD", "I"),
    sub("2025-04-20", "beacon", "subscription_started", "c7", 20, "USD", "J"),
]
MRR_PARAMS = {
    "range_start": date(2025, 1, 1),
    "range_end": date(2025, 7, 1),
    "reporting_currency": "USD",
}


@pytest.fixture
def mrr_warehouse(warehouse: Warehouse) -> Warehouse:
    add_events(warehouse, MRR_EVENTS)
    add_fx(warehouse, [(date(2025, 1, 1), "JPY", "0.0067"), (date(2025, 2, 1), "JPY", "0.0070")])
    refresh_mrr(warehouse, MRR_PARAMS)
    return warehouse


def movements(warehouse: Warehouse) -> dict[tuple[str, str], tuple[str, Decimal, Decimal]]:
    rows = fetch(warehouse, "SELECT * FROM growth.mrr_customer_monthly")
    return {
        (str(r["month"])[:7], r["customer_id"]): (r["movement"], r["start_mrr"], r["end_mrr"])
        for r in rows
    }


def test_mrr_movements_per_customer(mrr_warehouse: Warehouse) -> None:
    m = movements(mrr_warehouse)
    assert m[("2025-01", "c1")] == ("new", 0, 100)
    assert m[("2025-02", "c1")] == ("expansion", 100, 120)  # up 50, down 30 in one month
    assert m[("2025-03", "c1")] == ("contraction", 120, 80)  # up 30, down 70
    assert m[("2025-01", "c2")] == ("new", 0, 80)  # two subscriptions
    assert m[("2025-04", "c2")] == ("contraction", 80, 30)  # the first one cancelled
    assert m[("2025-05", "c2")] == ("churn", 30, 0)  # the last one: churn
    assert ("2025-06", "c2") not in m
    assert m[("2025-02", "c3")] == ("churn", 40, 0)
    assert ("2025-03", "c3") not in m
    assert m[("2025-04", "c3")] == ("reactivation", 0, 60)
    assert m[("2025-01", "c4")] == ("new", 0, D("20.1"))  # 3000 JPY x 0.0067
    assert m[("2025-02", "c4")] == ("none", D("21.0"), D("21.0"))  # February rate, no movement
    assert m[("2025-01", "c5")] == ("new", 0, 25)  # the trial counted from its conversion
    assert not [k for k in m if k[1] == "c6"]
    assert m[("2025-04", "c7")] == ("reactivation", 0, 20)


def test_mrr_monthly_bridge_and_rates(mrr_warehouse: Warehouse) -> None:
    rows = fetch(mrr_warehouse, "SELECT * FROM growth.mrr_monthly")
    by = {(str(r["month"])[:7], r["product_id"]): r for r in rows}
    jan, feb = by[("2025-01", "atlas")], by[("2025-02", "atlas")]
    assert (jan["start_mrr"], jan["new_mrr"], jan["end_mrr"], jan["new_customers"]) == (
        0,
        D("265.1"),
        D("265.1"),
        5,
    )
    assert jan["fx_adjustment"] is None and jan["quick_ratio"] is None and jan["nrr"] is None
    assert feb["start_mrr"] == D("266.0")
    assert feb["fx_adjustment"] == D("0.9")  # 3000 JPY at 0.0070 instead of 0.0067
    assert (feb["expansion_mrr"], feb["churned_mrr"], feb["net_new_mrr"]) == (20, 40, -20)
    assert feb["end_mrr"] == 246
    assert feb["quick_ratio"] == D("0.5")
    assert feb["grr"] == round(D(226) / D(266), 6)
    assert feb["nrr"] == round(D(246) / D(266), 6)
    assert feb["customer_churn_rate"] == D("0.2")
    assert feb["gross_mrr_churn_rate"] == round(D(40) / D(266), 6)
    assert feb["arpa"] == D("61.5")
    mar, apr, may = by[("2025-03", "atlas")], by[("2025-04", "atlas")], by[("2025-05", "atlas")]
    assert (mar["contraction_mrr"], mar["end_mrr"]) == (40, 206)
    assert (apr["contraction_mrr"], apr["reactivation_mrr"], apr["end_mrr"]) == (50, 60, 216)
    assert (may["churned_mrr"], may["end_mrr"], may["churned_customers"]) == (30, 186, 1)
    assert by[("2025-06", "atlas")]["net_new_mrr"] == 0
    # beacon: an empty March reads zeros, rates NULL; April reactivates
    empty = by[("2025-03", "beacon")]
    assert (empty["start_mrr"], empty["end_mrr"], empty["customers_start"]) == (0, 0, 0)
    assert empty["grr"] is None and empty["customer_churn_rate"] is None
    assert by[("2025-04", "beacon")]["reactivation_mrr"] == 20
    for month in ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"):
        whole = by[(month, "all")]
        parts = [r for (m, p), r in by.items() if m == month and p != "all"]
        assert whole["end_mrr"] == sum(r["end_mrr"] for r in parts)
        assert whole["start_mrr"] + whole["net_new_mrr"] == whole["end_mrr"]


def test_mrr_rerun_converges_and_missing_fx_fails(mrr_warehouse: Warehouse) -> None:
    before = fetch(mrr_warehouse, "SELECT * FROM growth.mrr_monthly ORDER BY 1, 2")
    refresh_mrr(mrr_warehouse, {**MRR_PARAMS, "range_start": date(2025, 3, 1)})
    after = fetch(mrr_warehouse, "SELECT * FROM growth.mrr_monthly ORDER BY 1, 2")
    strip = [{k: v for k, v in r.items() if k != "updated_at"} for r in before]
    assert strip == [{k: v for k, v in r.items() if k != "updated_at"} for r in after]
    add_events(
        mrr_warehouse, [sub("2025-03-05", "atlas", "subscription_started", "c9", 9, "EUR", "K")]
    )
    from dagster import Failure

    with pytest.raises(Failure, match="EUR"):
        refresh_mrr(mrr_warehouse, MRR_PARAMS)


# --- funnels ----------------------------------------------------------------------------------


def ev(day: str, etype: str, user: str, props: dict[str, Any] | None = None, hour: int = 12) -> Any:
    return (t(day, hour), "atlas", etype, user, None, None, props or {})


FUNNEL_EVENTS = [
    *[ev("2025-03-03", "signup", u) for u in ("u1", "u2", "u3", "u4", "u6")],
    ev("2025-03-04", "activation", "u1"),
    ev("2025-03-05", "key_action", "u1"),
    ev("2025-03-06", "revenue", "u1"),
    ev("2025-03-04", "engagement", "u1", {"feature": "dashboards"}),
    ev("2025-03-07", "engagement", "u1", {"feature": "exports", "plan": "pro"}),
    # u2: key action before activation: out of order, stops at activation
    ev("2025-03-04", "key_action", "u2"),
    ev("2025-03-05", "activation", "u2"),
    ev("2025-03-06", "revenue", "u2"),
    ev("2025-03-05", "engagement", "u2", {"feature": "dashboards"}),
    # u3: key action on day 9, outside the 7-day window
    ev("2025-03-04", "activation", "u3"),
    ev("2025-03-12", "key_action", "u3"),
    # u4: pays on day 8, outside the window; reaches the key action
    ev("2025-03-08", "activation", "u4"),
    ev("2025-03-09", "key_action", "u4"),
    ev("2025-03-11", "revenue", "u4"),
    # u5: never signed up: not in the funnel
    ev("2025-03-04", "activation", "u5"),
    # u6: a second signup later; the first one starts the window
    ev("2025-03-06", "signup", "u6"),
    ev("2025-03-05", "activation", "u6"),
]


def run_funnel(warehouse: Warehouse, funnel: FunnelConfig, first: str, last: str) -> None:
    start = datetime.fromisoformat(first).replace(tzinfo=UTC)
    end = datetime.fromisoformat(last).replace(tzinfo=UTC)
    refresh_funnel(warehouse, funnel_params(funnel, start, end))


def funnel_rows(warehouse: Warehouse, funnel: str, **where: str) -> dict[Any, dict[str, Any]]:
    rows = fetch(
        warehouse,
        "SELECT * FROM growth.funnel_conversion WHERE funnel = :f AND cohort_grain = 'month' "
        "AND cohort_start = '2025-03-01'",
        f=funnel,
    )
    return {(r["product_id"], r["segment"], r["segment_value"], r["step_no"]): r for r in rows}


def test_funnel_counts_steps_in_order_within_the_window(warehouse: Warehouse) -> None:
    add_events(warehouse, FUNNEL_EVENTS)
    add_users(
        warehouse,
        [
            ("atlas", "u1", "organic", "US"),
            ("atlas", "u2", "organic", "GB"),
            ("atlas", "u3", "paid_search", "US"),
            ("atlas", "u4", "paid_search", "US"),
        ],
    )
    funnel = FunnelConfig(window_days=7)
    run_funnel(warehouse, funnel, "2025-03-01", "2025-03-31")
    rows = funnel_rows(warehouse, funnel.name)
    counts = [rows[("atlas", "all", "all", k)]["users"] for k in (1, 2, 3, 4)]
    assert counts == [5, 5, 2, 1]
    step3 = rows[("atlas", "all", "all", 3)]
    assert (step3["users_previous_step"], step3["drop_off"]) == (5, 3)
    assert step3["conversion_from_previous"] == D("0.4")
    assert rows[("atlas", "all", "all", 4)]["conversion_from_first"] == D("0.2")
    assert rows[("atlas", "all", "all", 1)]["step_name"] == "signup"
    # segments: u6 has no growth.users row: 'unknown'
    assert rows[("atlas", "channel", "organic", 3)]["users"] == 1
    assert rows[("atlas", "channel", "paid_search", 3)]["users"] == 1
    assert rows[("atlas", "channel", "unknown", 1)]["users"] == 1
    assert rows[("atlas", "country", "US", 1)]["users"] == 3
    assert rows[("all", "all", "all", 2)]["users"] == 5
    week = fetch(
        warehouse,
        "SELECT users FROM growth.funnel_conversion WHERE cohort_grain = 'week' "
        "AND cohort_start = '2025-03-03' AND product_id = 'atlas' AND segment = 'all' "
        "AND step_no = 3",
    )
    assert week == [{"users": 2}]
    users = fetch(warehouse, "SELECT user_id, first_step_at FROM growth.funnel_users")
    assert {r["user_id"]: r["first_step_at"] for r in users}["u6"] == t("2025-03-03")

    # a property filter on the key action; a re-run of part of the range converges
    exports = FunnelConfig(
        name="exports",
        window_days=7,
        steps=(
            FunnelStep(name="signup", event_type="signup"),
            FunnelStep(name="exports", event_type="engagement", properties={"feature": "exports"}),
        ),
    )
    run_funnel(warehouse, exports, "2025-03-01", "2025-03-31")
    run_funnel(warehouse, exports, "2025-03-05", "2025-03-06")
    rows = funnel_rows(warehouse, "exports")
    assert rows[("atlas", "all", "all", 2)]["users"] == 1  # u1 only
    assert rows[("atlas", "all", "all", 1)]["users"] == 5


def test_funnel_config_errors_name_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "analytics.toml"
    bad.write_text('[funnel]\nwindow_days = 7\n[[funnel.steps]]\nname = "a"\nevent_type = "x"\n')
    with pytest.raises(ConfigError, match=r"analytics.toml.*funnel.steps.0.event_type.*'x'"):
        load_config({"GROWTH_ANALYTICS_FILE": str(bad)})
    with pytest.raises(ConfigError, match="GROWTH_FUNNEL_WINDOW_DAYS"):
        load_config({"GROWTH_FUNNEL_WINDOW_DAYS": "two weeks"})
    with pytest.raises(ConfigError, match=r"north_star.expression.*unknown metric 'dau'"):
        load_config({"GROWTH_NORTH_STAR": "dau / 2"})
    with pytest.raises(ConfigError, match="at least 2 steps"):
        bad.write_text('[[funnel.steps]]\nname = "a"\nevent_type = "signup"\n')
        load_config({"GROWTH_ANALYTICS_FILE": str(bad)})
    with pytest.raises(ConfigError, match="no such file"):
        load_config({"GROWTH_ANALYTICS_FILE": str(tmp_path / "missing.toml")})
    good = tmp_path / "good.toml"
    good.write_text(
        '[funnel]\nname = "f"\nwindow_days = 14\n'
        '[[funnel.steps]]\nname = "signup"\nevent_type = "signup"\n'
        '[[funnel.steps]]\nname = "exports"\nevent_type = "engagement"\n'
        'properties = { feature = "exports" }\n'
        '[north_star]\nname = "paying"\nexpression = "paying_customers"\n'
    )
    config = load_config({"GROWTH_ANALYTICS_FILE": str(good), "GROWTH_FUNNEL_WINDOW_DAYS": "10"})
    assert config.funnel.window_days == 10
    assert config.funnel.steps[1].properties == {"feature": "exports"}
    assert config.north_star.expression == "paying_customers"
    assert load_config({}).funnel.steps[2].event_type == "key_action"


# --- north star -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "Call is not allowed"),
        ("net_revenue.real", "Attribute is not allowed"),
        ("net_revenue; drop table x", "not valid"),
        ("'; DROP TABLE growth.events; --", "not valid"),
        ("'a' + signups", "only numbers"),
        ("net_revenue ** 2", "Pow is not allowed"),
        ("net_revenue > 2", "Compare is not allowed"),
        ("True * signups", "only numbers"),
        ("revenue_total", "unknown metric 'revenue_total'"),
        ("", "empty"),
        ("x" * 501, "longer than 500"),
    ],
)
def test_north_star_expression_refuses_anything_else(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        northstar.compile_expression(text)


def test_north_star_expression_sql() -> None:
    c = northstar.compile_expression("(gross_revenue - refunds) / active_users * 12")
    assert c.metrics == ("gross_revenue", "refunds", "active_users")
    assert c.params == {"ns_c0": "12"}
    assert '"m"."active_users"' in c.sql and "nullif" in c.sql and "12" not in c.sql


def test_north_star_values_weeks_and_trend(warehouse: Warehouse) -> None:
    daily = [
        {"day": date(2025, 3, 3), "product_id": "atlas", "gross_revenue": 100, "active_users": 4},
        {
            "day": date(2025, 3, 4),
            "product_id": "atlas",
            "gross_revenue": 50,
            "refunds": 10,
            "active_users": 2,
        },
        {"day": date(2025, 3, 10), "product_id": "atlas", "gross_revenue": 30, "active_users": 0},
    ]
    add_metric_rows(warehouse, "growth.metrics_daily", daily)
    add_metric_rows(
        warehouse,
        "growth.metrics_monthly",
        [
            {
                "month": date(2025, 3, 1),
                "product_id": "atlas",
                "gross_revenue": 180,
                "refunds": 10,
                "active_users": 5,
            }
        ],
    )
    # user activity of week 2025-03-03: u1 on both days, u2..u4 on the 3rd, u5 on the 4th
    import sqlalchemy as sa

    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO growth.user_activity_daily (day, product_id, user_id, events, "
                "user_events, revenue, refunds, active, signed_up, activated, paid, churned) "
                "VALUES (:d, 'atlas', :u, 1, 1, 0, 0, true, false, false, :paid, false)"
            ),
            [{"d": date(2025, 3, 3), "u": u, "paid": u == "u1"} for u in ("u1", "u2", "u3", "u4")]
            + [{"d": date(2025, 3, 4), "u": u, "paid": False} for u in ("u1", "u5")],
        )
    params = {
        **period_bounds(date(2025, 3, 3), date(2025, 3, 10)),
        "ns_name": "net revenue per active user",
        "ns_expression": "net_revenue / active_users",
    }
    refresh_north_star(warehouse, params)
    rows = fetch(warehouse, "SELECT * FROM analytics.north_star")
    by = {(r["grain"], str(r["period_start"])): r for r in rows if r["product_id"] == "atlas"}
    assert by[("day", "2025-03-03")]["value"] == 25
    assert by[("day", "2025-03-04")]["value"] == 20
    assert by[("day", "2025-03-04")]["previous_value"] == 25
    assert by[("day", "2025-03-04")]["change"] == -5
    assert by[("day", "2025-03-04")]["change_ratio"] == D("-0.2")
    assert by[("day", "2025-03-10")]["value"] is None  # no active users: NULL, not an error
    # the week: net revenue 140 over 5 distinct weekly active users (u1 counted once)
    assert by[("week", "2025-03-03")]["value"] == 28
    assert by[("month", "2025-03-01")]["value"] == 34
    params["ns_expression"] = "paying_customers"
    refresh_north_star(warehouse, params)
    rows = fetch(
        warehouse,
        "SELECT value FROM growth.north_star WHERE grain = 'week' AND product_id = 'atlas' "
        "AND period_start = '2025-03-03'",
    )
    assert rows == [{"value": 1}]


# --- customer 360 -----------------------------------------------------------------------------


def test_customer_360_joins_usage_billing_support_and_scores_health(
    mrr_warehouse: Warehouse,
) -> None:
    import sqlalchemy as sa

    wh = mrr_warehouse
    add_users(
        wh,
        [
            ("atlas", "c1", "organic", "US"),
            ("atlas", "c3", "referral", "DE"),
            ("atlas", "c4", "organic", "FR"),
        ],
    )
    # future-dated days (after as_of, the latest day up to today) count nowhere: c1's and
    # c4's; c4 was last active in January, long before the 90 days ending on as_of
    future = date(2999, 1, 1)
    activity = [
        {"d": date(2025, 5, 31 - i), "u": "c1", "active": True, "rev": 10 if i == 0 else 0}
        for i in range(10)
    ] + [
        {"d": date(2025, 5, 3), "u": "c3", "active": True, "rev": 0},
        {"d": date(2025, 1, 15), "u": "c4", "active": True, "rev": 5},
        {"d": future, "u": "c1", "active": True, "rev": 100},
        {"d": future, "u": "c4", "active": True, "rev": 7},
    ]
    with wh.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO growth.user_activity_daily (day, product_id, user_id, events, "
                "user_events, revenue, refunds, active, signed_up, activated, paid, churned) "
                "VALUES (:d, 'atlas', :u, 1, 1, :rev, 0, :active, false, false, false, false)"
            ),
            activity,
        )
        # written here by hand, not by the activity rollup: sum the per-user totals as it does
        Warehouse.run_file(conn, "rollups/user_activity_totals_all")
    add_events(
        wh,
        [
            ev("2025-05-20", "engagement", "c1", {"feature": "exports"}),
            ev("2025-05-21", "engagement", "c1", {"feature": "api"}),
            ev("2025-05-21", "engagement", "c1", {"feature": "api"}),
            (t("2025-05-01"), "atlas", "support_ticket_created", "c3", None, None, {}, "T1"),
            (t("2025-05-02"), "atlas", "support_ticket_created", "c3", None, None, {}, "T2"),
            (t("2025-05-04"), "atlas", "support_ticket_solved", "c3", None, None, {}, "T2"),
        ],
    )
    with wh.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO growth.subscriptions (subscription_id, customer_id, product_id, "
                "user_id, status, currency, items, mrr_reporting, reporting_currency, "
                "created_at, started_at) VALUES ('A', 'cus_1', 'atlas', 'c1', 'active', 'USD', "
                "CAST(:items AS jsonb), 80, 'USD', '2025-01-10', '2025-01-10')"
            ),
            {"items": '[{"price_id": "price_pro", "mrr_minor": 8000}]'},
        )
        Warehouse.run_file(conn, "saas/customer_360")
    rows = {r["user_id"]: r for r in fetch(wh, "SELECT * FROM analytics.customer_360")}
    c1, c3 = rows["c1"], rows["c3"]
    assert c1["as_of"] == date(2025, 5, 31)
    assert (c1["last_active_day"], c1["active_days_28"], c1["active_days_90"]) == (
        date(2025, 5, 31),
        10,
        10,
    )
    assert c1["features_used"] == ["api", "exports"]
    assert (c1["plan"], c1["subscription_status"], c1["mrr"]) == ("price_pro", "active", 80)
    assert c1["lifetime_revenue"] == 10
    # 30 (active today) + 30 x 10/14 + 10 x 2/3 + 20 (paying) + 10 (no tickets)
    expected = round(D(30) + D(30) * D(10) / D(14) + D(10) * D(2) / D(3) + 20 + 10, 2)
    assert c1["health_score"] == expected and c1["health_band"] == "healthy"
    assert (c3["open_tickets"], c3["solved_tickets"]) == (1, 1)
    assert c3["last_ticket_at"] == t("2025-05-02")
    assert c3["mrr"] == 60  # reactivated in April, still paying in May
    # last active 28 days before as_of: outside the 28 days ending on as_of (May 4 to 31)
    assert (c3["active_days_28"], c3["active_days_90"]) == (0, 1)
    # recency 30 x (1 - 28/28) = 0, frequency 0, breadth 0, paying 20, 10 x (1 - 1/3)
    assert c3["health_score"] == round(20 + D(10) * D(2) / D(3), 2)
    assert c3["health_band"] == "at_risk"
    c4 = rows["c4"]
    assert (c4["last_active_day"], c4["active_days_28"], c4["active_days_90"]) == (
        date(2025, 1, 15),
        0,
        0,
    )
    assert c4["lifetime_revenue"] == 5
    # not active in the 28 or 90 days ending on as_of: paying (20) and no tickets (10) only
    assert c4["mrr"] > 0 and c4["health_score"] == 30 and c4["health_band"] == "at_risk"
    # the asset's check recounts the revenue up to as_of from the activity (c1 10, c4 5)
    with wh.transaction() as conn:
        (check,) = Warehouse.fetch_file(conn, "saas/customer_360_check")
        assert check.rows == check.users
        assert (check.revenue, check.activity_revenue) == (15, 15)
        conn.execute(
            sa.text("UPDATE growth.customer_360 SET lifetime_revenue = 6 WHERE user_id = 'c4'")
        )
        (check,) = Warehouse.fetch_file(conn, "saas/customer_360_check")
        assert (check.revenue, check.activity_revenue) == (16, 15)
