"""Serialise concurrent replaces of the same window: transaction-scoped advisory locks.

A partition is replaced in one transaction (delete the window, insert it again, or upsert).
MVCC already shows readers the old or the new window, never half of one. Two *writers* of the
same window are another matter: under READ COMMITTED the second one's ``DELETE`` does not see
the first one's uncommitted inserts, so both insert and the window is doubled (or the primary
key refuses the second run). Every replace therefore takes :func:`lock_window` first, inside
its transaction, keyed by (asset, window).

Windows of different sizes overlap (a backfill over a month, a re-run of one of its days, an
hourly partition inside a day), so the lock is not taken on the window's text but on every UTC
day the window touches: two windows that share any day share a lock. Each day is one
``pg_advisory_xact_lock(hashtextextended('<asset>|<day>', 0))``, taken in ascending order (no
deadlock between two replaces). A window longer than :data:`MAX_DAY_LOCKS` days (a two-year
backfill) takes the asset's exclusive lock instead of thousands of day locks (the server's
shared lock table is finite); every narrower replace holds the asset's lock in shared mode, so
the two still exclude each other. The locks are released at commit or rollback, including when
the client process is killed (the server ends the transaction).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

MAX_DAY_LOCKS = 62

_EXCLUSIVE = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(CAST(:key AS text), 0))")
_SHARED = sa.text("SELECT pg_advisory_xact_lock_shared(hashtextextended(CAST(:key AS text), 0))")


def window_days(start: datetime, end: datetime) -> list[date]:
    """The UTC days that [start, end) touches (at least the day of ``start``)."""
    first = start.astimezone(UTC).date()
    last_instant = end.astimezone(UTC) - timedelta(microseconds=1)
    last = max(first, last_instant.date())
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def lock_keys(asset: str, start: datetime, end: datetime) -> tuple[str, list[str]]:
    """(the asset-wide key, the day keys) :func:`lock_window` takes for this window; no day
    keys when the window is wider than :data:`MAX_DAY_LOCKS` days."""
    days = window_days(start, end)
    if len(days) > MAX_DAY_LOCKS:
        return f"{asset}|*", []
    return f"{asset}|*", [f"{asset}|{d.isoformat()}" for d in days]


def lock_window(conn: Connection, asset: str, start: datetime, end: datetime) -> None:
    """Block until no other transaction replaces an overlapping window of ``asset``; the
    locks are held until ``conn``'s transaction ends. Call it first in the replace's
    transaction."""
    whole, days = lock_keys(asset, start, end)
    if not days:
        conn.execute(_EXCLUSIVE, {"key": whole})
        return
    conn.execute(_SHARED, {"key": whole})
    for key in days:
        conn.execute(_EXCLUSIVE, {"key": key})


def lock_asset(conn: Connection, asset: str) -> None:
    """Block until no other transaction replaces any window of ``asset`` (for unpartitioned
    assets that replace everything, and whole-table maintenance)."""
    conn.execute(_EXCLUSIVE, {"key": f"{asset}|*"})
