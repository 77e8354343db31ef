"""Zendesk tickets through the cursor-based incremental export, read with ``zenpy``.

API quirks that shape this client:

* The cursor-based export (``/api/v2/incremental/tickets/cursor.json``) starts from a
  ``start_time`` (epoch seconds) or a ``cursor``; each page carries ``after_cursor``,
  ``after_url`` and ``end_of_stream``. It returns each ticket once, in its latest state, ordered
  by the time it last changed (``generated_timestamp``; ``updated_at`` when absent), and unlike
  the time-based export it does not repeat tickets at page boundaries.
* Hourly partitions keep their model (``raw.zendesk_tickets`` windowed on ``updated_at``).
  For a window ``[start, end)`` the client resumes from the cursor saved in
  ``ops.source_cursors`` when that cursor's position is at or before ``start`` (and not more
  than ``cursor_max_lag_hours`` before it: a stale cursor would re-read everything since),
  otherwise it starts at ``start_time = start``. It pages until ``end_of_stream`` or until a
  page holds tickets past ``end``. The cursor it saves is the ``after_cursor`` of the last page
  that lies wholly before ``end`` (a page that crosses ``end`` is read again by the next
  window, so no ticket is skipped), saved through the load's own transaction: a run that fails
  between pages commits neither rows nor cursor, and the re-run resumes from the last
  committed cursor. A cursor never moves backwards (``sql/ingest/save_cursor.sql``).
* The export withholds the most recent minute and compares ``start_time`` with
  ``generated_timestamp``: a ticket changed by the system only (``updated_at`` unchanged)
  comes back with an ``updated_at`` before the window and is counted as outside it.
* Incremental exports allow 10 requests a minute (30 with the High Volume add-on), so the
  default ``requests_per_minute`` is 10. A 429 carries ``Retry-After``.
* zenpy turns tickets into objects that add absent fields as ``null`` and rename ``from`` to
  ``from_``; the raw table keeps the API's own JSON, so the page body is taken from the HTTP
  response (a ``requests`` response hook on the session given to zenpy), while zenpy builds
  the URL, authenticates (``email/token``) and parses the paging fields. The same hook turns
  401/403 into :class:`~resources.retries.CredentialsError` and 429/5xx into
  :class:`~resources.retries.TransientError` before zenpy's own in-process 429 sleep would
  hide them from the retry statistics; the session has no hidden transport retries.
* ``ZENDESK_BASE_URL`` (tests, proxies) is split into zenpy's ``subdomain`` + ``domain`` and the
  ticket API's ``protocol``, which is how zenpy composes URLs
  (``{protocol}://{subdomain}.{domain}/api/v2``); its host must therefore contain a dot
  (``http://127.0.0.1:8080``, ``https://zendesk-proxy.example.com``).
* With ``include=metric_sets`` a ticket's metrics (``solved_at``) come with it; when they come
  as a top-level ``metric_sets`` list they are attached to their ticket as ``metric_set``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from dagster import EnvVar
from pydantic import Field, PrivateAttr, field_validator
from zenpy import Zenpy

from resources import retries
from resources.clients import SourceClient
from resources.cursors import CursorStore, SavedCursor

SOURCE = "zendesk"
TOKEN_VARIABLE = "ZENDESK_API_TOKEN"  # noqa: S105 (a variable's name, not a secret)
CREDENTIAL_VARIABLES = "ZENDESK_EMAIL / ZENDESK_API_TOKEN"


@dataclass(frozen=True)
class ExportPage:
    tickets: list[dict[str, Any]]
    after_cursor: str | None
    end_of_stream: bool


class ZendeskApiClient(SourceClient):
    """Zendesk Support tickets from the cursor-based incremental export."""

    subdomain: str = Field(default="", description="Your Zendesk subdomain (acme.zendesk.com).")
    email: str = Field(default="", description="Agent email the API token belongs to.")
    api_token: str = Field(default="", repr=False, description="Zendesk API token (never shown).")
    base_url: str = Field(
        default="", description="Override of https://<subdomain>.zendesk.com (tests, proxies)."
    )
    requests_per_minute: float = Field(
        default=10.0, ge=0, description="Incremental export budget (Zendesk: 10/min; 0 = none)."
    )
    per_page: int = Field(default=1000, ge=1, le=1000)
    include: str = Field(default="metric_sets", description="Side-loads, comma-separated.")
    timeout_seconds: float = Field(default=60.0, gt=0)
    cursor_max_lag_hours: float = Field(
        default=24.0, ge=0, description="Start from start_time when the cursor is older."
    )
    retry_attempts: int = Field(default=6, ge=1)
    retry_initial_seconds: float = Field(default=1.0, ge=0)
    retry_max_seconds: float = Field(default=120.0, ge=0)
    retry_jitter_seconds: float = Field(default=1.0, ge=0)

    _store: CursorStore | None = PrivateAttr(default=None)
    _stats: retries.CallStats | None = PrivateAttr(default=None)
    _limiter: retries.RateLimiter | None = PrivateAttr(default=None)
    _cursor_before: SavedCursor | None = PrivateAttr(default=None)
    _cursor_after: SavedCursor | None = PrivateAttr(default=None)
    _started_from: list[str] | None = PrivateAttr(default=None)
    _client: tuple[Zenpy, dict[str, Any]] | None = PrivateAttr(default=None)

    @field_validator("base_url")
    @classmethod
    def _dotted_http_url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or "." not in parts.netloc:
            raise ValueError(
                "base_url must be an http(s) URL whose host contains a dot "
                f"(e.g. http://127.0.0.1:8080), got {value!r}"
            )
        return value.rstrip("/")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ZendeskApiClient:
        """Configure from ``ZENDESK_*`` variables.

        With no mapping the token is passed as ``dagster.EnvVar`` (read at run time, never shown
        in the UI); with a mapping (tests, scripts) its values are used directly.
        """
        env: Mapping[str, str] = os.environ if environ is None else environ
        missing = [name for name in ("ZENDESK_EMAIL", TOKEN_VARIABLE) if not env.get(name)]
        if not env.get("ZENDESK_SUBDOMAIN") and not env.get("ZENDESK_BASE_URL"):
            missing.insert(0, "ZENDESK_SUBDOMAIN (or ZENDESK_BASE_URL)")
        if missing:
            raise ValueError(f"{SOURCE}: not configured, set {', '.join(missing)}")
        token: Any = EnvVar(TOKEN_VARIABLE) if environ is None else env[TOKEN_VARIABLE]
        options: dict[str, Any] = {}
        for name, field in (
            ("ZENDESK_BASE_URL", "base_url"),
            ("ZENDESK_REQUESTS_PER_MINUTE", "requests_per_minute"),
            ("ZENDESK_TIMEOUT_SECONDS", "timeout_seconds"),
        ):
            if env.get(name):
                options[field] = env[name]
        return cls(
            subdomain=env.get("ZENDESK_SUBDOMAIN", ""),
            email=env["ZENDESK_EMAIL"],
            api_token=token,
            **options,
        )

    # -- the SourceClient interface -------------------------------------------------------

    def use_cursor_store(self, store: CursorStore) -> None:
        self._store = store

    def fetch(self, stream: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        if stream != "tickets":
            raise ValueError(f"{SOURCE} has no stream {stream!r}")
        saved = self._store.get(SOURCE, stream) if self._store is not None else None
        if self._cursor_before is None:
            self._cursor_before = saved
        lag = timedelta(hours=self.cursor_max_lag_hours)
        resume = saved is not None and start - lag <= saved.position_at <= start
        started = self._started_from_list()
        if saved is not None and resume:
            started.append(f"cursor at {saved.position_at.isoformat()}")
            params: dict[str, Any] = {"cursor": saved.cursor}
            safe: SavedCursor | None = saved
        else:
            started.append(f"start_time {start.isoformat()}")
            params = {"start_time": int(start.timestamp())}
            safe = None
        end_ts = end.timestamp()
        floor = saved.position_at if resume and saved is not None else start
        while True:
            page = self._call(params)
            yield from page.tickets
            times = [t for t in (_order_time(x) for x in page.tickets) if t is not None]
            if any(t >= end_ts for t in times):
                break  # the next window reads this page again: its cursor is not saved
            if page.after_cursor:
                position = max([floor.timestamp(), *times])
                if safe is not None:
                    position = max(position, safe.position_at.timestamp())
                safe = SavedCursor(page.after_cursor, datetime.fromtimestamp(position, tz=UTC))
            if page.end_of_stream or not page.after_cursor:
                break
            params = {"cursor": page.after_cursor}
        if (
            safe is not None
            and self._store is not None
            and (saved is None or safe.position_at >= saved.position_at)
            and safe != saved
        ):
            self._store.save(SOURCE, stream, safe)
            self._cursor_after = safe

    def describe(self) -> dict[str, str]:
        return {
            "client": "zendesk incremental export (zenpy)",
            "zendesk_host": self.base_url or f"https://{self.subdomain}.zendesk.com",
            "zendesk_email": self.email,
        }

    def stats(self, stream: str) -> dict[str, Any]:
        stats = self._call_stats()
        after = self._cursor_after or self._cursor_before

        def show(saved: SavedCursor | None) -> str:
            if saved is None:
                return "none"
            return f"{saved.position_at.isoformat()} ({saved.cursor[:24]})"

        return {
            **{f"api_{k}": v for k, v in stats.as_metadata().items()},
            "cursor_before": show(self._cursor_before),
            "cursor_after": show(after),
            "cursor_started_from": "; ".join(self._started_from or []) or "not read",
        }

    # -- internals --------------------------------------------------------------------------

    def _started_from_list(self) -> list[str]:
        if self._started_from is None:
            self._started_from = []
        return self._started_from

    def _call_stats(self) -> retries.CallStats:
        if self._stats is None:
            self._stats = retries.CallStats()
        return self._stats

    def _call(self, params: dict[str, Any]) -> ExportPage:
        if self._limiter is None:
            self._limiter = retries.RateLimiter(self.requests_per_minute / 60.0)
        policy = retries.RetryPolicy(
            attempts=self.retry_attempts,
            initial_seconds=self.retry_initial_seconds,
            max_seconds=self.retry_max_seconds,
            jitter_seconds=self.retry_jitter_seconds,
        )
        stats = self._call_stats()
        page = retries.call(
            lambda: self._page(params),
            source=SOURCE,
            policy=policy,
            stats=stats,
            limiter=self._limiter,
        )
        stats.pages += 1
        return page

    def _zenpy(self) -> tuple[Zenpy, dict[str, Any]]:
        """A zenpy client on a session of ours: no transport retries, and a response hook
        that keeps the page body and translates failures (see the module docstring)."""
        if self._client is not None:
            return self._client
        last: dict[str, Any] = {}
        session = requests.Session()
        session.hooks["response"].append(_response_hook(last))
        if self.base_url:
            parts = urlsplit(self.base_url)
            subdomain, _, domain = parts.netloc.partition(".")
            protocol = parts.scheme
        else:
            subdomain, domain, protocol = self.subdomain, "zendesk.com", "https"
        client = Zenpy(
            subdomain=subdomain,
            domain=domain,
            email=self.email,
            token=self.api_token,
            session=session,
            timeout=self.timeout_seconds,
            disable_cache=True,
        )
        client.tickets.protocol = protocol
        self._client = (client, last)
        return self._client

    def _page(self, params: dict[str, Any]) -> ExportPage:
        client, last = self._zenpy()
        last.clear()
        try:
            result = client.tickets.incremental(
                paginate_by_time=False,
                per_page=self.per_page,
                include=self.include or None,
                **params,
            )
        except (retries.TransientError, retries.CredentialsError):
            raise
        except requests.Timeout:
            raise retries.TransientError(f"{SOURCE}: export page timed out") from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise retries.TransientError(
                f"{SOURCE}: export page failed ({type(exc).__name__})"
            ) from None
        body = last.get("body")
        if not isinstance(body, dict) or not isinstance(body.get("tickets"), list):
            raise retries.TransientError(f"{SOURCE}: export page has no tickets list")
        after = getattr(result, "after_cursor", None)
        return ExportPage(
            tickets=_with_metric_sets(body),
            after_cursor=str(after) if after else None,
            end_of_stream=bool(getattr(result, "end_of_stream", False)),
        )


def _response_hook(last: dict[str, Any]) -> Callable[..., requests.Response]:
    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        status = response.status_code
        if status in (401, 403):
            raise retries.CredentialsError(SOURCE, CREDENTIAL_VARIABLES, status)
        if status == 429 or status >= 500:
            raise retries.TransientError(
                f"{SOURCE}: export answered HTTP {status}",
                retry_after=retries.parse_retry_after(response.headers.get("Retry-After")),
            )
        if 200 <= status < 300:
            try:
                last["body"] = response.json()
            except ValueError:
                raise retries.TransientError(
                    f"{SOURCE}: export page is not valid JSON (truncated body?)"
                ) from None
        return response

    return hook


def _with_metric_sets(body: dict[str, Any]) -> list[dict[str, Any]]:
    tickets: list[dict[str, Any]] = body["tickets"]
    sets = body.get("metric_sets")
    if not isinstance(sets, list):
        return tickets
    by_ticket = {m.get("ticket_id"): m for m in sets if isinstance(m, dict)}
    for ticket in tickets:
        if isinstance(ticket, dict) and "metric_set" not in ticket:
            found = by_ticket.get(ticket.get("id"))
            if found is not None:
                ticket["metric_set"] = found
    return tickets


def _order_time(ticket: Any) -> float | None:
    """The time the export orders tickets by: generated_timestamp, else updated_at."""
    if not isinstance(ticket, dict):
        return None
    generated = ticket.get("generated_timestamp")
    if isinstance(generated, int | float) and not isinstance(generated, bool):
        return float(generated)
    updated = ticket.get("updated_at")
    if not isinstance(updated, str):
        return None
    try:
        parsed = datetime.fromisoformat(updated.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.timestamp() if parsed.tzinfo is not None else None
