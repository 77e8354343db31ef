"""The rollup metrics, defined once.

Every rollup column (``growth.metrics_hourly``, ``metrics_daily``, ``metrics_monthly``) and
every continuous aggregate of the community tier is generated from :data:`METRICS` by
:mod:`growth_assets.rollups.sqlgen`, so the table refresh of the Apache / plain tiers and the
continuous aggregates of the community tier cannot drift apart.

Kinds of metric:

* ``sum`` / ``count``: additive over time and over products. They roll up hierarchically
  (hour → day → month) by summing.
* ``distinct``: distinct users with a flag in the period. Not additive over time (a user active
  on two days is one monthly active user), so the daily and monthly values come from
  ``growth.user_activity_daily`` (one row per product, user and day), the hourly value from the
  events themselves.
* ``derived``: an expression over other columns of the same row (net revenue).

A user is identified per product (``growth.users`` is keyed on product and user), so the
portfolio row ``product_id = 'all'`` counts (product, user) pairs and every metric of the
'all' row equals the sum of the product rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["sum", "count", "distinct", "derived"]

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Metric:
    """One rollup column.

    ``event_types`` restricts the events counted (empty: every event); ``user_initiated``
    restricts them to the vocabulary's user-initiated types (``growth.event_types``), which is
    DESIGN.md's definition of an active user. ``flag`` names the boolean column of
    ``growth.user_activity_daily`` a distinct metric counts. ``expression`` is a derived
    metric's formula over other metric names.
    """

    name: str
    kind: Kind
    description: str
    event_types: tuple[str, ...] = ()
    user_initiated: bool = False
    flag: str | None = None
    expression: str | None = None

    def __post_init__(self) -> None:
        for ident in (self.name, *self.event_types, *([self.flag] if self.flag else [])):
            if not _NAME.match(ident):
                raise ValueError(f"metric {self.name!r}: unsafe identifier {ident!r}")
        if self.kind == "distinct" and not self.flag:
            raise ValueError(f"distinct metric {self.name!r} needs an activity flag")
        if self.kind == "derived" and not self.expression:
            raise ValueError(f"derived metric {self.name!r} needs an expression")
        if self.kind == "sum" and not self.event_types:
            raise ValueError(f"sum metric {self.name!r} needs event types")

    @property
    def additive(self) -> bool:
        return self.kind in ("sum", "count")

    @property
    def sql_type(self) -> str:
        if self.kind in ("sum", "derived"):
            return "numeric(20, 6)"
        return "bigint" if self.name == "events" else "integer"


METRICS: tuple[Metric, ...] = (
    Metric(
        "gross_revenue",
        "sum",
        "Money collected (successful charges) in the reporting currency.",
        event_types=("revenue",),
    ),
    Metric(
        "refunds",
        "sum",
        "Money refunded in the reporting currency (positive).",
        event_types=("refund",),
    ),
    Metric(
        "net_revenue",
        "derived",
        "Gross revenue minus refunds, reporting currency.",
        expression="gross_revenue - refunds",
    ),
    Metric("signups", "count", "Accounts created.", event_types=("signup",)),
    Metric(
        "activations",
        "count",
        "Users reaching the product's activation milestone.",
        event_types=("activation",),
    ),
    Metric(
        "churned_customers",
        "distinct",
        "Distinct customers with a subscription ending in the period.",
        event_types=("churn",),
        flag="churned",
    ),
    Metric(
        "active_users",
        "distinct",
        "Distinct users with at least one user-initiated event in the period.",
        user_initiated=True,
        flag="active",
    ),
    Metric(
        "tickets_created",
        "count",
        "Support tickets opened.",
        event_types=("support_ticket_created",),
    ),
    Metric(
        "tickets_solved",
        "count",
        "Support tickets solved.",
        event_types=("support_ticket_solved",),
    ),
    Metric("events", "count", "Canonical events of every type."),
    Metric(
        "key_actions",
        "count",
        "Key actions performed (the funnel's key step).",
        event_types=("key_action",),
    ),
    Metric(
        "subscriptions_started",
        "count",
        "Subscriptions created.",
        event_types=("subscription_started",),
    ),
    Metric(
        "paying_customers",
        "distinct",
        "Distinct customers with at least one successful charge in the period.",
        event_types=("revenue",),
        flag="paid",
    ),
)

ADDITIVE: tuple[Metric, ...] = tuple(m for m in METRICS if m.additive)
DISTINCT: tuple[Metric, ...] = tuple(m for m in METRICS if m.kind == "distinct")
DERIVED: tuple[Metric, ...] = tuple(m for m in METRICS if m.kind == "derived")
BASE: tuple[Metric, ...] = tuple(m for m in METRICS if m.kind != "derived")
