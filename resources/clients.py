"""Source clients: one small interface, a real implementation per API and a demo one.

Assets ask a client for the records of one stream in a time window and get the payload dicts
the API returns. Everything downstream of this interface is the same code in the demo and in
production; only the client differs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr

from resources import retries

T = TypeVar("T")

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


class ApiSourceClient(SourceClient):
    """A client that calls an HTTP API page by page: one retry policy and one request budget
    per run, and what they cost (:class:`resources.retries.CallStats`) for asset metadata."""

    retry_attempts: int = Field(default=6, ge=1)
    retry_initial_seconds: float = Field(default=1.0, ge=0)
    retry_max_seconds: float = Field(default=120.0, ge=0)
    retry_jitter_seconds: float = Field(default=1.0, ge=0)

    _stats: retries.CallStats | None = PrivateAttr(default=None)
    _limiter: retries.RateLimiter | None = PrivateAttr(default=None)

    def _call_stats(self) -> retries.CallStats:
        if self._stats is None:
            self._stats = retries.CallStats()
        return self._stats

    def _request(self, source: str, per_second: float, fetch_page: Callable[[], T]) -> T:
        """One page: under the rate limit (``per_second``, set on first use), retried by the
        policy, counted in the call statistics."""
        if self._limiter is None:
            self._limiter = retries.RateLimiter(per_second)
        policy = retries.RetryPolicy(
            attempts=self.retry_attempts,
            initial_seconds=self.retry_initial_seconds,
            max_seconds=self.retry_max_seconds,
            jitter_seconds=self.retry_jitter_seconds,
        )
        stats = self._call_stats()
        page = retries.call(
            fetch_page, source=source, policy=policy, stats=stats, limiter=self._limiter
        )
        stats.pages += 1
        return page


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

    def span(self) -> tuple[datetime, datetime]:
        """The simulated period, [start, end) in UTC, known without simulating anything."""
        first = datetime.combine(date.fromisoformat(self.start), time(), UTC)
        return first, first + timedelta(days=self.days)


class DemoSourceClient(SourceClient):
    """A source answered by the demo simulator, in the real API's record shapes."""

    source: str = Field(description="Which API this client stands in for: stripe, mixpanel, …")
    demo: DemoSettings

    def fetch(self, stream: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        # Windows outside the simulated period (the schedules keep ingesting after the demo's
        # last day) hold nothing: answer at once instead of simulating the world in every
        # step process (seconds at the default scale).
        first, last = self.demo.span()
        if end <= first or start >= last:
            return
        yield from self.demo.world().fetch(self.source, stream, start, end)

    def describe(self) -> dict[str, str]:
        cfg = self.demo.config()
        return {
            "client": f"demo ({self.source})",
            "demo_seed": str(cfg.seed),
            "demo_scale": f"{cfg.users} users, {cfg.products} products, {cfg.days} days",
        }
