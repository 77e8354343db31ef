"""The same metrics computed the straightforward pandas way, for the build benchmark's ratio.

What a user without this project would write: read ``growth.events`` into a DataFrame, then
group by. Daily and monthly metrics per product and for all products (gross revenue,
refunds, net revenue, signups, activations, tickets created and solved, key actions,
subscriptions started, events, active users, paying and churned customers), and DAU / WAU
(trailing 7 days) / MAU (trailing 30 days) per product and day; and the cohort tables:
growth accounting (day, ISO week, month), retention triangles (week and month cohorts, by
channel and country; the warehouse also splits by plan), LTV by cohort and the L7/L28
power-user histograms. Run as a subprocess by
``bench/run.py`` (so its peak RSS is its own)::

    python -m bench.pandas_metrics postgresql+psycopg://.../db

Prints one JSON line: seconds for reading and for computing, and row counts.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import pandas as pd
import sqlalchemy as sa

QUERY = """
SELECT e.occurred_at, e.product_id, e.user_id, e.event_type, e.value_reporting,
       t.user_initiated
FROM growth.events AS e JOIN growth.event_types AS t USING (event_type)
"""

COUNTS = {
    "signups": "signup",
    "activations": "activation",
    "tickets_created": "support_ticket_created",
    "tickets_solved": "support_ticket_solved",
    "key_actions": "key_action",
    "subscriptions_started": "subscription_started",
}
DISTINCT = {"active_users": "active", "paying_customers": "paid", "churned_customers": "churned"}


def with_all(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the portfolio rows: users are per product, so 'all' counts (product, user) pairs."""
    portfolio = frame.copy()
    portfolio["user_id"] = portfolio["product_id"] + "/" + portfolio["user_id"]
    portfolio["product_id"] = "all"
    return pd.concat([frame, portfolio], ignore_index=True)


def metrics(events: pd.DataFrame, period: str) -> pd.DataFrame:
    """Metrics per (product, period start); ``period``: a pandas period alias (D, M)."""
    e = events.assign(bucket=events["occurred_at"].dt.tz_localize(None).dt.to_period(period))
    for name, event_type in COUNTS.items():
        e[name] = (e["event_type"] == event_type).astype("int64")
    e["gross_revenue"] = e["value_reporting"].where(e["event_type"] == "revenue", 0.0)
    e["refunds"] = e["value_reporting"].where(e["event_type"] == "refund", 0.0)
    e["active"] = e["user_initiated"]
    e["paid"] = e["event_type"] == "revenue"
    e["churned"] = e["event_type"] == "churn"
    e = with_all(e)
    keys = ["product_id", "bucket"]
    sums = e.groupby(keys)[[*COUNTS, "gross_revenue", "refunds"]].sum()
    sums["events"] = e.groupby(keys).size()
    sums["net_revenue"] = sums["gross_revenue"] - sums["refunds"]
    for name, flag in DISTINCT.items():
        sums[name] = e[e[flag]].groupby(keys)["user_id"].nunique()
    return sums.fillna({name: 0 for name in DISTINCT}).reset_index()


def engagement(events: pd.DataFrame) -> pd.DataFrame:
    """DAU, WAU and MAU per product and day: distinct active users in the trailing window."""
    active = events[events["user_initiated"]]
    days = active["occurred_at"].dt.tz_localize(None).dt.normalize()
    activity = with_all(
        pd.DataFrame(
            {"product_id": active["product_id"], "user_id": active["user_id"], "day": days}
        )
    ).drop_duplicates()
    out = activity.groupby(["product_id", "day"])["user_id"].nunique().rename("dau").to_frame()
    for name, width in (("wau", 7), ("mau", 30)):
        spread = pd.concat(
            [activity.assign(day=activity["day"] + pd.Timedelta(days=k)) for k in range(width)],
            ignore_index=True,
        ).drop_duplicates()
        out[name] = spread.groupby(["product_id", "day"])["user_id"].nunique()
    out["stickiness"] = out["dau"] / out["mau"]
    return out.reset_index()


