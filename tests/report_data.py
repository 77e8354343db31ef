"""A warehouse with the demo world built by the real pipeline at a small scale, the planted
churn spike alerted, for the report and dashboard tests (built once per session)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, build_sensor_context

from growth_assets.alerts.deliver import AlertChannels
from growth_assets.alerts.sensors import metric_alerts
from growth_assets.backfill import materialize_days
from growth_assets.environment import build_resources
from resources.warehouse import Warehouse
from tests.conftest import _warehouse

SCALE = {"GROWTH_DEMO_USERS": "5000", "GROWTH_DEMO_DAYS": "35", "GROWTH_DEMO_SEED": "11"}
FIRST = date(2024, 11, 1)
LAST = FIRST + timedelta(days=34)  # 2024-12-05, the planted churn spike's day


@pytest.fixture(scope="session")
def demo_warehouse(admin: sa.Engine) -> Iterator[Warehouse]:
    with pytest.MonkeyPatch.context() as mp:
        for gen in [_warehouse(admin, "auto")]:
            warehouse = next(gen)
            mp.setenv("GROWTH_WAREHOUSE_URL", warehouse.url)
            for name, value in SCALE.items():
                mp.setenv(name, value)
            resources = build_resources()
            with DagsterInstance.ephemeral() as instance:
                _, checks = materialize_days(FIRST, LAST, resources, instance)
                assert all(c.passed for c in checks if c.severity == "ERROR"), checks
                res = {"warehouse": warehouse, "alert_channels": AlertChannels()}
                metric_alerts(build_sensor_context(instance=instance, cursor=None, resources=res))
            yield warehouse
            next(gen, None)
