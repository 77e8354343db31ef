"""The one place that decides how the code location is wired for this environment.

``GROWTH_ENV`` selects the wiring: ``demo`` answers every source with the deterministic
simulator; ``live`` reads each source through its real API client (``LIVE_CLIENTS``), built
from that source's environment variables (``STRIPE_API_KEY``, ``MIXPANEL_API_SECRET``,
``ZENDESK_API_TOKEN``…). Secrets, connection strings included, are passed to Dagster as
``dagster.EnvVar`` so their values never show in the UI or in run config. Without
``GROWTH_WAREHOUSE_URL`` the project-private cluster started by ``scripts/warehouse`` is used
(loopback only). Everything here is read when the definitions are built.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from dagster import EnvVar

from growth_assets.alerts.deliver import channels_from_env
from growth_assets.reports.settings import report_settings_from_env
from growth_assets.sources.streams import SOURCES
from growth_assets.sources.tabular_assets import tabular_resources
from growth_assets.sources.tabular_config import EMPTY, TabularConfig, load_config
from resources.clients import DemoSettings, DemoSourceClient, SourceClient
from resources.fx import CsvFxRates, DemoFxRates
from resources.mixpanel_api import MixpanelApiClient
from resources.settings import model_settings_from_env
from resources.stripe_api import StripeApiClient
from resources.warehouse import Warehouse
from resources.zendesk_api import ZendeskApiClient

LOCAL_HOST = "127.0.0.1"
ENVIRONMENTS = ("demo", "live")
# Source → builds its real client from environment variables (raising a clear error naming a
# missing variable). Secrets are always passed on as ``EnvVar`` (Mixpanel's and Zendesk's
# ``from_env()`` do so when given no mapping), never as values.
LIVE_CLIENTS: dict[str, Callable[[Mapping[str, str]], SourceClient]] = {
    "stripe": StripeApiClient.from_env,
    "mixpanel": lambda _environ: MixpanelApiClient.from_env(),
    "zendesk": lambda _environ: ZendeskApiClient.from_env(),
}


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


def source_client(source: str, env: str, demo: DemoSettings) -> SourceClient:
    """The client for one source in this environment."""
    if env == "demo":
        return DemoSourceClient(source=source, demo=demo)
    make = LIVE_CLIENTS.get(source)
    if make is None:
        raise ValueError(f"GROWTH_ENV={env}: no live client for source {source!r} yet")
    return make(os.environ)


def sources_config() -> TabularConfig:
    """The configured tabular sources: the TOML file named by ``GROWTH_SOURCES_FILE``, or none."""
    path = os.environ.get("GROWTH_SOURCES_FILE")
    return load_config(path, reserved=SOURCES) if path else EMPTY


def build_resources(tabular: TabularConfig | None = None) -> dict[str, Any]:
    env = environment()
    url: Any = (
        EnvVar("GROWTH_WAREHOUSE_URL")
        if os.environ.get("GROWTH_WAREHOUSE_URL")
        else warehouse_url()
    )
    demo = demo_settings()
    resources: dict[str, Any] = {
        "warehouse": Warehouse(url=url, timescaledb=os.environ.get("GROWTH_TIMESCALEDB", "auto")),
        "settings": model_settings_from_env(os.environ),
        "fx_source": (
            CsvFxRates(path=os.environ["GROWTH_FX_RATES_CSV"])
            if os.environ.get("GROWTH_FX_RATES_CSV")
            else DemoFxRates(demo=demo)
        ),
    }
    for source in SOURCES:
        resources[source] = source_client(source, env, demo)
    resources.update(tabular_resources(sources_config() if tabular is None else tabular))
    resources["alert_channels"] = channels_from_env()
    resources["report_settings"] = report_settings_from_env(os.environ)
    return resources
