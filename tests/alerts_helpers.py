"""Shared pieces of the alert tests: seeding growth.metrics_daily and reporting it landed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from dagster import AssetKey, AssetMaterialization, DagsterInstance

from resources.warehouse import Warehouse

START = date(2025, 1, 1)
KEY = AssetKey(["growth", "metrics_daily"])


def seed(
    warehouse: Warehouse, churn: Sequence[float], product: str = "delta", start: date = START
) -> list[date]:
    """One row per day with the given churned_customers; every other metric constant (a flat
    baseline never alerts), so only churn can move."""
    days = [start + timedelta(days=i) for i in range(len(churn))]
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO growth.metrics_daily (day, product_id, gross_revenue, refunds, "
                "net_revenue, signups, activations, churned_customers, active_users, "
                "tickets_created, tickets_solved, events) VALUES (:day, :p, 100, 0, 100, 10, 5, "
                ":churn, 50, 3, 3, 500) ON CONFLICT (day, product_id) DO UPDATE SET "
                "churned_customers = EXCLUDED.churned_customers"
            ),
            [{"day": d, "p": product, "churn": c} for d, c in zip(days, churn, strict=True)],
        )
    return days


def landed(instance: DagsterInstance, *days: date) -> None:
    """Record materialisations of growth/metrics_daily for these daily partitions."""
    for d in days:
        instance.report_runless_asset_event(AssetMaterialization(asset_key=KEY, partition=f"{d}"))


def noisy(n: int, base: float = 3.0, scale: float = 1.0) -> list[float]:
    """A deterministic, non-flat churn history around ``base`` (stddev ≈ 1.1 x ``scale``)."""
    pattern = [0, 1, -1, 2, 0, -2, 1, 0, -1, 1]
    return [base + scale * pattern[i % len(pattern)] for i in range(n)]


def alerts(warehouse: Warehouse) -> list[sa.Row]:
    with warehouse.engine.connect() as conn:
        return list(
            conn.execute(sa.text("SELECT * FROM ops.alerts ORDER BY created_at, dedup_key"))
        )