USERS = "SELECT product_id, user_id, channel, country FROM growth.users"
PERIODS = {"day": "D", "week": "W-SUN", "month": "M"}  # W-SUN: weeks ending Sunday (ISO)


def active_days(events: pd.DataFrame) -> pd.DataFrame:
    """One row per (product, user, day) with a user-initiated event."""
    active = events[events["user_initiated"]]
    return pd.DataFrame(
        {
            "product_id": active["product_id"],
            "user_id": active["user_id"],
            "day": active["occurred_at"].dt.tz_localize(None).dt.normalize(),
        }
    ).drop_duplicates()


def growth_accounting(days: pd.DataFrame, grain: str) -> pd.DataFrame:
    """New, retained, resurrected, churned and active users per product and period."""
    ua = days.assign(period=days["day"].dt.to_period(PERIODS[grain])).drop_duplicates(
        ["product_id", "user_id", "period"]
    )[["product_id", "user_id", "period"]]
    first = ua.groupby(["product_id", "user_id"])["period"].transform("min")
    ua = ua.assign(new=ua["period"] == first, prev=ua["period"] - 1)
    before = ua[["product_id", "user_id", "period"]].rename(columns={"period": "prev"})
    ua = ua.merge(before.assign(retained=True), on=["product_id", "user_id", "prev"], how="left")
    ua["retained"] = ua["retained"].fillna(False).astype(bool)
    out = ua.groupby(["product_id", "period"]).agg(
        active=("user_id", "size"), new=("new", "sum"), retained=("retained", "sum")
    )
    out["resurrected"] = out["active"] - out["new"] - out["retained"]
    out = out.reset_index()
    previous = out[["product_id", "period", "active"]].assign(period=out["period"] + 1)
    out = out.merge(
        previous.rename(columns={"active": "previous"}), on=["product_id", "period"], how="left"
    ).fillna({"previous": 0})
    out["churned"] = out["previous"] - out["retained"]
    portfolio = out.groupby("period").sum(numeric_only=True).reset_index().assign(product_id="all")
    return pd.concat([out, portfolio], ignore_index=True)


def cohorts(days: pd.DataFrame, grain: str) -> pd.DataFrame:
    """Each (product, user)'s cohort period and the offset of each active period from it."""
    ua = days.assign(period=days["day"].dt.to_period(PERIODS[grain])).drop_duplicates(
        ["product_id", "user_id", "period"]
    )[["product_id", "user_id", "period"]]
    ua["cohort"] = ua.groupby(["product_id", "user_id"])["period"].transform("min")
    ua["k"] = (ua["period"] - ua["cohort"]).apply(lambda offset: offset.n)
    return ua


def retention(days: pd.DataFrame, users: pd.DataFrame, grain: str) -> pd.DataFrame:
    """Active members per (product, segment, cohort, k), segments all / channel / country."""
    ua = cohorts(days, grain).merge(users, on=["product_id", "user_id"], how="left")
    ua[["channel", "country"]] = ua[["channel", "country"]].fillna("unknown")
    parts = []
    for segment_type in ("all", "channel", "country"):
        seg = ua.assign(
            segment_type=segment_type,
            segment="all" if segment_type == "all" else ua[segment_type],
        )
        parts.append(seg)
        parts.append(seg.assign(product_id="all"))
    cells = (
        pd.concat(parts, ignore_index=True)
        .groupby(["product_id", "segment_type", "segment", "cohort", "k"])
        .size()
        .rename("active_users")
        .reset_index()
    )
    sizes = cells[cells["k"] == 0].rename(columns={"active_users": "cohort_size"})
    return cells.merge(
        sizes.drop(columns="k"), on=["product_id", "segment_type", "segment", "cohort"]
    )


