"""A failed run posts to Slack through an incoming webhook.

Why an incoming webhook and not ``dagster_slack.make_slack_on_run_failure_sensor``: that one
posts with a bot token through ``chat.postMessage`` and needs a Slack app with the
``chat:write`` scope, a channel name and the bot invited to it. An incoming webhook is one
URL, bound to one channel when it is created, and nothing else to configure. The URL is the
secret: it is read from ``SLACK_WEBHOOK_URL`` at each evaluation, never logged, never put
into a message, an exception or a tick's skip reason.

What it does not see: failed asset checks (a check failing does not fail its run) and
anomalies; those go through the alerting outbox. Runs that the daemon re-launches
(``run_retries`` in ``dagster.yaml``) post once per failed attempt, with the attempt number.
"""

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from dagster import (
    DagsterRun,
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorDefinition,
    SkipReason,
    run_failure_sensor,
)

from resources.retries import CallStats, RetryPolicy, TransientError, call, parse_retry_after

WEBHOOK_ENV = "SLACK_WEBHOOK_URL"
UI_URL_ENV = "GROWTH_DAGSTER_UI_URL"
SENSOR_NAME = "slack_on_run_failure"
POST_POLICY = RetryPolicy(attempts=3, initial_seconds=1.0, max_seconds=10.0, jitter_seconds=0.5)
TIMEOUT_SECONDS = 10.0
RETRY_TAG = "dagster/retry_number"
PARTITION_TAG = "dagster/partition"
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


class SlackPostError(RuntimeError):
    """Slack refused the message (a 4xx other than 429): the webhook was revoked or the
    payload is wrong. The message carries the status and Slack's short reason only."""


def failure_text(run: DagsterRun, error: str | None, ui_url: str | None) -> str:
    """The Slack message (mrkdwn) for one failed run: job, partitions, attempt, error, link."""
    tags = run.tags
    lines = [f":red_circle: *Run failed*: `{run.job_name}`"]
    if PARTITION_TAG in tags:
        lines.append(f"partition {tags[PARTITION_TAG]}")
    elif all(tag in tags for tag in RANGE_TAGS):
        lines.append(f"partitions {tags[RANGE_TAGS[0]]} to {tags[RANGE_TAGS[1]]}")
    if tags.get(RETRY_TAG):
        lines.append(f"attempt: {int(tags[RETRY_TAG]) + 1}")
    if error:
        first = error.strip().splitlines()[0] if error.strip() else error
        lines.append(f"error: {first[:500]}")
    run_ref = f"run `{run.run_id}`"
    if ui_url:
        run_ref = f"<{ui_url.rstrip('/')}/runs/{run.run_id}|{run_ref}>"
    lines.append(run_ref)
    return "\n".join(lines)


def post_to_slack(
    url: str,
    text: str,
    *,
    sleep: Callable[[float], None] | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> CallStats:
    """POST ``{"text": ...}`` to the webhook, retrying 429 (after ``Retry-After``), 5xx and
    network errors; raise :class:`SlackPostError` on other refusals. Errors never include the
    URL (which is the secret)."""
    body = json.dumps({"text": text}).encode()
    stats = CallStats()

    def send() -> None:
        request = urllib.request.Request(  # noqa: S310 - the operator's https webhook URL
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            reason = exc.read()[:200].decode(errors="replace")
            if exc.code == 429 or exc.code >= 500:
                raise TransientError(
                    f"Slack webhook answered HTTP {exc.code}",
                    retry_after=parse_retry_after(exc.headers.get("Retry-After")),
                ) from None
            raise SlackPostError(
                f"Slack webhook refused the message: HTTP {exc.code} {reason}"
            ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise TransientError(f"Slack webhook unreachable: {type(cause).__name__}") from None

    call(send, source="slack", policy=POST_POLICY, stats=stats, sleep=sleep or time.sleep)
    return stats


def build_failure_sensor(default_status: DefaultSensorStatus) -> SensorDefinition:
    @run_failure_sensor(
        name=SENSOR_NAME,
        default_status=default_status,
        minimum_interval_seconds=30,
        description=f"Posts each failed run to Slack (incoming webhook in {WEBHOOK_ENV}).",
    )
    def slack_on_run_failure(context: RunFailureSensorContext) -> SkipReason | None:
        url = os.environ.get(WEBHOOK_ENV)
        if not url:
            return SkipReason(f"{WEBHOOK_ENV} is not set: run failures are not posted")
        error = context.failure_event.message if context.failure_event else None
        text = failure_text(context.dagster_run, error, os.environ.get(UI_URL_ENV))
        stats = post_to_slack(url, text)
        context.log.info(
            f"posted the failure of run {context.dagster_run.run_id} to Slack "
            f"({stats.requests} request(s))"
        )
        return None

    return slack_on_run_failure
