"""The demo never mixes two generated worlds, and never touches a warehouse it did not build."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from growth_assets.demo.fingerprint import (
    DemoWarehouseError,
    Preparation,
    fingerprint,
    prepare_warehouse,
)
from growth_assets.demo.world import DemoConfig, get_world
from resources.warehouse import Warehouse

SMALL = DemoConfig(users=300, days=8, products=4)
OTHER = DemoConfig(users=300, days=8, products=4, seed=8)


def _plant_event(warehouse: Warehouse) -> None:
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO growth.events (event_id, occurred_at, product_id, source, stream, "
                "source_id, event_type, user_id) VALUES (gen_random_uuid(), :at, 'p', 'csv', "
                "'signups', 's1', 'signup', 'u1')"
            ),
            {"at": datetime(2024, 11, 2, tzinfo=UTC)},
        )


def _events(warehouse: Warehouse) -> int:
    with warehouse.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM growth.events")).scalar_one())


def test_fingerprint_tells_worlds_apart() -> None:
    same = fingerprint(get_world(SMALL))
    assert same == fingerprint(get_world(DemoConfig(users=300, days=8, products=4)))
    assert same != fingerprint(get_world(OTHER))
    assert same["records"]["mixpanel/events"] > 0


def test_same_world_is_kept_other_world_is_rebuilt(warehouse: Warehouse) -> None:
    assert prepare_warehouse(warehouse, get_world(SMALL)) is Preparation.FRESH
    _plant_event(warehouse)
    assert prepare_warehouse(warehouse, get_world(SMALL)) is Preparation.SAME
    assert _events(warehouse) == 1  # incremental: what is there stays

    assert prepare_warehouse(warehouse, get_world(OTHER)) is Preparation.REBUILT
    assert _events(warehouse) == 0  # the old world's rows are gone, schemas migrated again
    with warehouse.engine.connect() as conn:
        recorded = conn.execute(sa.text("SELECT fingerprint FROM ops.demo_world")).scalar_one()
        migrations = conn.execute(sa.text("SELECT count(*) FROM ops.schema_migrations")).scalar()
    assert recorded == fingerprint(get_world(OTHER))
    assert migrations and migrations > 10


def test_refuses_a_warehouse_it_did_not_build(warehouse: Warehouse) -> None:
    _plant_event(warehouse)
    with pytest.raises(DemoWarehouseError, match="did not generate") as err:
        prepare_warehouse(warehouse, get_world(SMALL))
    assert "GROWTH_WAREHOUSE_URL" in str(err.value)
    assert _events(warehouse) == 1  # untouched


def test_own_cluster_rebuilds_a_demo_from_before_the_record(warehouse: Warehouse) -> None:
    _plant_event(warehouse)  # an older demo's warehouse: events, no ops.demo_world row
    assert prepare_warehouse(warehouse, get_world(SMALL), own_cluster=True) is Preparation.REBUILT
    assert _events(warehouse) == 0