def ltv(events: pd.DataFrame, days: pd.DataFrame, grain: str) -> pd.DataFrame:
    """Cumulative net revenue per cohort member by periods since the cohort period."""
    members = cohorts(days, grain).query("k == 0")[["product_id", "user_id", "cohort"]]
    money = events[events["event_type"].isin(["revenue", "refund"])]
    money = money.assign(
        net=money["value_reporting"].where(
            money["event_type"] == "revenue", -money["value_reporting"]
        ),
        period=money["occurred_at"].dt.tz_localize(None).dt.to_period(PERIODS[grain]),
    ).merge(members, on=["product_id", "user_id"])
    money = money[money["period"] >= money["cohort"]]
    money["k"] = (money["period"] - money["cohort"]).apply(lambda offset: offset.n)
    revenue = money.groupby(["product_id", "cohort", "k"])["net"].sum().reset_index()
    revenue["cumulative"] = revenue.groupby(["product_id", "cohort"])["net"].cumsum()
    size = members.groupby(["product_id", "cohort"]).size().rename("cohort_size").reset_index()
    out = revenue.merge(size, on=["product_id", "cohort"])
    out["ltv"] = out["cumulative"] / out["cohort_size"]
    return out


def power_users(days: pd.DataFrame) -> pd.DataFrame:
    """Users by active days in the trailing 7 and 28 days, per product and day."""
    parts = []
    for width in (7, 28):
        spread = pd.concat(
            [days.assign(day=days["day"] + pd.Timedelta(days=k)) for k in range(width)],
            ignore_index=True,
        )
        spread = spread[spread["day"] <= days["day"].max()]
        counts = spread.groupby(["product_id", "user_id", "day"]).size().rename("active_days")
        hist = counts.reset_index().groupby(["product_id", "day", "active_days"]).size()
        hist = hist.rename("users").reset_index()
        portfolio = hist.groupby(["day", "active_days"])["users"].sum().reset_index()
        parts += [hist, portfolio.assign(product_id="all")]
        parts[-1]["window_days"] = parts[-2]["window_days"] = width
    return pd.concat(parts, ignore_index=True)


def run(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    started = time.perf_counter()
    events = pd.read_sql_query(QUERY, engine, coerce_float=True)
    events["occurred_at"] = pd.to_datetime(events["occurred_at"], utc=True)
    events["value_reporting"] = events["value_reporting"].astype("float64").fillna(0.0)
    users = pd.read_sql_query(USERS, engine)
    read_s = time.perf_counter() - started
    t = time.perf_counter()
    daily = metrics(events, "D")
    monthly = metrics(events, "M")
    eng = engagement(events)
    rollups_s = time.perf_counter() - t
    t = time.perf_counter()
    days = active_days(events)
    accounting = {g: growth_accounting(days, g) for g in PERIODS}
    triangles = {g: retention(days, users, g) for g in ("week", "month")}
    values = {g: ltv(events, days, g) for g in ("week", "month")}
    power = power_users(days)
    cohorts_s = time.perf_counter() - t
    compute_s = rollups_s + cohorts_s
    engine.dispose()
    return {
        "events": len(events),
        "read_s": read_s,
        "compute_s": compute_s,
        "rollups_s": rollups_s,
        "cohorts_s": cohorts_s,
        "total_s": time.perf_counter() - started,
        "daily_rows": len(daily),
        "monthly_rows": len(monthly),
        "engagement_rows": len(eng),
        "net_revenue_total": float(daily.loc[daily["product_id"] == "all", "net_revenue"].sum()),
        # totals to compare with the warehouse's tables (same definitions)
        "growth_accounting_rows": {g: len(f) for g, f in accounting.items()},
        "week_new_users_all": int(
            accounting["week"].loc[accounting["week"]["product_id"] == "all", "new"].sum()
        ),
        "week_resurrected_all": int(
            accounting["week"].loc[accounting["week"]["product_id"] == "all", "resurrected"].sum()
        ),
        "retention_rows": {g: len(f) for g, f in triangles.items()},
        "week_cells_active_all": int(
            triangles["week"]
            .query("product_id == 'all' and segment_type == 'all'")["active_users"]
            .sum()
        ),
        "ltv_rows": {g: len(f) for g, f in values.items()},
        "power_user_rows": len(power),
        "l28_user_days_all": int(
            power.query("product_id == 'all' and window_days == 28")
            .eval("users * active_days")
            .sum()
        ),
    }


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1])))
