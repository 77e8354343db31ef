"""The demo's planted churn spike, end to end at a small scale: built by the real pipeline,
judged by the sensor after the daily rollup lands, delivered once to Slack and PagerDuty.

The sensor watches churn only here. At this scale (5,000 users over 35 days, a business still
ramping up) the demo has a handful of support tickets per product and day, and the default
``tickets_created`` watch fires on that noise and growth (seen: 5 alerts, 3 high, over the two
most recent days); that is a tuning matter for ``growth-assets alerts replay``, not what this
test is about."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, build_sensor_context

from growth_assets.alerts.config import AlertConfig
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
    tmp_path: Path,
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

    churn_only = tmp_path / "alerts.toml"
    churn_only.write_text(
        "[[metrics]]\n"
        + "".join(
            f"{k} = {json.dumps(v)}\n"
            for k, v in AlertConfig().metrics[0].model_dump(mode="json").items()
        )
    )
    assert AlertConfig().metrics[0].name == "churned_customers"

    slack, pagerduty = SlackReceiver(), PagerDutyReceiver()
    with slack.running(), pagerduty.running():
        channels = AlertChannels(
            slack_webhook_url=slack.webhook_url,
            pagerduty_routing_key=ROUTING_KEY,
            pagerduty_events_url=pagerduty.events_url,
            config_file=str(churn_only),
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
    high = [a for a in alerts if a.severity == "high"]
    assert len(high) == 1, alerts
    assert not [a for a in alerts if a.product_id == "all"]  # explained by the product alert
    (alert,) = high
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
