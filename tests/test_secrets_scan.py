"""No secret anywhere, end to end: every source and alert channel configured with known fake
secrets, real Dagster runs against the local receivers, then everything the runs left behind
is searched for the secrets.

Configured exactly as production is (``GROWTH_ENV=live``, ``growth_assets.environment``
building the resources from the environment, secrets passed as ``EnvVar``): Stripe, Mixpanel
and Zendesk answer from ``tests/receivers`` on 127.0.0.1; Slack (incoming webhook, and a bot
token) and PagerDuty receive the alerts of the outbox. What runs:

* the whole pipeline over one day (``materialize_days``), against the receivers;
* a run of each source whose credentials the API refuses (a revoked key: HTTP 401), so that
  step failures with their exceptions and causes are recorded;
* a sensor tick of the alert outbox that delivers one anomaly to Slack (Web API, bot token)
  and fails to deliver it to PagerDuty (HTTP 400: a routing key PagerDuty does not know);
* the run-failure sensor posting a failed run to Slack's incoming webhook;
* the doctor; the week's board report is rendered too.

What is searched, for every secret (and its URL-encoded form, the Basic-auth header value
that carries it, and for the webhook its path and last segment): every row of every table of
the Dagster instance's database (event log: every event record, with materialisation and
check metadata and step failures; runs with their config and tags; sensor ticks), the same
records through the instance's API (serialized), every table of the warehouse (``raw``,
``growth``, ``ops`` including ``ops.alerts`` and ``ops.quality_results``, ``analytics``),
every file under the test's temporary folder (Dagster home, the report with its exports),
the captured stdout/stderr and log records of the whole test, and the doctor's output.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import sqlalchemy as sa
import yaml
from dagster import (
    AssetKey,
    DagsterInstance,
    DefaultSensorStatus,
    build_run_status_sensor_context,
    build_sensor_context,
    materialize,
)
from dagster_shared.serdes import serialize_value

from growth_assets.alerts.sensors import metric_alerts
from growth_assets.backfill import QUIET, materialize_days
from growth_assets.cli.doctor import run_doctor
from growth_assets.definitions import ASSETS
from growth_assets.environment import build_resources
from growth_assets.reports.assets import REPORT_ASSETS, WEEKLY_REPORT_KEY
from growth_assets.run_failures import SENSOR_NAME, build_failure_sensor
from resources.sqlfiles import quote_ident
from resources.warehouse import Warehouse
from tests import test_mixpanel_source as mixpanel_data
from tests import test_stripe_source as stripe_data
from tests import test_zendesk_source as zendesk_data
from tests.alerts_helpers import landed, noisy, seed
from tests.receivers.mixpanel_api import MixpanelReceiver
from tests.receivers.pagerduty_api import PagerDutyReceiver
from tests.receivers.slack_api import SlackReceiver
from tests.receivers.stripe_api import StripeReceiver
from tests.receivers.zendesk_api import ZendeskReceiver

DAY = date(2024, 11, 5)
STRIPE_KEY = "sk_test_51ScanStripeKeyQ7x2LocalOnly0000aa"
STRIPE_REVOKED = "sk_live_ScanRevokedKeyW3p9LocalOnly0000bb"
MIXPANEL_SECRET = "ScanMixpanelSecret4f9d2c7e1b"
MIXPANEL_WRONG = "ScanMixpanelWrong8a1c3e5f7d"
ZENDESK_EMAIL = "scan-agent@example.com"
ZENDESK_TOKEN = "ScanZendeskToken6b2e9d4a0c"
ZENDESK_WRONG = "ScanZendeskWrong1d7f3b8e2a"
WEBHOOK_PATH = "/services/T0SCAN00/B0SCAN00/ScanWebhookPath5c8e1a9f3d"
BOT_TOKEN = "xoxb-0000-scan-bot-token-2b7d9f1c"
ROUTING_KEY = "ScanRoutingKey0123456789abcdef0"
ROUTING_KEY_PD_KNOWS = "ScanRoutingKeyTheReceiverKnows1"


def variants(secret: str) -> set[str]:
    """How a secret can show up: as is, URL-encoded, JSON-escaped slashes, and for a URL its
    path and the path's last segment (a webhook's path is its secret)."""
    out = {secret, quote(secret, safe=""), secret.replace("/", "\\/")}
    if "://" in secret:
        path = urlsplit(secret).path
        out |= {path, path.rsplit("/", 1)[1], quote(path, safe="")}
    return {v for v in out if len(v) >= 8}


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def needles(webhook_url: str) -> dict[str, set[str]]:
    secrets = {
        "STRIPE_API_KEY": STRIPE_KEY,
        "STRIPE_API_KEY (revoked)": STRIPE_REVOKED,
        "MIXPANEL_API_SECRET": MIXPANEL_SECRET,
        "MIXPANEL_API_SECRET (wrong)": MIXPANEL_WRONG,
        "ZENDESK_API_TOKEN": ZENDESK_TOKEN,
        "ZENDESK_API_TOKEN (wrong)": ZENDESK_WRONG,
        "SLACK_WEBHOOK_URL": webhook_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
    }
    out = {name: variants(value) for name, value in secrets.items()}
    # The Authorization headers that carry them (Basic auth: base64 of user:password).
    out["MIXPANEL_API_SECRET"].add(basic(MIXPANEL_SECRET, ""))
    out["MIXPANEL_API_SECRET (wrong)"].add(basic(MIXPANEL_WRONG, ""))
    out["ZENDESK_API_TOKEN"].add(basic(f"{ZENDESK_EMAIL}/token", ZENDESK_TOKEN))
    out["ZENDESK_API_TOKEN (wrong)"].add(basic(f"{ZENDESK_EMAIL}/token", ZENDESK_WRONG))
    return out


def leaks(where: str, text: str, wanted: dict[str, set[str]]) -> list[str]:
    return [f"{name} in {where}" for name, forms in wanted.items() for f in forms if f in text]


def table_texts(url: str, schemas: list[str] | None = None) -> Iterator[tuple[str, str]]:
    """(table, every row as text) for every table of the database (or of ``schemas``)."""
    engine = sa.create_engine(url.replace("+psycopg2", "+psycopg"))
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                sa.text(
                    "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
                    "AND table_schema NOT LIKE '\\_timescaledb%' "
                    "AND (CAST(:schemas AS text[]) IS NULL "
                    "     OR table_schema = ANY(CAST(:schemas AS text[]))) ORDER BY 1"
                ),
                {"schemas": schemas},
            ).scalars()
            for table in list(tables):
                rows = conn.execute(
                    sa.text(f"SELECT CAST(t AS text) FROM {quote_ident(table)} AS t")
                ).scalars()
                yield table, "\n".join(rows)
    finally:
        engine.dispose()


@pytest.fixture
def receivers() -> Iterator[dict[str, Any]]:
    mixpanel = MixpanelReceiver(MIXPANEL_SECRET, mixpanel_data.day_events())
    zendesk = ZendeskReceiver(ZENDESK_EMAIL, ZENDESK_TOKEN, zendesk_data.tickets())
    slack = SlackReceiver(webhook_path=WEBHOOK_PATH, token=BOT_TOKEN)
    pagerduty = PagerDutyReceiver(routing_key=ROUTING_KEY_PD_KNOWS)
    with (
        StripeReceiver(STRIPE_KEY) as stripe,
        mixpanel.running(),
        zendesk.running(),
        slack.running(),
        pagerduty.running(),
    ):
        stripe.add("charges", *stripe_data.MONEY[:1])
        stripe.add("subscriptions", stripe_data.subscription("sub_scan"))
        yield {
            "stripe": stripe,
            "mixpanel": mixpanel,
            "zendesk": zendesk,
            "slack": slack,
            "pagerduty": pagerduty,
        }


def test_no_secret_in_anything_the_runs_leave_behind(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    receivers: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    stripe, mixpanel, zendesk = receivers["stripe"], receivers["mixpanel"], receivers["zendesk"]
    slack, pagerduty = receivers["slack"], receivers["pagerduty"]
    fx = tmp_path / "fx.csv"
    fx.write_text("day,currency,rate\n2024-11-01,EUR,1.08\n")
    home = tmp_path / "dagster_home"
    dagster_url = yaml.safe_load((home / "dagster.yaml").read_text())["storage"]["postgres"][
        "postgres_url"
    ]
    env = {
        "GROWTH_ENV": "live",
        "GROWTH_WAREHOUSE_URL": warehouse.url,
        "GROWTH_FX_RATES_CSV": str(fx),
        "GROWTH_REPORTS_DIR": str(tmp_path / "reports"),
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": dagster_url,
        "STRIPE_API_KEY": STRIPE_KEY,
        "STRIPE_API_BASE": stripe.url,
        "MIXPANEL_API_SECRET": MIXPANEL_SECRET,
        "MIXPANEL_EXPORT_BASE": f"{mixpanel.url}/api",
        "MIXPANEL_REQUESTS_PER_HOUR": "0",
        "ZENDESK_EMAIL": ZENDESK_EMAIL,
        "ZENDESK_API_TOKEN": ZENDESK_TOKEN,
        "ZENDESK_BASE_URL": zendesk.url,
        "ZENDESK_REQUESTS_PER_MINUTE": "0",
        "SLACK_WEBHOOK_URL": slack.webhook_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_CHANNEL": "#growth-alerts",
        "SLACK_API_BASE": slack.api_base,
        "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
        "PAGERDUTY_EVENTS_URL": pagerduty.events_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    wanted = needles(slack.webhook_url)

    # 1. The pipeline over one day, every source through its real client.
    resources = build_resources()
    _, checks = materialize_days(DAY, DAY, resources, dagster_instance)
    assert [c for c in checks if not c.passed and c.severity == "ERROR"] == []
    with warehouse.engine.connect() as conn:
        loaded = dict(
            conn.execute(sa.text("SELECT source, count(*) FROM growth.events GROUP BY 1")).all()
        )
    assert set(loaded) == {"stripe", "mixpanel", "zendesk"}, loaded
    report = materialize(
        [*ASSETS, *REPORT_ASSETS],
        selection=[WEEKLY_REPORT_KEY],
        resources=resources,
        instance=dagster_instance,
        partition_key="2024-11-04",
        run_config=QUIET,
        raise_on_error=False,
    )
    assert report.success
    assert list((tmp_path / "reports").rglob("report.html"))

    # 2. The APIs refuse revoked credentials: one failed step per source.
    monkeypatch.setenv("STRIPE_API_KEY", STRIPE_REVOKED)
    monkeypatch.setenv("MIXPANEL_API_SECRET", MIXPANEL_WRONG)
    monkeypatch.setenv("ZENDESK_API_TOKEN", ZENDESK_WRONG)
    failing = [
        ([AssetKey(["raw", "stripe_charges"])], DAY.isoformat()),
        ([AssetKey(["raw", "mixpanel_events"])], f"{DAY}-10:00"),
        ([AssetKey(["raw", "zendesk_tickets"])], f"{DAY}-11:00"),
    ]
    failed_runs = []
    for selection, partition in failing:
        result = materialize(
            ASSETS,
            selection=selection,
            resources=build_resources(),
            instance=dagster_instance,
            partition_key=partition,
            run_config=QUIET,
            raise_on_error=False,
        )
        failures = [e for e in result.all_events if e.is_step_failure]
        assert not result.success and len(failures) == 1, selection
        error = failures[0].step_failure_data.error
        assert error is not None and "CredentialsError" in error.to_string(), error
        failed_runs.append(result)
    for name in ("STRIPE_API_KEY", "MIXPANEL_API_SECRET", "ZENDESK_API_TOKEN"):
        monkeypatch.setenv(name, env[name])

    # 3. The outbox, Slack through the Web API (bot token): one anomaly, delivered to Slack,
    # refused by PagerDuty (a routing key it does not know).
    monkeypatch.delenv("SLACK_WEBHOOK_URL")
    days = seed(warehouse, [*noisy(30), 50])
    landed(dagster_instance, *days)
    channels = build_resources()["alert_channels"]
    context = build_sensor_context(
        instance=dagster_instance,
        cursor=None,
        resources={"warehouse": warehouse, "alert_channels": channels},
    )
    tick = metric_alerts(context)
    assert "1 new alert(s)" in str(tick.skip_message), tick
    assert [r.path for r in slack.requests] == ["/api/chat.postMessage"]
    assert [r.answered for r in pagerduty.requests] == [400]
    with warehouse.engine.connect() as conn:
        last_error = conn.execute(sa.text("SELECT last_error FROM ops.alerts")).scalar_one()
    assert last_error and "pagerduty" in last_error
    # ... and a failed run posted through the incoming webhook.
    monkeypatch.setenv("SLACK_WEBHOOK_URL", env["SLACK_WEBHOOK_URL"])
    failure_sensor = build_failure_sensor(default_status=DefaultSensorStatus.RUNNING)
    failure_sensor(
        build_run_status_sensor_context(
            sensor_name=SENSOR_NAME,
            dagster_instance=dagster_instance,
            dagster_run=failed_runs[0].dagster_run,
            dagster_event=failed_runs[0].get_run_failure_event(),
        ).for_run_failure()
    )
    assert [r.path for r in slack.requests][1:] == [WEBHOOK_PATH]
    assert len(slack.texts()) == 2

    # 4. The doctor.
    doctor: list[str] = []
    assert run_doctor(doctor.append, doctor.append) == 0, doctor
    doctor_text = "\n".join(doctor)
    assert "stripe" in doctor_text and "alerts:" in doctor_text

    # The requests carried the secrets: the search would find them where they are.
    assert any(r.authorized for r in stripe.requests)
    assert any(s.authorised for s in mixpanel.seen) and any(s.authorised for s in zendesk.seen)

    # -- the search ----------------------------------------------------------------------
    corpus: list[tuple[str, str]] = []
    corpus += [(f"dagster table {t}", text) for t, text in table_texts(dagster_url)]
    runs = dagster_instance.get_runs()
    assert len(runs) == 8  # four of the pipeline, the report, three failed
    for run in runs:
        corpus.append((f"run {run.run_id} (config, tags)", serialize_value(run)))
        records = dagster_instance.all_logs(run.run_id)
        corpus.append((f"event log of run {run.run_id}", serialize_value(records)))
    schemas = ["raw", "growth", "ops", "analytics"]
    corpus += [(f"warehouse table {t}", text) for t, text in table_texts(warehouse.url, schemas)]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    corpus += [(f"file {p}", p.read_bytes().decode(errors="replace")) for p in files]
    corpus.append(("the doctor's output", doctor_text))
    out, err = capfd.readouterr()
    corpus += [("stdout", out), ("stderr", err), ("log records", caplog.text)]
    corpus.append(("log record arguments", repr([r.args for r in caplog.records])))
    found = [leak for where, text in corpus for leak in leaks(where, text, wanted)]
    assert found == []

    # The search reads real material: what the runs and the tick wrote is where it looks.
    def holds(prefix: str, text: str) -> bool:
        return any(w.startswith(prefix) and text in t for w, t in corpus)

    assert holds("dagster table", "check STRIPE_API_KEY")  # the step failure, recorded
    assert holds("dagster table", "check ZENDESK_EMAIL / ZENDESK_API_TOKEN")
    assert holds("event log of run", "growth.events[zendesk]")
    assert holds("warehouse table ops.alerts", "pagerduty")
    assert holds("warehouse table raw.zendesk_tickets", "ticket 1000")
    assert holds("log records", "Invalid API Key provided")  # Stripe's 401, redacted by it
    assert holds("stderr", "growth.events[stripe]")
