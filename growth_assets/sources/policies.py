"""Run-time policies shared by every source ingestion asset: op retries and concurrency pools.

Two layers of retry, on purpose:

* inside a step, each HTTP call is retried by ``resources.retries.call`` (seconds apart,
  honouring ``Retry-After``), which absorbs the usual 429s and 5xx;
* when a step still fails (an outage that outlasts those retries, a dropped database
  connection), Dagster re-runs the step with :data:`INGEST_RETRY_POLICY`: exponential backoff
  (1, 2, 4 minutes) with ±jitter so the steps of several sources that failed together do not
  return together. A step is idempotent (it replaces its window in one transaction), so a
  retry converges. Refused credentials are not retried (see ``no_retry_on_credentials``).

Run-level retries (``run_retries`` in ``dagster.yaml``) are configured with
``retry_on_asset_or_op_failure: false``, so they only re-launch runs that died for other
reasons (a lost worker, a killed container) and do not multiply these step retries.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from dagster import Backoff, Failure, Jitter, RetryPolicy

from resources.retries import CredentialsError

INGEST_RETRY_POLICY = RetryPolicy(
    max_retries=3,
    delay=60,
    backoff=Backoff.EXPONENTIAL,
    jitter=Jitter.PLUS_MINUS,
)

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
