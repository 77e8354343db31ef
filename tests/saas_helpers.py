"""Helpers for the SaaS analytics tests: write canonical rows straight into the warehouse."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from growth_assets.rollups.metrics import BASE
from resources.warehouse import Warehouse

Event = tuple[Any, ...]


def add_events(warehouse: Warehouse, events: Iterable[Sequence[Any]]) -> None:
    """(occurred_at, product, event_type, user, value, currency, properties, source_id)."""
    rows = []
    for i, e in enumerate(events):
        at, product, etype, user = e[0], e[1], e[2], e[3]
        value = e[4] if len(e) > 4 else None
        currency = e[5] if len(e) > 5 else None
        props = e[6] if len(e) > 6 else {}
        source_id = e[7] if len(e) > 7 else f"s{i}"
        source = "zendesk" if etype.startswith("support_") else "test"
        rows.append(
            {
                "at": at,
                "product": product,
                "etype": etype,
                "user": user,
                "value": value,
                "currency": currency,
                "props": json.dumps(props),
                "source_id": source_id,
                "source": source,
                "stream": f"{etype}_{i}",
            }
        )
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO growth.events (event_id, occurred_at, product_id, source, stream, "
                "source_id, event_type, user_id, value, currency, properties) VALUES "
                "(gen_random_uuid(), :at, :product, :source, :stream, :source_id, :etype, :user, "
                ":value, :currency, CAST(:props AS jsonb))"
            ),
            rows,
        )


def add_fx(warehouse: Warehouse, rates: Iterable[tuple[date, str, str]]) -> None:
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO growth.fx_rates (day, currency, reporting_currency, rate) "
                "VALUES (:day, :currency, 'USD', CAST(:rate AS numeric))"
            ),
            [{"day": d, "currency": c, "rate": r} for d, c, r in rates],
        )


def add_users(warehouse: Warehouse, users: Iterable[tuple[str, str, str, str]]) -> None:
    """(product, user, channel, country)."""
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO growth.users (product_id, user_id, first_seen_at, last_seen_at, "
                "channel, country) VALUES (:p, :u, '2025-01-01', '2025-01-01', :ch, :co)"
            ),
            [{"p": p, "u": u, "ch": ch, "co": co} for p, u, ch, co in users],
        )


def add_metric_rows(warehouse: Warehouse, table: str, rows: Iterable[dict[str, Any]]) -> None:
    """Rollup rows with every metric 0 unless given; ``table`` is metrics_daily/_monthly."""
    time_col = "day" if table == "growth.metrics_daily" else "month"
    names = [m.name for m in BASE]
    cols = ", ".join([time_col, "product_id", *names, "net_revenue"])
    binds = ", ".join(f":{c}" for c in [time_col, "product_id", *names, "net_revenue"])
    full = []
    for r in rows:
        row = {n: r.get(n, 0) for n in names}
        row[time_col] = r[time_col]
        row["product_id"] = r["product_id"]
        row["net_revenue"] = Decimal(str(row["gross_revenue"])) - Decimal(str(row["refunds"]))
        full.append(row)
    with warehouse.transaction() as conn:
        conn.execute(sa.text(f"INSERT INTO {table} ({cols}) VALUES ({binds})"), full)


def fetch(warehouse: Warehouse, sql: str, **params: Any) -> list[dict[str, Any]]:
    with warehouse.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
