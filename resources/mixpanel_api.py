"""Mixpanel events through the Raw Export API, read with ``mixpanel-utils``.

API quirks that shape this client:

* The export filters by whole days only (``from_date``/``to_date``, inclusive, in the
  project's time zone) and answers with every event of those days as JSON lines. Hourly
  partitions therefore read their day and keep their hour: the client requests each day once
  per run and keeps the last few parsed days in memory (``cache_days``), so a backfill of
  24 hours, or 24 hourly ``fetch`` calls on one client, cost one request per day.
* The export allows 60 requests an hour per project, so requests are spaced by a
  :class:`~resources.retries.RateLimiter` (``requests_per_hour``); a backfill of N days costs
  N requests.
* Mixpanel sends the same event more than once; ``$insert_id`` is its dedupe key, applied by
  the raw upsert (``sql/ingest/upsert_raw.sql``), not here.
* A body cut short (a ``Content-Length`` the body does not reach, a broken chunked stream, or
  a last line without its newline that does not parse) is a transient failure: the day is
  requested again. A complete line that is not a JSON object is a malformed record: it is
  passed on as ``{"_malformed": line, ...}`` and the loader rejects it into
  ``ops.rejected_events`` with the reason (never silently dropped). Within one run a day's
  malformed (or untimed) lines are passed on once, with the first window that reads the day.

Why a subclass of ``MixpanelUtils``: pointing the library at another host needs nothing
special (its ``raw_api`` attribute is the export base URL), but its ``request`` method cannot be
used as is for a polite, observable client: it returns ``None`` for every 4xx (a 429 and its
``Retry-After``, or a 401, look like an empty export), retries 5xx and timeouts itself without
backoff, raises a bare ``BaseException`` when it gives up, and logs the request headers, which
carry the Basic credentials, at DEBUG level. :class:`_RawExport` overrides only ``request``:
the same URL, parameters (``project_id`` for service accounts) and Basic authentication, one
attempt per call, errors raised, and retries left to :func:`resources.retries.call`. The
library's own ``query_export`` (with ``raw_stream=True``) still builds the export request.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dagster import EnvVar
from mixpanel_utils import MixpanelUtils
from pydantic import Field, PrivateAttr, field_validator

from growth_assets.sources.load import MALFORMED, MALFORMED_REASON
from resources import retries
from resources.clients import ApiSourceClient

SOURCE = "mixpanel"
DEFAULT_EXPORT_BASE = "https://data.mixpanel.com/api"
SECRET_VARIABLE = "MIXPANEL_API_SECRET"  # noqa: S105 (a variable's name, not a secret)
SERVICE_SECRET_VARIABLE = "MIXPANEL_SERVICE_ACCOUNT_SECRET"  # noqa: S105
MALFORMED_TEXT_LIMIT = 2000  # characters of a malformed line kept in ops.rejected_events


class _RawExport(MixpanelUtils):  # type: ignore[misc]  # untyped library
    """``MixpanelUtils`` whose ``request`` makes exactly one attempt and raises HTTP errors."""

    def request(
        self,
        base_url: str,
        path_components: list[str],
        params: dict[str, Any],
        method: str = "GET",
        headers: dict[str, str] | None = None,
        raw_stream: bool = False,
        retries: int = 0,
    ) -> Any:
        if method != "GET" or base_url != self.raw_api:
            raise NotImplementedError("only the raw export (GET) is used by growth-assets")
        url = "/".join([base_url, str(MixpanelUtils.VERSION), *path_components])
        if self.service_account_username:
            credentials = f"{self.service_account_username}:{self.api_secret}"
            params["project_id"] = self.project_id
        else:
            credentials = f"{self.api_secret}:"
        token = base64.b64encode(credentials.encode("utf-8")).decode("ascii")
        request_headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        url += "?" + MixpanelUtils._unicode_urlencode(params)
        # The base URL's scheme is checked to be http(s) by MixpanelApiClient.
        request = urllib.request.Request(url, None, request_headers, method="GET")  # noqa: S310
        return urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310


class MixpanelApiClient(ApiSourceClient):
    """Mixpanel's Raw Export API (events stream), one request per project day."""

    api_secret: str = Field(
        default="",
        repr=False,
        description="Project API secret, or the service account's secret (never shown).",
    )
    service_account_username: str = Field(
        default="", description="Service account user name; empty for API-secret auth."
    )
    project_id: str = Field(default="", description="Project id (required with a service account).")
    export_base: str = Field(
        default=DEFAULT_EXPORT_BASE,
        description="Raw export base URL (EU: https://data-eu.mixpanel.com/api).",
    )
    project_timezone: str = Field(
        default="UTC", description="The project's time zone, which from_date/to_date are in."
    )
    requests_per_hour: float = Field(
        default=60.0, ge=0, description="Export request budget (Mixpanel: 60/hour; 0 = no limit)."
    )
    timeout_seconds: float = Field(default=600.0, gt=0, description="Per-request timeout.")
    cache_days: int = Field(default=2, ge=1, description="Parsed days kept in memory per run.")
    retry_initial_seconds: float = Field(default=2.0, ge=0)

    _days: OrderedDict[date, list[dict[str, Any]]] | None = PrivateAttr(default=None)
    _malformed_reported: set[date] | None = PrivateAttr(default=None)
    _days_requested: list[str] | None = PrivateAttr(default=None)

    @field_validator("export_base")
    @classmethod
    def _http_only(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"export_base must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("project_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"project_timezone {value!r} is not a known time zone") from exc
        return value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MixpanelApiClient:
        """Configure from ``MIXPANEL_*`` variables.

        With no mapping, the secret is passed as ``dagster.EnvVar`` (read at run time, never
        shown in the UI); with a mapping (tests, scripts) its values are used directly.
        """
        import os

        env: Mapping[str, str] = os.environ if environ is None else environ
        username = env.get("MIXPANEL_SERVICE_ACCOUNT_USERNAME", "")
        variable = SERVICE_SECRET_VARIABLE if username else SECRET_VARIABLE
        if not env.get(variable):
            hint = "" if username else " (or MIXPANEL_SERVICE_ACCOUNT_USERNAME/_SECRET)"
            raise ValueError(f"{SOURCE}: {variable} is not set{hint}")
        if username and not env.get("MIXPANEL_PROJECT_ID"):
            raise ValueError(f"{SOURCE}: MIXPANEL_PROJECT_ID is required with a service account")
        secret: Any = EnvVar(variable) if environ is None else env[variable]
        options: dict[str, Any] = {}
        for name, field in (
            ("MIXPANEL_EXPORT_BASE", "export_base"),
            ("MIXPANEL_PROJECT_TIMEZONE", "project_timezone"),
            ("MIXPANEL_REQUESTS_PER_HOUR", "requests_per_hour"),
            ("MIXPANEL_TIMEOUT_SECONDS", "timeout_seconds"),
        ):
            if env.get(name):
                options[field] = env[name]
        return cls(
            api_secret=secret,
            service_account_username=username,
            project_id=env.get("MIXPANEL_PROJECT_ID", ""),
            **options,
        )

    # -- the SourceClient interface -------------------------------------------------------

    def fetch(self, stream: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        if stream != "events":
            raise ValueError(f"{SOURCE} has no stream {stream!r}")
        lo, hi = start.timestamp(), end.timestamp()
        for day in self._days_of(start, end):
            events = self._day(day)
            reported = self._reported()
            for event in events:
                at = None if MALFORMED in event else _event_time(event)
                if at is None:
                    # Malformed or untimed: no hour to keep it in. Passed on once per run, so
                    # the loader rejects it with its reason.
                    if day not in reported:
                        yield event
                elif lo <= at < hi:
                    yield event
            reported.add(day)

    def describe(self) -> dict[str, str]:
        auth = "service account" if self.service_account_username else "project API secret"
        return {
            "client": "mixpanel raw export (mixpanel-utils)",
            "export_base": self.export_base,
            "auth": auth,
            "project_timezone": self.project_timezone,
        }

    def stats(self, stream: str) -> dict[str, Any]:
        stats = self._call_stats()
        return {
            **{f"api_{k}": v for k, v in stats.as_metadata().items()},
            "api_days_requested": ", ".join(self._days_requested or []) or "none",
        }

    # -- internals --------------------------------------------------------------------------

    def _reported(self) -> set[date]:
        if self._malformed_reported is None:
            self._malformed_reported = set()
        return self._malformed_reported

    def _days_of(self, start: datetime, end: datetime) -> list[date]:
        """The project-time-zone days that overlap ``[start, end)``."""
        if end <= start:
            return []
        zone = ZoneInfo(self.project_timezone)
        first = start.astimezone(zone).date()
        last = (end - timedelta(microseconds=1)).astimezone(zone).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def _day(self, day: date) -> list[dict[str, Any]]:
        if self._days is None:
            self._days = OrderedDict()
        cached = self._days.get(day)
        if cached is not None:
            self._days.move_to_end(day)
            return cached
        events = self._request(
            SOURCE, self.requests_per_hour / 3600.0, lambda: self._export_day(day)
        )
        if self._days_requested is None:
            self._days_requested = []
        self._days_requested.append(day.isoformat())
        self._days[day] = events
        while len(self._days) > self.cache_days:
            self._days.popitem(last=False)
        return events

    def _library(self) -> _RawExport:
        client = _RawExport(
            self.api_secret,
            service_account_username=self.service_account_username or None,
            project_id=self.project_id or None,
            timeout=self.timeout_seconds,
            pool_size=1,
            max_retries=1,
        )
        client.raw_api = self.export_base.rstrip("/")
        return client

    def _export_day(self, day: date) -> list[dict[str, Any]]:
        """One export request for one day: the parsed lines, or a translated failure."""
        params = {"from_date": day.isoformat(), "to_date": day.isoformat()}
        try:
            response = self._library().query_export(params, raw_stream=True)
            with response:
                body: bytes = response.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc) from None
        except TimeoutError as exc:
            raise retries.TransientError(f"{SOURCE}: export of {day} timed out") from exc
        except http.client.IncompleteRead as exc:
            raise retries.TransientError(
                f"{SOURCE}: export of {day} truncated ({len(exc.partial)} bytes received)"
            ) from None
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise retries.TransientError(f"{SOURCE}: export of {day} failed: {reason}") from None
        return parse_export(body, day)

    def _http_error(self, exc: urllib.error.HTTPError) -> Exception:
        status = exc.code
        if status in (401, 403):
            variable = SERVICE_SECRET_VARIABLE if self.service_account_username else SECRET_VARIABLE
            return retries.CredentialsError(SOURCE, variable, status)
        if status == 429 or status >= 500:
            return retries.TransientError(
                f"{SOURCE}: export answered HTTP {status}",
                retry_after=retries.parse_retry_after(exc.headers.get("Retry-After")),
            )
        detail = exc.read(500).decode("utf-8", "replace").strip()
        return RuntimeError(f"{SOURCE}: export answered HTTP {status}: {detail}")


