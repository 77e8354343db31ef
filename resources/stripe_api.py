"""The real Stripe source: list endpoints read through the official ``stripe`` library.

What
----
:class:`StripeApiClient` answers ``fetch(stream, start, end)`` for the Stripe streams of
``growth_assets.sources.streams`` by listing the objects *created* in ``[start, end)``:
``created[gte]`` / ``created[lt]`` filters, ``limit=100`` pages and ``starting_after`` paging
until ``has_more`` is false. It yields the objects exactly as the API returned them (the raw
JSON of each page, not the library's typed objects), so fields the library does not know yet
still reach the raw tables.

API quirks, and what this client does about them
------------------------------------------------
* **Lists are newest first** and ``starting_after`` is the id of the last (oldest) object of
  the previous page. The created window keeps every page inside the partition.
* **Subscriptions** are listed with ``status=all``: without it Stripe leaves out canceled
  subscriptions, and churn would vanish from the snapshots.
* **Events** (``/v1/events``, types ``customer.subscription.created/updated/deleted``) are
  kept by Stripe for **30 days only**. Older windows of the ``events`` stream come back empty;
  the subscriptions and invoices snapshots (re-materialised for the trailing 35 days by
  ``growth_assets.sources.stripe_schedules``) are what keeps older state right.
* **The API version is pinned** (:data:`API_VERSION`, sent as ``Stripe-Version``): the payload
  shapes the SQL reads (``subscription.discount``, ``invoice.subscription``) changed in later
  versions, and a pinned version is what Stripe recommends for integrations that parse JSON.
* **Amounts are integers in minor units**; zero-decimal currencies (JPY, KRW, …) are whole
  units. Nothing is converted here; ``growth.currencies.stripe_minor_units`` decides later.
* **Rate limits**: Stripe allows 100 read requests/s in live mode (25 in test mode); this
  client spaces its requests to ``requests_per_second`` (default 20) and, on a 429, waits at
  least the ``Retry-After`` the server sent.

Retries and failures
--------------------
The library's own network retries are off (``max_network_retries=0``): every page request
goes through :func:`resources.retries.call`, which retries 429, 5xx, timeouts, connection
errors and truncated or non-JSON bodies with backoff, and stops at once on 401/403 with a
:class:`~resources.retries.CredentialsError` naming ``STRIPE_API_KEY`` (never its value).

Resume semantics: there is no cursor to resume from. A window is loaded in one database
transaction by the ingestion asset, so a failure mid-window (after some pages were read)
leaves the previous state of the window; re-running the partition re-reads the whole window
from its first page, and the upsert by object id makes the result the same as one clean load.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import stripe
from dagster import EnvVar
from pydantic import Field, PrivateAttr

from resources.clients import SourceClient
from resources.retries import (
    CallStats,
    CredentialsError,
    RateLimiter,
    RetryPolicy,
    TransientError,
    call,
    parse_retry_after,
)

API_VERSION = "2024-06-20"
DEFAULT_API_BASE = "https://api.stripe.com"
PAGE_SIZE = 100  # Stripe's maximum page size
KEY_VARIABLE = "STRIPE_API_KEY"
SUBSCRIPTION_EVENT_TYPES: tuple[str, ...] = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
# Stream → list path and the extra parameters its list call needs.
LISTS: dict[str, tuple[str, dict[str, Any]]] = {
    "customers": ("/v1/customers", {}),
    "subscriptions": ("/v1/subscriptions", {"status": "all"}),
    "invoices": ("/v1/invoices", {}),
    "charges": ("/v1/charges", {}),
    "refunds": ("/v1/refunds", {}),
    "events": ("/v1/events", {"types": list(SUBSCRIPTION_EVENT_TYPES)}),
}


class StripeConfigError(ValueError):
    """The environment does not configure the Stripe client completely or correctly."""


@dataclass
class StreamProgress:
    """What one stream's fetches did: requests, pages, retries and the paging position."""

    calls: CallStats = field(default_factory=CallStats)
    objects: int = 0
    cursor_before: str | None = None  # where the first page started
    cursor_after: str | None = None  # id of the last object read: the next ``starting_after``

    def as_metadata(self) -> dict[str, Any]:
        return {
            **self.calls.as_metadata(),
            "objects_listed": self.objects,
            "cursor_before": self.cursor_before or "",
            "cursor_after": self.cursor_after or "",
        }


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def translate(exc: stripe.StripeError, path: str) -> Exception:
    """Map a ``stripe`` library error onto what :func:`resources.retries.call` understands.

    Messages are built here from the status and path only: Stripe's own 401 message repeats
    (part of) the key, so it is never passed on.
    """
    status = exc.http_status
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError) or status in (
        401,
        403,
    ):
        return CredentialsError("stripe", KEY_VARIABLE, 403 if status == 403 else 401)
    if isinstance(exc, stripe.RateLimitError) or status == 429:
        retry_after = parse_retry_after(_header(exc.headers, "Retry-After"))
        return TransientError(f"stripe: HTTP 429 (rate limited) on {path}", retry_after)
    if isinstance(exc, stripe.APIConnectionError):
        cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else "network error"
        return TransientError(f"stripe: {cause} on {path} (timeout, reset or truncated body)")
    if isinstance(exc, stripe.APIError) and (status is None or status >= 500 or status < 300):
        what = f"HTTP {status}" if status and status >= 500 else "an unparsable response body"
        return TransientError(f"stripe: {what} on {path}")
    return RuntimeError(
        f"stripe: HTTP {status} on {path}: {exc.user_message or type(exc).__name__}"
    )


