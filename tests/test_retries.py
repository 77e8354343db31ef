"""The shared retry helper: backoff honours Retry-After, credentials are never retried."""

from __future__ import annotations

import time

import pytest

from resources.retries import (
    CallStats,
    CredentialsError,
    RateLimiter,
    RetryPolicy,
    SourceUnavailableError,
    TransientError,
    call,
    parse_retry_after,
)

FAST = RetryPolicy(attempts=4, initial_seconds=0.01, max_seconds=0.05, jitter_seconds=0.0)


def test_transient_errors_are_retried_and_retry_after_is_honoured() -> None:
    slept: list[float] = []
    outcomes: list[Exception | str] = [
        TransientError("429", retry_after=7.0),
        TransientError("500"),
        "ok",
    ]

    def fn() -> str:
        item = outcomes.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    stats = CallStats()
    assert call(fn, source="demo", policy=FAST, stats=stats, sleep=slept.append) == "ok"
    assert stats.requests == 3 and stats.retries == 2
    assert slept[0] == 7.0  # Retry-After wins over a shorter backoff
    assert slept[1] < 1.0


def test_gives_up_with_a_named_error() -> None:
    def fn() -> None:
        raise TransientError("HTTP 503")

    with pytest.raises(SourceUnavailableError, match="stripe: gave up after 4 attempts: HTTP 503"):
        call(fn, source="stripe", policy=FAST, stats=CallStats(), sleep=lambda _: None)


def test_credentials_errors_are_not_retried_and_name_the_variable() -> None:
    stats = CallStats()

    def fn() -> None:
        raise CredentialsError("zendesk", "ZENDESK_API_TOKEN", 401)

    with pytest.raises(CredentialsError, match=r"zendesk: .* check ZENDESK_API_TOKEN"):
        call(fn, source="zendesk", policy=FAST, stats=stats, sleep=lambda _: None)
    assert stats.requests == 1 and stats.retries == 0


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None


def test_rate_limiter_spaces_calls() -> None:
    limiter = RateLimiter(per_second=50)
    started = time.monotonic()
    for _ in range(6):
        limiter.wait()
    # The sixth call is scheduled five 20 ms slots after the first, however slow the loop.
    assert time.monotonic() - started >= 0.099
    assert RateLimiter(0).wait() == 0.0
