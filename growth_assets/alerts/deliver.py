"""Delivery from the ``ops.alerts`` outbox to Slack and PagerDuty.

Each owed delivery (a trigger on a channel the alert's severity routes to, or a resolve on a
channel that got the trigger) is sent while its outbox row is locked (``FOR UPDATE SKIP
LOCKED``) and stamped in the same transaction, so two deliverers never send the same thing,
and a row is stamped only once the channel accepted it. The remaining gap, a crash after
the HTTP answer and before the commit, re-sends on the next tick: PagerDuty folds that into
the same incident by ``dedup_key``; Slack would show the message twice (at-least-once).

Channels:

* **Slack**, by incoming webhook (``SLACK_WEBHOOK_URL``; the URL is the secret, so it is posted
  with ``urllib.request``, which logs nothing, rather than ``requests``, whose urllib3 logs
  the request path at DEBUG level) or by the Web API through dagster-slack's
  ``SlackResource`` (``SLACK_BOT_TOKEN`` + ``SLACK_CHANNEL``; ``SLACK_API_BASE`` moves the
  API, as ``slack_sdk.WebClient(base_url=...)`` allows).
* **PagerDuty** Events API v2, posted to ``PAGERDUTY_EVENTS_URL``.
  dagster-pagerduty's ``PagerDutyService`` is not used: it calls ``pypd.EventV2.create``,
  whose endpoint is the class constant ``https://events.pagerduty.com/v2/enqueue`` (no way to
  aim it at a local receiver short of patching a global), which checks events with
  ``assert`` and raises its own errors without the status or ``Retry-After`` that retries need.

Retries go through :mod:`resources.retries` (429/5xx/timeouts are retried with backoff and at
least the server's ``Retry-After``; a ``Retry-After`` longer than a sensor tick should wait
defers the row instead). Errors recorded in the outbox or logged are built here from the
status code and the API's error name, never from the library's exception text (which can
carry the webhook URL), and pass through :func:`redact` as a last guard.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from dagster import ConfigurableResource, EnvVar
from dagster_slack import SlackResource
from pydantic import Field
from slack_sdk.errors import SlackApiError
from slack_sdk.web.client import WebClient

from growth_assets.alerts.config import AlertConfig, Channel, Severity, load_config
from growth_assets.alerts.message import (
    pagerduty_resolve,
    pagerduty_trigger,
    slack_resolved_text,
    slack_text,
)
from resources.retries import (
    CallStats,
    CredentialsError,
    RetryPolicy,
    SourceUnavailableError,
    TransientError,
    call,
    parse_retry_after,
)
from resources.warehouse import Warehouse

DEFAULT_SLACK_API = "https://slack.com/api/"
DEFAULT_PAGERDUTY_EVENTS = "https://events.pagerduty.com/v2/enqueue"
DEFAULT_UI = "http://127.0.0.1:3000"
POLICY = RetryPolicy(attempts=4, initial_seconds=0.5, max_seconds=8.0, jitter_seconds=0.25)
MAX_INLINE_WAIT = 20.0  # seconds a tick may wait for one Retry-After before deferring the row
TICK_BUDGET = 30.0  # no new delivery starts after this long; the rest waits for the next tick
_SLACK_AUTH_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "account_inactive"}


class DeliveryError(RuntimeError):
    """The channel refused the message for good (4xx): retrying the same body cannot help."""


class DeferredError(RuntimeError):
    """The channel asked us to come back later than a sensor tick should wait."""

    def __init__(self, channel: str, seconds: float) -> None:
        super().__init__(f"{channel}: asked to retry after {seconds:.0f} s; deferred")
        self.seconds = seconds


def redact(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


class SlackApiResource(SlackResource):
    """dagster-slack's resource with a configurable API base (``SLACK_API_BASE``) and no
    retries of its own (``resources.retries`` owns them, honouring ``Retry-After``)."""

    base_url: str = Field(default=DEFAULT_SLACK_API)
    timeout_seconds: int = Field(default=10)

    def get_client(self) -> WebClient:
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        return WebClient(
            token=self.token, base_url=base, timeout=self.timeout_seconds, retry_handlers=[]
        )


class Sender(Protocol):
    channel: Channel

    def send(self, action: str, row: Any) -> None: ...


@dataclass(frozen=True)
class _Response:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def _post_json(channel: str, url: str, body: dict[str, Any], timeout: float) -> _Response:
    """POST JSON with the standard library. Not ``requests``: urllib3 logs every request line,
    path included, at DEBUG level, and a Slack webhook's path is its secret."""
    request = urllib.request.Request(  # noqa: S310 - the URL is configuration (http/https)
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "growth-assets"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
            return _Response(resp.status, dict(resp.headers.items()), resp.read().decode())
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace")
        return _Response(exc.code, dict(exc.headers.items()), text)
    except TimeoutError:
        raise TransientError(f"{channel}: request timed out") from None
    except (urllib.error.URLError, OSError) as exc:
        raise TransientError(f"{channel}: request failed ({type(exc).__name__})") from None


def _raise_for(channel: str, variable: str, resp: _Response, detail: str) -> None:
    status = resp.status
    if status == 429:
        raise TransientError(
            f"{channel}: HTTP 429 rate limited",
            retry_after=parse_retry_after(resp.headers.get("Retry-After")),
        )
    if status >= 500:
        raise TransientError(f"{channel}: HTTP {status}")
    if status in (401, 403) or (channel.startswith("slack") and status in (404, 410)):
        raise CredentialsError(channel, variable, status)
    raise DeliveryError(f"{channel}: HTTP {status}: {detail[:200]}")


def _slack_text(action: str, row: Any, ui_base: str) -> str:
    if action == "resolve":
        return slack_resolved_text(row, ui_base)
    return slack_text(row, ui_base)  # trigger, or recovered (the text says it is back)


@dataclass
class SlackWebhookSender:
    """Slack incoming webhook: 200 with body ``ok``; errors are a status and a short name
    (``invalid_payload``, ``no_service``, ``channel_is_archived``...)."""

    url: str
    ui_base: str
    timeout: float = 10.0
    channel: Channel = Channel.SLACK

    def send(self, action: str, row: Any) -> None:
        text = _slack_text(action, row, self.ui_base)
        resp = _post_json("slack webhook", self.url, {"text": text}, self.timeout)
        if resp.status == 200:
            return
        _raise_for("slack webhook", "SLACK_WEBHOOK_URL", resp, resp.text.strip())


@dataclass
class SlackApiSender:
    """Slack Web API ``chat.postMessage`` through dagster-slack's resource."""

    resource: SlackApiResource
    slack_channel: str
    ui_base: str
    channel: Channel = Channel.SLACK

    def send(self, action: str, row: Any) -> None:
        text = _slack_text(action, row, self.ui_base)
        try:
            self.resource.get_client().chat_postMessage(channel=self.slack_channel, text=text)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = (
                str(exc.response.get("error", "")) if isinstance(exc.response.data, dict) else ""
            )
            if status == 429:
                raise TransientError(
                    "slack api: HTTP 429 rate limited",
                    retry_after=parse_retry_after(exc.response.headers.get("Retry-After")),
                ) from None
            if status >= 500:
                raise TransientError(f"slack api: HTTP {status}") from None
            if error in _SLACK_AUTH_ERRORS or status in (401, 403):
                raise CredentialsError("slack api", "SLACK_BOT_TOKEN", 401) from None
            raise DeliveryError(f"slack api: HTTP {status}: {error or 'not ok'}") from None
        except (OSError, TimeoutError) as exc:
            raise TransientError(f"slack api: request failed ({type(exc).__name__})") from None


@dataclass
class PagerDutySender:
    """PagerDuty Events API v2: 202 ``{"status": "success", "dedup_key": ...}``; 400 for an
    invalid event (not retried), 429 when rate limited, 5xx transient."""

    url: str
    routing_key: str
    ui_base: str
    timeout: float = 10.0
    channel: Channel = Channel.PAGERDUTY

    def send(self, action: str, row: Any) -> None:
        body = (
            pagerduty_trigger(row, self.ui_base) if action == "trigger" else pagerduty_resolve(row)
        )
        resp = _post_json("pagerduty", self.url, {"routing_key": self.routing_key, **body},
                          self.timeout)  # fmt: skip
        if resp.status in (200, 201, 202):
            return
        detail = ""
        try:
            data = resp.json()
            detail = f"{data.get('message', '')} {data.get('errors', '')}".strip()
        except ValueError:
            detail = "unparsable body"
        _raise_for("pagerduty", "PAGERDUTY_ROUTING_KEY", resp, detail)


_SECRET_FIELDS = {"slack_webhook_url", "slack_bot_token", "pagerduty_routing_key"}


class AlertChannels(ConfigurableResource):
    """Where alerts go and how they are judged: channel endpoints and secrets (from the
    environment, as ``EnvVar``), the Dagster UI base for links, the configuration file."""

    slack_webhook_url: str | None = Field(default=None, description="SLACK_WEBHOOK_URL (secret).")
    slack_bot_token: str | None = Field(default=None, description="SLACK_BOT_TOKEN (secret).")
    slack_channel: str | None = Field(default=None, description="SLACK_CHANNEL, with the token.")
    slack_api_base: str = Field(default=DEFAULT_SLACK_API, description="SLACK_API_BASE.")
    pagerduty_routing_key: str | None = Field(
        default=None, description="PAGERDUTY_ROUTING_KEY (secret)."
    )
    pagerduty_events_url: str = Field(
        default=DEFAULT_PAGERDUTY_EVENTS, description="PAGERDUTY_EVENTS_URL."
    )
    dagster_ui_url: str = Field(default=DEFAULT_UI, description="DAGSTER_UI_URL, for links.")
    config_file: str = Field(default="", description="GROWTH_ALERTS_FILE (TOML), or defaults.")
    timeout_seconds: float = Field(default=10.0, gt=0)

    def config(self) -> AlertConfig:
        return load_config(self.config_file)

    def __repr_args__(self) -> Any:
        """repr/str show which secrets are set, never their values."""
        for name, value in super().__repr_args__():
            hidden = name in _SECRET_FIELDS and isinstance(value, str)
            yield name, "***" if hidden else value

    def secrets(self) -> list[str | None]:
        return [self.slack_webhook_url, self.slack_bot_token, self.pagerduty_routing_key]

    def senders(self) -> dict[Channel, Sender]:
        out: dict[Channel, Sender] = {}
        if self.slack_webhook_url:
            out[Channel.SLACK] = SlackWebhookSender(
                self.slack_webhook_url, self.dagster_ui_url, self.timeout_seconds
            )
        elif self.slack_bot_token and self.slack_channel:
            resource = SlackApiResource(
                token=self.slack_bot_token,
                base_url=self.slack_api_base,
                timeout_seconds=int(self.timeout_seconds),
            )
            out[Channel.SLACK] = SlackApiSender(resource, self.slack_channel, self.dagster_ui_url)
        if self.pagerduty_routing_key:
            out[Channel.PAGERDUTY] = PagerDutySender(
                self.pagerduty_events_url,
                self.pagerduty_routing_key,
                self.dagster_ui_url,
                self.timeout_seconds,
            )
        return out

    def describe(self) -> dict[str, str]:
        """Which channels are configured (names only, never the secrets)."""
        slack = (
            "webhook"
            if self.slack_webhook_url
            else "web api"
            if self.slack_bot_token and self.slack_channel
            else "off"
        )
        return {"slack": slack, "pagerduty": "on" if self.pagerduty_routing_key else "off"}


def channels_from_env() -> AlertChannels:
    """The resource as the environment configures it; secrets stay ``EnvVar``s."""

    def secret(name: str) -> Any:
        return EnvVar(name) if os.environ.get(name) else None

    return AlertChannels(
        slack_webhook_url=secret("SLACK_WEBHOOK_URL"),
        slack_bot_token=secret("SLACK_BOT_TOKEN"),
        slack_channel=os.environ.get("SLACK_CHANNEL") or None,
        slack_api_base=os.environ.get("SLACK_API_BASE") or DEFAULT_SLACK_API,
        pagerduty_routing_key=secret("PAGERDUTY_ROUTING_KEY"),
        pagerduty_events_url=os.environ.get("PAGERDUTY_EVENTS_URL") or DEFAULT_PAGERDUTY_EVENTS,
        dagster_ui_url=os.environ.get("DAGSTER_UI_URL") or DEFAULT_UI,
        config_file=os.environ.get("GROWTH_ALERTS_FILE", ""),
    )


_COLUMNS = {
    (Channel.SLACK, "trigger"): "slack_sent_at",
    (Channel.SLACK, "resolve"): "slack_resolved_at",
    (Channel.PAGERDUTY, "trigger"): "pagerduty_triggered_at",
    (Channel.PAGERDUTY, "resolve"): "pagerduty_resolved_at",
}


def owed(row: Any, channel: Channel, config: AlertConfig) -> str | None:
    """What ``channel`` is still owed for this outbox row: 'trigger', 'resolve', 'recovered'
    (Slack only: an anomaly already back inside the band in the very detection pass that
    found it, e.g. one bad hour in a day of hourly data; worth telling, not worth a page),
    or None."""
    if row.silenced:
        return None
    routed = channel in config.channels_for(Severity(row.severity))
    triggered = getattr(row, _COLUMNS[channel, "trigger"]) is not None
    if row.status == "open":
        return "trigger" if routed and not triggered else None
    if triggered:
        return "resolve" if getattr(row, _COLUMNS[channel, "resolve"]) is None else None
    same_pass = row.resolved_at == row.created_at  # both now() of one transaction
    return "recovered" if channel is Channel.SLACK and routed and same_pass else None


@dataclass
class DeliveryReport:
    configured: list[str] = field(default_factory=list)
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # channel, action, key
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # channel, key, error
    stats: CallStats = field(default_factory=CallStats)
    postponed: int = 0  # alerts left for the next tick (time budget spent)

    def summary(self) -> str:
        retries = f" ({self.stats.retries} retries)" if self.stats.retries else ""
        later = f", {self.postponed} postponed to the next tick" if self.postponed else ""
        return f"delivered {len(self.sent)}, failed {len(self.failed)}{retries}{later}"


def _pending(
    warehouse: Warehouse, senders: dict[Channel, Sender], config: AlertConfig
) -> list[str]:
    def severities(channel: Channel) -> list[str]:
        return [s.value for s in Severity if channel in config.channels_for(s)]

    with warehouse.engine.connect() as conn:
        rows = Warehouse.fetch_file(
            conn,
            "alerts/pending",
            {
                "slack": Channel.SLACK in senders,
                "pagerduty": Channel.PAGERDUTY in senders,
                "slack_severities": severities(Channel.SLACK),
                "pagerduty_severities": severities(Channel.PAGERDUTY),
                "limit": 200,
            },
        )
    return [r.dedup_key for r in rows]


def deliver_pending(
    warehouse: Warehouse,
    channels: AlertChannels,
    config: AlertConfig,
    *,
    sleep: Callable[[float], None] = time.sleep,
    budget_seconds: float = TICK_BUDGET,
) -> DeliveryReport:
    """Send everything the outbox owes on the configured channels (PagerDuty first: it is the
    one that wakes someone), starting no new delivery after ``budget_seconds`` so a slow
    channel cannot push the sensor past Dagster's evaluation timeout (60 s by default)."""
    senders = channels.senders()
    report = DeliveryReport(configured=sorted(c.value for c in senders))
    if not senders:
        return report
    secrets = channels.secrets()
    refused: set[Channel] = set()
    deadline = time.monotonic() + budget_seconds
    for key in _pending(warehouse, senders, config):
        if time.monotonic() > deadline:
            report.postponed += 1
            continue
        for channel in (Channel.PAGERDUTY, Channel.SLACK):
            sender = senders.get(channel)
            if sender is None or channel in refused:
                continue
            with warehouse.transaction() as conn:
                claimed = Warehouse.fetch_file(conn, "alerts/claim", {"dedup_key": key})
                if not claimed:
                    break  # another deliverer holds the row
                row = claimed[0]
                action = owed(row, channel, config)
                if action is None:
                    continue
                try:
                    _send(sender, action, row, report.stats, sleep)
                except (
                    SourceUnavailableError,
                    CredentialsError,
                    DeliveryError,
                    DeferredError,
                ) as exc:
                    error = redact(str(exc), secrets)
                    backoff = (
                        exc.seconds
                        if isinstance(exc, DeferredError)
                        else min(30.0 * 2 ** int(row.attempts), 3600.0)
                    )
                    Warehouse.run_file(
                        conn,
                        "alerts/mark_failed",
                        {"dedup_key": key, "error": error, "backoff_seconds": backoff},
                    )
                    report.failed.append((channel.value, key, error))
                    if isinstance(exc, CredentialsError):
                        refused.add(channel)
                    continue
                stamps = ("trigger", "resolve") if action == "recovered" else (action,)
                for stamp in stamps:
                    Warehouse.run_file(
                        conn,
                        "alerts/mark_delivered",
                        {"dedup_key": key},
                        column=_COLUMNS[channel, stamp],
                    )
                report.sent.append((channel.value, action, key))
    return report


def _send(
    sender: Sender, action: str, row: Any, stats: CallStats, sleep: Callable[[float], None]
) -> None:
    def once() -> None:
        try:
            sender.send(action, row)
        except TransientError as exc:
            if exc.retry_after is not None and exc.retry_after > MAX_INLINE_WAIT:
                raise DeferredError(sender.channel.value, exc.retry_after) from None
            raise

    call(once, source=sender.channel.value, policy=POLICY, stats=stats, sleep=sleep)
