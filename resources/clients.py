"""Source clients: one small interface, a real implementation per API and a demo one.

Assets ask a client for the records of one stream in a time window and get the payload dicts
the API returns. Everything downstream of this interface is the same code in the demo and in
production; only the client differs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from dagster import ConfigurableResource
from pydantic import Field

if TYPE_CHECKING:  # the simulator is imported only by demo runs
    from growth_assets.demo.world import DemoConfig, DemoWorld
    from resources.cursors import CursorStore


class SourceClient(ConfigurableResource, ABC):
    """Reads one source: ``fetch`` yields the payloads of ``stream`` in ``[start, end)``."""

    @abstractmethod
    def fetch(self, stream: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """Yield the stream's records whose source timestamp lies in the window."""

    def describe(self) -> dict[str, str]:
        """What this client reads from, for asset metadata and the status command (no secrets)."""
        return {"client": type(self).__name__}

    def stats(self, stream: str) -> dict[str, Any]:
        """What fetching ``stream`` cost since the resource was set up (one run): requests,
        pages, retries, cursor before/after. Clients that do not talk to an API report nothing."""
        return {}

    def use_cursor_store(self, store: CursorStore) -> None:
        """Give the client the load transaction's cursor store (``ops.source_cursors``) before
        ``fetch`` is consumed. Only clients that resume from a saved cursor use it."""


class DemoSettings(ConfigurableResource):
    """Scale and seed of the deterministic demo business (shared by every demo client)."""

    seed: int = Field(default=7, description="Same seed, same data.")
    start: str = Field(default="2024-11-01", description="First simulated day (UTC).")
    days: int = Field(default=730, ge=1)
    users: int = Field(default=50_000, ge=1)
    products: int = Field(default=10, ge=1)

    def config(self) -> DemoConfig:
        from growth_assets.demo.world import DemoConfig

        return DemoConfig(
            seed=self.seed,
            start=date.fromisoformat(self.start),
            days=self.days,
            users=self.users,
            products=self.products,
        )

    def world(self) -> DemoWorld:
        from growth_assets.demo.world import get_world

        return get_world(self.config())


class DemoSourceClient(SourceClient):
    """A source answered by the demo simulator, in the real API's record shapes."""

    source: str = Field(description="Which API this client stands in for: stripe, mixpanel, …")
    demo: DemoSettings

    def fetch(self, stream: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        yield from self.demo.world().fetch(self.source, stream, start, end)

    def describe(self) -> dict[str, str]:
        cfg = self.demo.config()
        return {
            "client": f"demo ({self.source})",
            "demo_seed": str(cfg.seed),
            "demo_scale": f"{cfg.users} users, {cfg.products} products, {cfg.days} days",
        }
