"""The same metrics computed the straightforward pandas way, for the build benchmark's ratio.

What a user without this project would write: read ``growth.events`` into a DataFrame, then
group by. Daily and monthly metrics per product and for all products (gross revenue,
refunds, net revenue, signups, activations, tickets created and solved, key actions,
subscriptions started, events, active users, paying and churned customers), and DAU / WAU
(trailing 7 days) / MAU (trailing 30 days) per product and day. Run as a subprocess by
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


def run(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    started = time.perf_counter()
    events = pd.read_sql_query(QUERY, engine, coerce_float=True)
    events["occurred_at"] = pd.to_datetime(events["occurred_at"], utc=True)
    events["value_reporting"] = events["value_reporting"].astype("float64").fillna(0.0)
    read_s = time.perf_counter() - started
    t = time.perf_counter()
    daily = metrics(events, "D")
    monthly = metrics(events, "M")
    eng = engagement(events)
    compute_s = time.perf_counter() - t
    engine.dispose()
    return {
        "events": len(events),
        "read_s": read_s,
        "compute_s": compute_s,
        "total_s": time.perf_counter() - started,
        "daily_rows": len(daily),
        "monthly_rows": len(monthly),
        "engagement_rows": len(eng),
        "net_revenue_total": float(daily.loc[daily["product_id"] == "all", "net_revenue"].sum()),
    }


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1])))
