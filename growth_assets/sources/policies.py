"""Run-time policies of every source ingestion asset: step retries, none on refused keys.

Two layers of retry, on purpose:

* inside a step, each HTTP call is retried by ``resources.retries.call`` (seconds apart,
  honouring ``Retry-After``), which absorbs the usual 429s and 5xx;
* when a step still fails (an outage that outlasts those retries, a dropped database
  connection), Dagster re-runs the step with :data:`INGEST_RETRY_POLICY`: exponential backoff
  (by default 3 retries after 1, 2, 4 minutes) with ±jitter so the steps of several sources
  that failed together do not return together. A step is idempotent (it replaces its
  window in one transaction), so a retry converges. Refused credentials are not retried
  (see ``fail_fast_on_credentials``).

Run-level retries (``run_retries`` in ``dagster.yaml``) are configured with
``retry_on_asset_or_op_failure: false``, so they only re-launch runs that died for other
reasons (a lost worker, a killed container) and do not multiply these step retries.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import ParamSpec, TypeVar

from dagster import Backoff, Failure, Jitter, RetryPolicy

from resources.retries import CredentialsError

RETRIES_ENV = "GROWTH_INGEST_RETRIES"
DELAY_ENV = "GROWTH_INGEST_RETRY_DELAY_SECONDS"


def ingest_retry_policy(environ: Mapping[str, str] = os.environ) -> RetryPolicy:
    """Step retries of source assets: ``GROWTH_INGEST_RETRIES`` (default 3) after
    ``GROWTH_INGEST_RETRY_DELAY_SECONDS`` (default 60), doubling each time, ± jitter."""
    try:
        retries = int(environ.get(RETRIES_ENV, "3"))
        delay = float(environ.get(DELAY_ENV, "60"))
    except ValueError as exc:
        raise ValueError(f"{RETRIES_ENV} and {DELAY_ENV} must be numbers") from exc
    if retries < 0 or delay < 0:
        raise ValueError(f"{RETRIES_ENV} and {DELAY_ENV} must not be negative")
    return RetryPolicy(
        max_retries=retries,
        delay=delay,
        backoff=Backoff.EXPONENTIAL,
        jitter=Jitter.PLUS_MINUS,
    )


# Read when the asset modules are imported (the assets are built then).
INGEST_RETRY_POLICY = ingest_retry_policy()

P = ParamSpec("P")
R = TypeVar("R")


def fail_fast_on_credentials(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap an asset function so that refused credentials become a Dagster ``Failure`` that
    the retry policy does not retry: asking again with the same key cannot succeed. The
    message names the environment variable, never its value."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except CredentialsError as exc:
            raise Failure(description=str(exc), allow_retries=False) from exc

    return wrapper
