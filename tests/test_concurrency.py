"""Concurrent replaces of one window serialise; readers see the old or the new window.

Every replace takes ``resources.locks.lock_window`` in its transaction. These tests check the
lock's reach (overlapping windows exclude each other, others do not), run the whole pipeline
twice at once over the same days (the result equals one clean run), and read a rollup in a
loop from another connection while its partition is rebuilt (every observation is the old or
the new total, never a mix).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, materialize

from growth_assets.rollups.assets import metrics_daily, user_activity_daily
from resources.locks import MAX_DAY_LOCKS, lock_keys, lock_window, window_days
from resources.warehouse import Warehouse
from tests import test_pipeline as hand
from tests.reliability import digests

resources = hand.resources  # the hand-checked world's fixture


def t(day: int, hour: int = 0) -> datetime:
    return datetime(2024, 11, day, hour, tzinfo=UTC)


def test_window_days_cover_partial_days() -> None:
    assert window_days(t(4), t(5)) == [t(4).date()]
    assert window_days(t(4, 5), t(4, 6)) == [t(4).date()]
    assert window_days(t(4, 23), t(5, 1)) == [t(4).date(), t(5).date()]
    whole, days = lock_keys("a", t(1), t(1) + timedelta(days=MAX_DAY_LOCKS + 1))
    assert whole == "a|*" and days == []


def _blocked(warehouse: Warehouse, asset: str, start: datetime, end: datetime) -> bool:
    """Whether lock_window(asset, start, end) would wait (tried with a short lock_timeout)."""
    with warehouse.engine.connect() as conn, conn.begin():
        conn.execute(sa.text("SET LOCAL lock_timeout = '150ms'"))
        try:
            lock_window(conn, asset, start, end)
        except sa.exc.OperationalError as exc:
            assert "lock timeout" in str(exc)
            return True
    return False


def test_overlapping_windows_exclude_each_other(warehouse: Warehouse) -> None:
    with warehouse.engine.connect() as holder, holder.begin():
        lock_window(holder, "growth.metrics_daily", t(4), t(6))  # days 4 and 5
        assert _blocked(warehouse, "growth.metrics_daily", t(4), t(6))
        assert _blocked(warehouse, "growth.metrics_daily", t(5, 3), t(5, 4))  # an hour inside
        assert _blocked(warehouse, "growth.metrics_daily", t(1), t(30))  # a month around it
        long_end = t(1) + timedelta(days=MAX_DAY_LOCKS + 5)
        assert _blocked(warehouse, "growth.metrics_daily", t(1), long_end)  # asset-wide
        assert not _blocked(warehouse, "growth.metrics_daily", t(6), t(7))  # the next day
        assert not _blocked(warehouse, "growth.metrics_hourly", t(4), t(6))  # another asset
    # Released at commit.
    assert not _blocked(warehouse, "growth.metrics_daily", t(4), t(6))


def test_wide_window_excludes_every_narrow_one(warehouse: Warehouse) -> None:
    with warehouse.engine.connect() as holder, holder.begin():
        lock_window(holder, "x", t(1), t(1) + timedelta(days=MAX_DAY_LOCKS + 5))
        assert _blocked(warehouse, "x", t(20), t(21))
        assert not _blocked(warehouse, "y", t(20), t(21))


def _build(resources: dict[str, Any], errors: list[BaseException]) -> None:
    try:
        checks = hand.build(resources)
        failed = [c for c in checks if not c.passed and c.severity == "ERROR"]
        assert not failed, failed
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)


def test_two_runs_of_the_same_days_at_once_equal_one_clean_run(
    resources: dict[str, Any], warehouse: Warehouse
) -> None:
    _build(resources, [])
    clean = digests(warehouse)
    with warehouse.engine.begin() as conn:  # start again from nothing
        conn.execute(sa.text("TRUNCATE growth.events, growth.users, raw.mixpanel_events"))
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_build, args=(resources, errors)) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert digests(warehouse) == clean


TOTALS = sa.text(
    """
    SELECT count(*), coalesce(sum(events), 0), coalesce(sum(revenue), 0)
    FROM growth.user_activity_daily WHERE day = :day
    """
)
VIEW_TOTALS = sa.text(
    """
    SELECT coalesce(sum(events), 0), coalesce(sum(net_revenue), 0)
    FROM analytics.metrics_daily WHERE day = :day
    """
)


def test_readers_see_the_old_or_the_new_partition(
    resources: dict[str, Any], warehouse: Warehouse
) -> None:
    _build(resources, [])
    day = {"day": hand.DAY2}
    with warehouse.engine.connect() as conn:
        old = (tuple(conn.execute(TOTALS, day).one()), tuple(conn.execute(VIEW_TOTALS, day).one()))
    with warehouse.engine.begin() as conn:  # the events change: the rebuild has news
        conn.execute(sa.text("DELETE FROM growth.events WHERE source = 'zendesk'"))
        conn.execute(
            sa.text("DELETE FROM growth.events WHERE event_type = 'revenue' AND user_id = 'u1'")
        )
    seen: list[Any] = []
    stop = threading.Event()

    def read() -> None:
        with warehouse.engine.connect() as conn:
            while not stop.is_set():
                with conn.begin():  # one snapshot per observation, as a BI query has
                    a = tuple(conn.execute(TOTALS, day).one())
                with conn.begin():
                    b = tuple(conn.execute(VIEW_TOTALS, day).one())
                seen.append((a, b))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        with DagsterInstance.ephemeral() as instance:
            for _ in range(4):
                result = materialize(
                    [user_activity_daily, metrics_daily],
                    partition_key=hand.DAY2.isoformat(),
                    resources={"warehouse": warehouse, "settings": resources["settings"]},
                    instance=instance,
                )
                assert result.success
    finally:
        stop.set()
        reader.join()
    with warehouse.engine.connect() as conn:
        new = (tuple(conn.execute(TOTALS, day).one()), tuple(conn.execute(VIEW_TOTALS, day).one()))
    assert old != new and old[0] != new[0] and old[1] != new[1]
    assert len(seen) > 20
    activity = {o[0] for o in seen}
    view = {o[1] for o in seen}
    assert activity <= {old[0], new[0]}, activity - {old[0], new[0]}
    assert view <= {old[1], new[1]}, view - {old[1], new[1]}


@pytest.mark.parametrize("asset", ["growth.user_activity_daily"])
def test_two_rebuilds_of_one_partition_at_once(
    asset: str, resources: dict[str, Any], warehouse: Warehouse
) -> None:
    _build(resources, [])
    clean = digests(warehouse, {asset, "growth.metrics_daily"})
    errors: list[BaseException] = []

    def rebuild() -> None:
        try:
            with DagsterInstance.ephemeral() as instance:
                for _ in range(3):
                    result = materialize(
                        [user_activity_daily, metrics_daily],
                        partition_key=hand.DAY2.isoformat(),
                        resources={"warehouse": warehouse, "settings": resources["settings"]},
                        instance=instance,
                    )
                    assert result.success
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=rebuild) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert digests(warehouse, {asset, "growth.metrics_daily"}) == clean