def _page_body(page: Any, path: str) -> tuple[list[Any], bool]:
    """``data`` and ``has_more`` of a list page, from the raw JSON the API sent."""
    response = getattr(page, "last_response", None)
    body = response.data if response is not None else page.to_dict()
    if not isinstance(body, dict):
        raise TransientError(f"stripe: {path} answered with something that is not a list object")
    data, has_more = body.get("data"), body.get("has_more")
    if body.get("object") != "list" or not isinstance(data, list) or not isinstance(has_more, bool):
        raise TransientError(f"stripe: {path} answered with a malformed list object")
    return data, has_more


class StripeApiClient(SourceClient):
    """Stripe through the official library: created windows, ``starting_after`` paging."""

    api_key: str = Field(description="Secret API key (restricted, read-only is enough).")
    api_base: str = Field(default=DEFAULT_API_BASE, description="Base URL of the Stripe API.")
    requests_per_second: float = Field(
        default=20.0, ge=0, description="Request budget (Stripe allows 100/s live, 25/s test)."
    )
    page_size: int = Field(default=PAGE_SIZE, ge=1, le=PAGE_SIZE)
    timeout_seconds: float = Field(default=30.0, gt=0, description="Per-request timeout.")
    retry_attempts: int = Field(default=6, ge=1)
    retry_initial_seconds: float = Field(default=1.0, ge=0)
    retry_max_seconds: float = Field(default=60.0, ge=0)
    retry_jitter_seconds: float = Field(default=1.0, ge=0)

    _client: stripe.StripeClient | None = PrivateAttr(default=None)
    _limiter: RateLimiter | None = PrivateAttr(default=None)
    _progress: dict[str, StreamProgress] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> StripeApiClient:
        """The client configured by ``STRIPE_*`` variables of ``environ``.

        ``STRIPE_API_KEY`` must be set; it is passed on as ``EnvVar("STRIPE_API_KEY")`` so
        its value is read when the resource is set up and never shows in run config or the UI.
        Optional: ``STRIPE_API_BASE``, ``STRIPE_REQUESTS_PER_SECOND``, ``STRIPE_TIMEOUT_SECONDS``.
        """
        if not environ.get(KEY_VARIABLE):
            raise StripeConfigError(
                f"{KEY_VARIABLE} is not set: the Stripe source needs a secret API key"
            )

        def number(name: str, default: float) -> float:
            raw = environ.get(name)
            try:
                return float(raw) if raw else default
            except ValueError as exc:
                raise StripeConfigError(f"{name} must be a number, got {raw!r}") from exc

        return cls(
            api_key=EnvVar(KEY_VARIABLE),
            api_base=environ.get("STRIPE_API_BASE") or DEFAULT_API_BASE,
            requests_per_second=number("STRIPE_REQUESTS_PER_SECOND", 20.0),
            timeout_seconds=number("STRIPE_TIMEOUT_SECONDS", 30.0),
        )

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            attempts=self.retry_attempts,
            initial_seconds=self.retry_initial_seconds,
            max_seconds=self.retry_max_seconds,
            jitter_seconds=self.retry_jitter_seconds,
        )

    def _secret(self) -> str:
        key = self.api_key
        if isinstance(key, EnvVar):  # used directly, outside a Dagster run
            key = key.get_value() or ""
        if not key:
            raise StripeConfigError(f"{KEY_VARIABLE} is empty: the Stripe source needs a key")
        return key

    def _stripe(self) -> stripe.StripeClient:
        if self._client is None:
            self._client = stripe.StripeClient(
                self._secret(),
                stripe_version=API_VERSION,
                base_addresses={"api": self.api_base.rstrip("/")},
                max_network_retries=0,
                http_client=stripe.RequestsClient(timeout=self.timeout_seconds),
            )
        return self._client

    def _rate_limiter(self) -> RateLimiter:
        if self._limiter is None:
            self._limiter = RateLimiter(self.requests_per_second)
        return self._limiter

    def progress(self, stream: str) -> StreamProgress:
        return self._progress.setdefault(stream, StreamProgress())

    def stats(self, stream: str) -> dict[str, Any]:
        if stream not in self._progress:
            return {}
        return self.progress(stream).as_metadata()

    def describe(self) -> dict[str, str]:
        return {
            "client": "stripe",
            "api_base": self.api_base,
            "api_version": API_VERSION,
            "page_size": str(self.page_size),
            "requests_per_second": str(self.requests_per_second),
        }

    def _list_page(self, stream: str, path: str, params: dict[str, Any]) -> tuple[list[Any], bool]:
        """One page request, translated into retryable and non-retryable failures."""
        try:
            service = getattr(self._stripe().v1, stream)
            page = service.list(params=params)
        except stripe.StripeError as exc:
            raise translate(exc, path) from None
        return _page_body(page, path)

    def fetch(self, stream: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        """Every object of ``stream`` created in ``[start, end)``, page by page (newest first).

        ``events`` covers the last 30 days only (Stripe deletes older Event objects).
        """
        if stream not in LISTS:
            raise ValueError(f"unknown Stripe stream {stream!r}; known: {', '.join(LISTS)}")
        path, extra = LISTS[stream]
        progress = self.progress(stream)
        gte = int(start.timestamp()) + (1 if start.timestamp() % 1 else 0)
        lt = int(end.timestamp()) + (1 if end.timestamp() % 1 else 0)
        if progress.cursor_before is None:
            progress.cursor_before = f"created>={start.isoformat()}"
        starting_after: str | None = None
        while True:
            params: dict[str, Any] = {
                **extra,
                "created": {"gte": gte, "lt": lt},
                "limit": self.page_size,
            }
            if starting_after is not None:
                params["starting_after"] = starting_after
            data, has_more = call(
                lambda params=params: self._list_page(stream, path, params),  # type: ignore[misc]
                source="stripe",
                policy=self.retry_policy,
                stats=progress.calls,
                limiter=self._rate_limiter(),
            )
            progress.calls.pages += 1
            progress.objects += len(data)
            yield from data
            last = data[-1] if data else None
            if isinstance(last, dict) and last.get("id"):
                progress.cursor_after = str(last["id"])
            if not has_more:
                return
            if not isinstance(last, dict) or not last.get("id"):
                raise TransientError(f"stripe: {path} said has_more but its last object has no id")
            starting_after = str(last["id"])
