"""The one place that decides how the code location is wired for this environment.

``GROWTH_ENV`` selects the wiring (only ``demo`` exists so far: every source is answered by
the deterministic simulator). Connection strings are secrets: when set in the environment
they are passed as ``dagster.EnvVar`` so their values never show in the UI or in run config.
Without ``GROWTH_WAREHOUSE_URL`` the project-private cluster started by ``scripts/warehouse``
is used (loopback only). Everything here is read when the definitions are built.
"""

from __future__ import annotations

import os
from typing import Any

from dagster import EnvVar

from growth_assets.sources.streams import SOURCES
from resources.clients import DemoSettings, DemoSourceClient
from resources.fx import CsvFxRates, DemoFxRates
from resources.settings import ModelSettings
from resources.warehouse import Warehouse

LOCAL_HOST = "127.0.0.1"
ENVIRONMENTS = ("demo",)


def local_url(database: str, driver: str = "postgresql+psycopg") -> str:
    """URL of the project-private cluster (``scripts/warehouse start``)."""
    port = os.environ.get("GROWTH_PG_PORT", "55432")
    return f"{driver}://growth@{LOCAL_HOST}:{port}/{database}"


def warehouse_url() -> str:
    return os.environ.get("GROWTH_WAREHOUSE_URL") or local_url(
        os.environ.get("GROWTH_DB", "growth")
    )


def environment() -> str:
    env = os.environ.get("GROWTH_ENV", "demo")
    if env not in ENVIRONMENTS:
        raise ValueError(f"GROWTH_ENV must be one of {', '.join(ENVIRONMENTS)}; got {env!r}")
    return env


def demo_settings() -> DemoSettings:
    def num(name: str, default: int) -> int:
        raw = os.environ.get(name)
        try:
            return int(raw) if raw else default
        except ValueError as exc:
            raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc

    return DemoSettings(
        seed=num("GROWTH_DEMO_SEED", 7),
        start=os.environ.get("GROWTH_DEMO_START", "2024-11-01"),
        days=num("GROWTH_DEMO_DAYS", 730),
        users=num("GROWTH_DEMO_USERS", 50_000),
        products=num("GROWTH_DEMO_PRODUCTS", 10),
    )


def days(name: str, default: int) -> int:
    """A retention horizon in days (0 keeps everything) from the environment."""
    raw = os.environ.get(name)
    if not raw:
        return default
    if not raw.isdigit():
        raise ValueError(f"{name} must be a whole number of days, got {raw!r}")
    return int(raw)


def build_resources() -> dict[str, Any]:
    environment()
    url: Any = (
        EnvVar("GROWTH_WAREHOUSE_URL")
        if os.environ.get("GROWTH_WAREHOUSE_URL")
        else warehouse_url()
    )
    demo = demo_settings()
    resources: dict[str, Any] = {
        "warehouse": Warehouse(url=url, timescaledb=os.environ.get("GROWTH_TIMESCALEDB", "auto")),
        "settings": ModelSettings(
            reporting_currency=os.environ.get("GROWTH_REPORTING_CURRENCY", "USD"),
            retention_events_days=days("GROWTH_RETENTION_EVENTS_DAYS", 0),
            retention_hourly_days=days("GROWTH_RETENTION_HOURLY_DAYS", 400),
            retention_stale_marks_days=days("GROWTH_RETENTION_STALE_MARKS_DAYS", 90),
        ),
        "fx_source": (
            CsvFxRates(path=os.environ["GROWTH_FX_RATES_CSV"])
            if os.environ.get("GROWTH_FX_RATES_CSV")
            else DemoFxRates(demo=demo)
        ),
    }
    for source in SOURCES:
        resources[source] = DemoSourceClient(source=source, demo=demo)
    return resources
