"""The alert sensor against a real warehouse and Dagster instance, delivering to local Slack and
PagerDuty receivers: once, in order, through retries and crashes, without leaking secrets."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetMaterialization,
    DagsterInstance,
    MaterializeResult,
    asset,
    build_run_status_sensor_context,
    build_sensor_context,
    materialize,
)

from growth_assets.alerts import sensors
from growth_assets.alerts.deliver import AlertChannels, deliver_pending
from growth_assets.alerts.sensors import (
    AlertCursor,
    check_alerts_on_success,
    metric_alerts,
)
from resources.warehouse import Warehouse
from tests.alerts_helpers import KEY, alerts, landed, noisy, seed
from tests.receivers import pagerduty_api, slack_api
from tests.receivers.pagerduty_api import ROUTING_KEY, PagerDutyReceiver
from tests.receivers.slack_api import BOT_TOKEN, WEBHOOK_PATH, SlackReceiver

SECRETS = (WEBHOOK_PATH.rsplit("/", 1)[1], ROUTING_KEY, BOT_TOKEN)


@pytest.fixture
def receivers() -> Iterator[tuple[SlackReceiver, PagerDutyReceiver]]:
    slack, pagerduty = SlackReceiver(), PagerDutyReceiver()
    with slack.running(), pagerduty.running():
        yield slack, pagerduty


def channels(
    slack: SlackReceiver | None, pagerduty: PagerDutyReceiver | None, **kw: Any
) -> AlertChannels:
    return AlertChannels(
        slack_webhook_url=slack.webhook_url if slack else None,
        pagerduty_routing_key=ROUTING_KEY if pagerduty else None,
        pagerduty_events_url=pagerduty.events_url if pagerduty else "http://127.0.0.1:9/",
        dagster_ui_url="http://dagster.test:3000",
        **kw,
    )


class Ticks:
    """Runs sensor ticks the way the daemon does: each with the cursor the last one left."""

    def __init__(self, instance: DagsterInstance, warehouse: Warehouse, ch: AlertChannels) -> None:
        self.instance, self.warehouse, self.channels = instance, warehouse, ch
        self.cursor: str | None = None
        self.messages: list[str] = []

    def tick(self) -> str:
        ctx = build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            resources={"warehouse": self.warehouse, "alert_channels": self.channels},
        )
        result = metric_alerts(ctx)
        self.cursor = ctx.cursor
        message = str(getattr(result, "skip_message", result))
        self.messages.append(message)
        return message


def latest_storage_id(instance: DagsterInstance) -> int:
    rec = instance.fetch_materializations(KEY, limit=1).records[0]
    return rec.storage_id


def test_spike_alerts_once_to_both_and_second_tick_sends_nothing(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    receivers: tuple[SlackReceiver, PagerDutyReceiver],
) -> None:
    slack, pagerduty = receivers
    days = seed(warehouse, [*noisy(30), 50])
    landed(dagster_instance, *days)
    ticks = Ticks(dagster_instance, warehouse, channels(slack, pagerduty))
    first = ticks.tick()
    assert "1 new alert(s)" in first and "delivered 2" in first
    assert AlertCursor.parse(ticks.cursor).assets == {
        "growth/metrics_daily": latest_storage_id(dagster_instance)
    }

    (row,) = alerts(warehouse)
    assert (row.product_id, row.metric, row.period, row.severity, row.status) == (
        "delta",
        "churned_customers",
        str(days[-1]),
        "high",
        "open",
    )
    assert row.dedup_key == f"growth-assets:delta:churned_customers:daily:{days[-1]}"
    assert row.value == 50 and row.z > 3.5 and row.baseline_points == 30
    assert row.slack_sent_at and row.pagerduty_triggered_at and row.attempts == 0

    (event,) = pagerduty.events()
    assert event["event_action"] == "trigger" and event["dedup_key"] == row.dedup_key
    assert event["payload"]["severity"] == "critical"
    assert event["links"][0]["href"].startswith(
        "http://dagster.test:3000/assets/growth/metrics_daily"
    )
    (text,) = slack.texts()
    assert row.dedup_key in text and "z = +" in text and "last 14:" in text

    # Nothing new landed, then the same partition lands again: nothing is sent twice.
    cursor = ticks.cursor
    assert "0 new alert(s)" in ticks.tick() and ticks.cursor == cursor
    landed(dagster_instance, days[-1])
    assert "0 new alert(s)" in ticks.tick()
    assert len(pagerduty.requests) == 1 and len(slack.requests) == 1
    assert AlertCursor.parse(ticks.cursor).assets["growth/metrics_daily"] == latest_storage_id(
        dagster_instance
    )


@pytest.mark.parametrize(
    "history",
    [
        pytest.param([3.0] * 30, id="flat"),
        pytest.param(noisy(8), id="too-short"),
    ],
)
def test_flat_or_short_baseline_raises_nothing(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    receivers: tuple[SlackReceiver, PagerDutyReceiver],
    history: list[float],
) -> None:
    slack, pagerduty = receivers
    days = seed(warehouse, [*history, 50])
    landed(dagster_instance, *days)
    Ticks(dagster_instance, warehouse, channels(slack, pagerduty)).tick()
    assert alerts(warehouse) == []
    assert slack.requests == [] and pagerduty.requests == []


def test_history_backfill_does_not_page_for_old_periods(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    receivers: tuple[SlackReceiver, PagerDutyReceiver],
) -> None:
    slack, pagerduty = receivers
    days = seed(warehouse, [*noisy(30), 50, *noisy(10)])  # the spike is 10 days old
    landed(dagster_instance, *days)
    Ticks(dagster_instance, warehouse, channels(slack, pagerduty)).tick()
    assert alerts(warehouse) == []


def test_recovery_resolves_with_the_same_dedup_key(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    receivers: tuple[SlackReceiver, PagerDutyReceiver],
) -> None:
    slack, pagerduty = receivers
    days = seed(warehouse, [*noisy(30), 50])
    landed(dagster_instance, *days)
    ticks = Ticks(dagster_instance, warehouse, channels(slack, pagerduty))
    ticks.tick()
    (next_day,) = seed(warehouse, [3.0], start=days[-1] + timedelta(days=1))
    landed(dagster_instance, next_day)
    assert "1 resolved" in ticks.tick()
    ticks.tick()

    (row,) = alerts(warehouse)
    assert row.status == "resolved" and row.resolved_by_period == str(next_day)
    assert row.pagerduty_resolved_at and row.slack_resolved_at
    actions = [(e["event_action"], e["dedup_key"]) for e in pagerduty.events()]
    assert actions == [("trigger", row.dedup_key), ("resolve", row.dedup_key)]
    assert len(slack.texts()) == 2 and "resolved" in slack.texts()[1]


def test_429_and_500_are_retried_honouring_retry_after(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    receivers: tuple[SlackReceiver, PagerDutyReceiver],
) -> None:
    slack, pagerduty = receivers
    pagerduty.script(pagerduty_api.rate_limited(1), pagerduty_api.server_error())
    slack.script(slack_api.server_error(), slack_api.rate_limited(1))
    days = seed(warehouse, [*noisy(30), 50])
    landed(dagster_instance, *days)
    started = time.monotonic()
    message = Ticks(dagster_instance, warehouse, channels(slack, pagerduty)).tick()
    assert time.monotonic() - started >= 2.0  # one Retry-After: 1 per channel
    assert "delivered 2, failed 0 (4 retries)" in message
    assert [r.answered for r in pagerduty.requests] == [429, 500, 202]
    assert [r.answered for r in slack.requests] == [500, 429, 200]
    assert len(pagerduty.events()) == 1 and len(slack.texts()) == 1


def test_crash_between_detect_and_deliver_delivers_next_tick_once(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    receivers: tuple[SlackReceiver, PagerDutyReceiver],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slack, pagerduty = receivers
    days = seed(warehouse, [*noisy(30), 50])
    landed(dagster_instance, *days)
    ticks = Ticks(dagster_instance, warehouse, channels(slack, pagerduty))

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("process killed after detection")

    with monkeypatch.context() as m:
        m.setattr(sensors, "deliver_pending", crash)
        with pytest.raises(RuntimeError):
            ticks.tick()
    assert ticks.cursor is None  # the failed tick's cursor is not kept
    (row,) = alerts(warehouse)
    assert row.slack_sent_at is None and row.pagerduty_triggered_at is None

    message = ticks.tick()  # re-judges the same partitions: no new alert, delivers the old one
    assert "0 new alert(s)" in message and "delivered 2" in message
    ticks.tick()
    assert len(pagerduty.events()) == 1 and len(slack.texts()) == 1


def test_without_channels_alerts_wait_in_the_outbox_and_the_sensor_says_so_once(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    receivers: tuple[SlackReceiver, PagerDutyReceiver],
    capfd: pytest.CaptureFixture[str],
) -> None:
    slack, pagerduty = receivers
    days = seed(warehouse, [*noisy(30), 50])
    landed(dagster_instance, *days)
    ticks = Ticks(dagster_instance, warehouse, AlertChannels())
    ticks.tick()
    ticks.tick()
    assert capfd.readouterr().err.count("no alert channel configured") == 1
    assert AlertCursor.parse(ticks.cursor).warned_no_channels
    assert len(alerts(warehouse)) == 1

    ticks.channels = channels(slack, pagerduty)
    assert "delivered 2" in ticks.tick()
    assert not AlertCursor.parse(ticks.cursor).warned_no_channels


def test_routing_by_severity_and_slack_web_api(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    receivers: tuple[SlackReceiver, PagerDutyReceiver],
) -> None:
    """A medium alert goes to Slack only; here through dagster-slack's Web API client."""
    slack, pagerduty = receivers
    days = seed(warehouse, [*noisy(30, base=6, scale=2), 13])  # z ≈ 3.1: medium
    landed(dagster_instance, *days)
    ch = AlertChannels(
        slack_bot_token=BOT_TOKEN,
        slack_channel="#growth-alerts",
        slack_api_base=slack.api_base,
        pagerduty_routing_key=ROUTING_KEY,
        pagerduty_events_url=pagerduty.events_url,
    )
    Ticks(dagster_instance, warehouse, ch).tick()
    (row,) = alerts(warehouse)
    assert row.severity == "medium" and row.slack_sent_at and row.pagerduty_triggered_at is None
    assert pagerduty.requests == []
    (req,) = slack.requests
    assert req.path == "/api/chat.postMessage" and req.answered == 200
    assert row.dedup_key in slack.texts()[0]


