"""The demo's planted churn spike, end to end at a small scale: built by the real pipeline,
judged by the sensor with the default configuration after the rollups land, delivered once to
Slack and PagerDuty, and nothing else raised: every default watch (daily, hourly, monthly)
stays quiet on the demo's ordinary noise."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, build_sensor_context

from growth_assets.alerts.deliver import AlertChannels
from growth_assets.alerts.sensors import AlertCursor, metric_alerts
from growth_assets.backfill import materialize_days
from growth_assets.demo.world import DemoConfig, get_world
from growth_assets.environment import build_resources
from resources.warehouse import Warehouse
from tests.receivers.pagerduty_api import ROUTING_KEY, PagerDutyReceiver
from tests.receivers.slack_api import SlackReceiver

SCALE = {"GROWTH_DEMO_USERS": "5000", "GROWTH_DEMO_DAYS": "35", "GROWTH_DEMO_SEED": "11"}


def test_planted_churn_spike_pages_once(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GROWTH_WAREHOUSE_URL", warehouse.url)
    for name, value in SCALE.items():
        monkeypatch.setenv(name, value)
    world = get_world(DemoConfig(seed=11, users=5000, days=35))
    spike = world.planted_spike()
    first = date(2024, 11, 1)
    last = first + timedelta(days=34)
    assert spike["day"] == last and spike["cancellations"] == 50

    resources = build_resources()
    _, checks = materialize_days(first, last, resources, dagster_instance)
    assert all(c.passed for c in checks if c.severity == "ERROR")

    slack, pagerduty = SlackReceiver(), PagerDutyReceiver()
    with slack.running(), pagerduty.running():
        channels = AlertChannels(
            slack_webhook_url=slack.webhook_url,
            pagerduty_routing_key=ROUTING_KEY,
            pagerduty_events_url=pagerduty.events_url,
        )
        res = {"warehouse": warehouse, "alert_channels": channels}
        ctx = build_sensor_context(instance=dagster_instance, cursor=None, resources=res)
        metric_alerts(ctx)
        cursor = ctx.cursor
        again = build_sensor_context(instance=dagster_instance, cursor=cursor, resources=res)
        metric_alerts(again)

    with warehouse.engine.connect() as conn:
        alerts = conn.execute(
            sa.text(
                "SELECT dedup_key, product_id, metric, period, severity, z, value, status, "
                "slack_sent_at, pagerduty_triggered_at FROM ops.alerts ORDER BY dedup_key"
            )
        ).all()
    assert len(alerts) == 1, alerts  # the portfolio row is explained by the product alert
    (alert,) = alerts
    assert alert.severity == "high"
    assert (alert.product_id, alert.metric, alert.period) == (
        spike["product_id"],
        "churned_customers",
        str(spike["day"]),
    )
    assert alert.status == "open" and alert.slack_sent_at and alert.pagerduty_triggered_at
    triggers = [e for e in pagerduty.events() if e["event_action"] == "trigger"]
    assert [e["dedup_key"] for e in triggers] == [alert.dedup_key]
    assert sum(alert.dedup_key in t for t in slack.texts()) == 1
    parsed = AlertCursor.parse(again.cursor)
    assert parsed.assets["growth/metrics_daily"] > 0
