"""Loading hand-written and generated canonical data straight into a test warehouse, and
building the cohort assets from it (without the ingestion steps, which other tests cover)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from dagster import DagsterInstance, materialize

from growth_assets.cohorts.assets import COHORT_ASSETS
from growth_assets.partitions import range_tags
from growth_assets.rollups.assets import engagement_daily, user_activity_daily
from resources.settings import ModelSettings
from resources.warehouse import Warehouse

# (product, user, occurred_at, event_type, value_reporting or None, properties)
Event = tuple[str, str, datetime, str, Decimal | None, dict[str, Any]]
EVENT_COLUMNS = (
    "event_id",
    "occurred_at",
    "product_id",
    "source",
    "stream",
    "source_id",
    "event_type",
    "user_id",
    "value",
    "currency",
    "value_reporting",
    "properties",
)


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def load_events(warehouse: Warehouse, events: Iterable[Event]) -> int:
    rows = (
        (
            uuid.uuid5(uuid.NAMESPACE_URL, f"test/{i}"),
            ts,
            product,
            "test",
            "events",
            str(i),
            kind,
            user,
            value,
            None if value is None else "USD",
            value,
            json.dumps(props),
        )
        for i, (product, user, ts, kind, value, props) in enumerate(events)
    )
    with warehouse.transaction() as conn:
        return Warehouse.copy_rows(conn, "growth.events", EVENT_COLUMNS, rows)


def load_users(warehouse: Warehouse, users: Sequence[tuple[Any, ...]]) -> None:
    """(product, user, first_seen_at, channel, country) rows."""
    rows = [(p, u, ts, ts, ts, ch, co) for p, u, ts, ch, co in users]
    with warehouse.transaction() as conn:
        Warehouse.copy_rows(
            conn,
            "growth.users",
            (
                "product_id",
                "user_id",
                "signed_up_at",
                "first_seen_at",
                "last_seen_at",
                "channel",
                "country",
            ),
            rows,
        )


def load_subscriptions(warehouse: Warehouse, subs: Sequence[tuple[Any, ...]]) -> None:
    """(subscription_id, product, user, price_id, created_at, ended_at) rows."""
    rows = [
        (sid, p, u, "active", json.dumps([{"price_id": price}]), "USD", created, ended)
        for sid, p, u, price, created, ended in subs
    ]
    with warehouse.transaction() as conn:
        Warehouse.copy_rows(
            conn,
            "growth.subscriptions",
            (
                "subscription_id",
                "product_id",
                "user_id",
                "status",
                "items",
                "reporting_currency",
                "created_at",
                "ended_at",
            ),
            rows,
        )


def build_cohorts(
    warehouse: Warehouse, first: date, last: date, settings: ModelSettings | None = None
) -> dict[str, dict[str, Any]]:
    """Materialise the activity table, engagement and every cohort asset over the days;
    return each check's metadata by name, after asserting that every check passed."""
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [user_activity_daily, engagement_daily, *COHORT_ASSETS],
            resources={"warehouse": warehouse, "settings": settings or ModelSettings()},
            instance=instance,
            tags=range_tags(first, last, "daily"),
        )
    assert result.success
    checks = {
        c.check_name: {k: v.value for k, v in c.metadata.items()}
        for c in result.get_asset_check_evaluations()
    }
    failed = [c for c in result.get_asset_check_evaluations() if not c.passed]
    assert not failed, [(c.check_name, checks[c.check_name]) for c in failed]
    return checks