def test_silenced_alert_is_recorded_not_sent(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    receivers: tuple[SlackReceiver, PagerDutyReceiver],
) -> None:
    slack, pagerduty = receivers
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO ops.alert_silences (product_id, metric, ends_at, reason) "
                "VALUES ('delta', 'churned_customers', now() + interval '1 day', 'migration')"
            )
        )
    days = seed(warehouse, [*noisy(30), 50])
    landed(dagster_instance, *days)
    Ticks(dagster_instance, warehouse, channels(slack, pagerduty)).tick()
    (row,) = alerts(warehouse)
    assert row.silenced and row.slack_sent_at is None
    assert slack.requests == [] and pagerduty.requests == []


def test_secrets_never_in_logs_metadata_or_outbox(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    receivers: tuple[SlackReceiver, PagerDutyReceiver],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Every channel fails for good (wrong routing key → 400, a broken webhook → 404, the Web
    API refusing a token): the errors are recorded and logged, the secrets nowhere."""
    slack, pagerduty = receivers
    days = seed(warehouse, [*noisy(30), 50])
    landed(dagster_instance, *days)
    bad = AlertChannels(
        slack_webhook_url=slack.base + "/services/T0000TEST/B0000TEST/wrongsecretYYYYYYYYYYYY",
        pagerduty_routing_key="WR0NGKEYSECRET0123456789abcdefgh",
        pagerduty_events_url=pagerduty.events_url,
    )
    token_channels = AlertChannels(
        slack_bot_token="xoxb-wrong-token-secret-999999",
        slack_channel="#c",
        slack_api_base=slack.api_base,
    )
    with caplog.at_level(logging.DEBUG):
        ticks = Ticks(dagster_instance, warehouse, bad)
        ticks.tick()
        with warehouse.transaction() as conn:
            conn.execute(sa.text("UPDATE ops.alerts SET next_attempt_at = NULL"))
        ticks.channels = token_channels
        ticks.tick()
    (row,) = alerts(warehouse)
    assert row.attempts == 3 and row.last_error
    captured = capfd.readouterr()
    everything = "\n".join(
        [captured.out, captured.err, *(r.getMessage() for r in caplog.records), *ticks.messages, str(row._asdict()),
         repr(bad), repr(token_channels), str(bad.describe())]
    )  # fmt: skip
    assert "HTTP 400" in everything and "slack" in everything
    for secret in (
        *SECRETS,
        "wrongsecretYYYYYYYYYYYY",
        "WR0NGKEYSECRET0123456789abcdefgh",
        "xoxb-wrong-token-secret-999999",
    ):
        assert secret not in everything


@asset(
    key=["growth", "toy"],
    check_specs=[AssetCheckSpec("always_fails", asset=["growth", "toy"])],
)
def toy() -> MaterializeResult:
    return MaterializeResult(
        check_results=[
            AssetCheckResult(
                check_name="always_fails", passed=False, severity=AssetCheckSeverity.ERROR,
                description="3 mismatching rows",
            )
        ]
    )  # fmt: skip


def test_failed_error_check_becomes_an_alert(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    receivers: tuple[SlackReceiver, PagerDutyReceiver],
) -> None:
    slack, pagerduty = receivers
    result = materialize([toy], instance=dagster_instance)
    ch = channels(slack, pagerduty)
    ctx = build_run_status_sensor_context(
        sensor_name="check_alerts_on_success",
        dagster_event=result.get_run_success_event(),
        dagster_instance=dagster_instance,
        dagster_run=result.dagster_run,
        resources={"warehouse": warehouse, "alert_channels": ch},
    )
    check_alerts_on_success(ctx)
    check_alerts_on_success(ctx)  # the same run seen twice: still one alert
    (row,) = alerts(warehouse)
    assert (row.kind, row.metric, row.severity, row.status) == (
        "check",
        "growth/toy:always_fails",
        "medium",
        "open",
    )
    Ticks(dagster_instance, warehouse, ch).tick()
    assert pagerduty.requests == []
    (text,) = slack.texts()
    assert (
        "data-quality check failed: growth/toy:always_fails" in text
        and "3 mismatching rows" in text
    )


def test_delivery_stops_starting_sends_when_the_tick_budget_is_spent(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    receivers: tuple[SlackReceiver, PagerDutyReceiver],
) -> None:
    slack, pagerduty = receivers
    days = seed(warehouse, [*noisy(30), 50])
    landed(dagster_instance, *days)
    Ticks(dagster_instance, warehouse, AlertChannels()).tick()  # detect only
    ch = channels(slack, pagerduty)
    config = ch.config()
    spent = deliver_pending(warehouse, ch, config, budget_seconds=-1)
    assert spent.postponed == 1 and spent.sent == [] and slack.requests == []
    report = deliver_pending(warehouse, ch, config)
    assert [(c, a) for c, a, _ in report.sent] == [("pagerduty", "trigger"), ("slack", "trigger")]


def test_sensors_and_channels_are_wired_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from growth_assets.definitions import build_definitions

    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/envsecret123")
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", "envroutingkeysecret")
    monkeypatch.setenv("DAGSTER_UI_URL", "http://dagster.internal")
    defs = build_definitions()
    names = {s.name for s in defs.sensors or []}
    assert {"metric_alerts", "check_alerts_on_success", "check_alerts_on_failure"} <= names
    assert metric_alerts.minimum_interval_seconds == 5
    resource = defs.resources["alert_channels"]  # type: ignore[index]
    shown = repr(resource) + str(resource)
    assert "envsecret123" not in shown and "envroutingkeysecret" not in shown
    assert resource.dagster_ui_url == "http://dagster.internal"


def test_an_hourly_rollup_plugs_in_by_configuration(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    receivers: tuple[SlackReceiver, PagerDutyReceiver],
    tmp_path: Any,
) -> None:
    """A daily partition of an hourly table lands 24 hours at once: all of them are judged,
    an early-morning spike included, and the alert is labelled with its hour. Back inside
    the band an hour later, it is told to Slack once (already recovered) and pages nobody."""
    slack, pagerduty = receivers
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text("CREATE TABLE growth.toy_hourly (hour timestamptz, product_id text, churn int)")
        )
        conn.execute(
            sa.text(
                "INSERT INTO growth.toy_hourly SELECT h, 'delta', "
                "CASE WHEN h = '2025-01-31 05:00+00' THEN 40 ELSE 2 + (extract(hour FROM h)::int % 3) END "
                "FROM generate_series(timestamptz '2025-01-29 00:00+00', '2025-01-31 23:00+00', '1 hour') h"
            )
        )
    config = tmp_path / "alerts.toml"
    config.write_text(
        '[[metrics]]\nname = "churn"\ntable = "growth.toy_hourly"\ncolumn = "churn"\n'
        'time_column = "hour"\ngrain = "hourly"\nasset_key = "growth/toy_hourly"\n'
        'bad_direction = "up"\ninclude_all = false\n'
    )
    ch = channels(slack, pagerduty, config_file=str(config))
    dagster_instance.report_runless_asset_event(
        AssetMaterialization(asset_key=["growth", "toy_hourly"], partition="2025-01-31")
    )
    Ticks(dagster_instance, warehouse, ch).tick()
    (row,) = alerts(warehouse)
    assert (row.metric, row.grain, row.period, row.severity, row.status) == (
        "churn", "hourly", "2025-01-31T05:00", "high", "resolved"
    )  # fmt: skip
    assert row.resolved_by_period == "2025-01-31T06:00"
    assert row.slack_sent_at and row.slack_resolved_at and row.pagerduty_triggered_at is None
    (text,) = slack.texts()
    assert "already back inside the band at 2025-01-31T06:00" in text
    assert "?view=partitions" not in text  # no daily partition key to link to
    assert pagerduty.requests == []
    Ticks(dagster_instance, warehouse, ch).tick()
    assert len(slack.requests) == 1