# Bytes that are not UTF-8, as ``bytes.decode(..., "surrogateescape")`` keeps them.
_UNDECODED = re.compile("[\udc80-\udcff]")


def parse_export(body: bytes, day: date) -> list[dict[str, Any]]:
    """Parse a JSONL export body. A last line without its newline that does not parse means the
    body was cut short (transient); any other unparsable line becomes a malformed record, a
    line that is not valid UTF-8 too (its bytes kept as ``\\xNN`` escapes)."""
    text = body.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    tail = lines.pop()  # "" when the body ends with a newline
    events: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            events.append(_parse_line(line, day, number))
    if tail.strip() and _UNDECODED.search(tail):
        events.append(_parse_line(tail, day, len(lines) + 1))
    elif tail.strip():
        try:
            last = json.loads(tail)
        except ValueError:
            raise retries.TransientError(
                f"{SOURCE}: export of {day} ends in an incomplete line (truncated body)"
            ) from None
        events.append(
            last
            if isinstance(last, dict)
            else _malformed(tail, day, len(lines) + 1, "not an object")
        )
    return events


def _parse_line(line: str, day: date, number: int) -> dict[str, Any]:
    if _UNDECODED.search(line):
        shown = line.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return _malformed(shown, day, number, "not valid UTF-8 (bytes shown as \\xNN)")
    try:
        value = json.loads(line)
    except ValueError as exc:
        return _malformed(line, day, number, f"invalid JSON ({exc})")
    if not isinstance(value, dict):
        return _malformed(line, day, number, f"not a JSON object ({type(value).__name__})")
    return value


def _malformed(line: str, day: date, number: int, why: str) -> dict[str, Any]:
    return {
        MALFORMED: line[:MALFORMED_TEXT_LIMIT],
        MALFORMED_REASON: f"export of {day}, line {number}: {why}",
    }


def _event_time(event: dict[str, Any]) -> float | None:
    props = event.get("properties")
    value = props.get("time") if isinstance(props, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
