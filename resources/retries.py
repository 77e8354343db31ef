"""Polite, persistent HTTP calls for every source client: retries, backoff, rate limits.

Each API client library fails in its own way (``stripe.RateLimitError``, ``requests.HTTPError``
from zenpy, ``urllib`` errors from mixpanel-utils). A client translates its library's
exceptions into the two outcomes that matter here, and :func:`call` does the rest:

* :class:`TransientError`: 429, 5xx, timeouts, truncated or unparsable bodies. Retried with
  exponential backoff and jitter (tenacity), waiting at least the server's ``Retry-After``.
* :class:`CredentialsError`: 401/403. Never retried; the message names the source and the
  environment variable to fix, and never contains the secret itself.

Anything else propagates unchanged. :class:`RateLimiter` spaces requests so one backfill
cannot exceed a source's documented budget (Mixpanel's export allows 60 requests an hour).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

T = TypeVar("T")


class TransientError(Exception):
    """A failure worth retrying; ``retry_after`` is the server's ``Retry-After`` in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CredentialsError(RuntimeError):
    """The source refused our credentials (401/403): retrying cannot help."""

    def __init__(self, source: str, variable: str, status: int) -> None:
        what = "rejected the credentials" if status == 401 else "denied access"
        super().__init__(
            f"{source}: the API {what} (HTTP {status}); check {variable} "
            "(the value is not shown here)"
        )
        self.source = source
        self.variable = variable
        self.status = status


class SourceUnavailableError(RuntimeError):
    """A transient failure that outlasted every retry."""


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form; HTTP dates are ignored)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


@dataclass
class CallStats:
    """What a client did, for asset metadata: requests sent, pages read, retries made."""

    requests: int = 0
    pages: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def as_metadata(self) -> dict[str, int | float]:
        return {
            "requests": self.requests,
            "pages": self.pages,
            "retries": self.retries,
            "retry_wait_seconds": round(self.waited_seconds, 3),
        }


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and backoff bounds; the defaults suit hourly jobs against public APIs."""

    attempts: int = 6
    initial_seconds: float = 1.0
    max_seconds: float = 60.0
    jitter_seconds: float = 1.0


class RateLimiter:
    """At most ``per_second`` calls per second on average (thread-safe; 0 disables)."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Block until the next call may go out; return the seconds waited."""
        if not self._interval:
            return 0.0
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        delay = start - now
        if delay > 0:
            time.sleep(delay)
        return delay


def call(
    fn: Callable[[], T],
    *,
    source: str,
    policy: RetryPolicy,
    stats: CallStats,
    limiter: RateLimiter | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``fn`` (one HTTP request) under the rate limit, retrying :class:`TransientError`."""
    backoff = wait_exponential_jitter(
        initial=policy.initial_seconds, max=policy.max_seconds, jitter=policy.jitter_seconds
    )

    def wait(state: RetryCallState) -> float:
        delay = backoff(state)
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, TransientError) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return delay

    def before_sleep(state: RetryCallState) -> None:
        stats.retries += 1
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        stats.errors.append(str(error))
        if state.next_action is not None:
            stats.waited_seconds += state.next_action.sleep

    def attempt() -> T:
        if limiter is not None:
            stats.waited_seconds += limiter.wait()
        stats.requests += 1
        return fn()

    retrying = Retrying(
        retry=retry_if_exception_type(TransientError),
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=False,
    )
    try:
        return retrying(attempt)
    except Exception as exc:  # tenacity.RetryError after the last attempt
        last = getattr(exc, "last_attempt", None)
        error = last.exception() if last is not None else None
        if isinstance(error, TransientError):
            raise SourceUnavailableError(
                f"{source}: gave up after {policy.attempts} attempts: {error}"
            ) from error
        raise
