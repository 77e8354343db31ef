"""Hostile values end to end: quotes, semicolons, SQL fragments, markup, 10,000-character
strings, NUL characters and bytes that are not UTF-8, from a source (the Mixpanel export over
real HTTP) and from configuration (the event-name map), through ingestion, normalisation,
the models, a board report and the alert outbox (Slack and PagerDuty receivers).

Nothing may be executed or break: every table is still there afterwards, the counts add up
(each record is stored or rejected with a reason, none lost), the values are stored
verbatim, the report's HTML escapes them and the alert payloads carry them as JSON strings,
with Slack's control characters escaped.
"""

from __future__ import annotations

import json
import random
import string
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dagster import DagsterInstance, build_sensor_context

from growth_assets.alerts.deliver import AlertChannels
from growth_assets.alerts.sensors import metric_alerts
from growth_assets.backfill import materialize_days
from growth_assets.reports.assets import build_report
from growth_assets.reports.periods import Period
from growth_assets.reports.settings import ReportSettings
from resources.fx import CsvFxRates
from resources.mixpanel_api import MixpanelApiClient
from resources.settings import DEFAULT_MIXPANEL_EVENTS, ModelSettings
from resources.warehouse import Warehouse
from tests.alerts_helpers import landed, noisy, seed
from tests.receivers import Reply, Seen
from tests.receivers.mixpanel_api import MixpanelReceiver
from tests.receivers.pagerduty_api import ROUTING_KEY, PagerDutyReceiver
from tests.receivers.slack_api import SlackReceiver
from tests.sources import static

DAY = date(2024, 11, 5)
SECRET = "hostile-mp-secret-1"
SQL = "'; DROP TABLE growth.events; --"
MARKUP = "<script>alert('x')</script> <!channel> & \"q\""
# Not compressible: a long value must fit the indexes as it is, not thanks to TOAST.
LONG = "".join(random.Random(11).choices(string.ascii_letters + string.digits, k=10_000))
HOSTILE_EVENT = "Session'; DELETE FROM growth.users; --"
PRODUCTS = [SQL, MARKUP, "atlas"]


def at(hour: int, minute: int = 0) -> int:
    return int(datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC).timestamp())


def event(n: int, name: str, product: str, user: str, **extra: Any) -> dict[str, Any]:
    props = {"time": at(n % 24, n % 60), "distinct_id": user, "product_id": product}
    return {"event": name, "properties": {**props, "$insert_id": f"h-{n}", **extra}}


def hostile_events() -> list[dict[str, Any]]:
    events = []
    for i, product in enumerate(PRODUCTS):
        users = [f"o'brien\"; --{i}", f"{LONG}{i}", f"u{i};select 1"]
        for j, user in enumerate(users):
            n = 10 * i + j
            events.append(
                event(n, "Sign Up", product, user, note=SQL, markup=MARKUP, big=2**70 + n)
            )
            events.append(event(n + 100, HOSTILE_EVENT, product, user, long=LONG))
    events.append(event(200, "Sign Up", LONG, "long-product-user"))  # a 10k product id
    events.append(event(201, "Sign Up", "atlas", "nul-user", comment="a\u0000b"))
    events.append(event(202, "Sign Up", "at\u0000las", "nul-product"))
    long_id = event(203, "Sign Up", "atlas", "long-id-user")
    long_id["properties"]["$insert_id"] = LONG  # the raw table's key
    events.append(long_id)
    return events


class HostileMixpanel(MixpanelReceiver):
    """The export, plus a line whose bytes are not UTF-8 (as a broken proxy might send)."""

    BAD_BYTES = (
        b'{"event": "Sign Up", "properties": {"time": %d, "distinct_id": "bad-\xff\xfe", '
        b'"product_id": "atlas", "$insert_id": "h-bytes"}}\n'
    )

    def answer(self, seen: Seen) -> Reply:
        reply = super().answer(seen)
        if reply.status != 200:
            return reply
        return Reply(200, reply.body + self.BAD_BYTES % at(12), content_type=reply.content_type)


def relations(warehouse: Warehouse) -> list[str]:
    with warehouse.engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT n.nspname || '.' || c.relname FROM pg_class AS c "
                    "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                    "WHERE n.nspname IN ('raw', 'growth', 'ops', 'analytics') "
                    "AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1"
                )
            ).scalars()
        )


def test_hostile_values_are_stored_or_rejected_and_never_executed(
    warehouse: Warehouse, dagster_instance: DagsterInstance, tmp_path: Path
) -> None:
    before = relations(warehouse)
    sent = hostile_events()
    receiver = HostileMixpanel(SECRET, sent)
    fx = tmp_path / "fx.csv"
    fx.write_text("day,currency,rate\n2024-11-01,EUR,1.08\n")
    settings = ModelSettings(
        mixpanel_events={**DEFAULT_MIXPANEL_EVENTS, HOSTILE_EVENT: "engagement"}
    )
    with receiver.running():
        resources = {
            "warehouse": warehouse,
            "settings": settings,
            "fx_source": CsvFxRates(path=str(fx)),
            "stripe": static("stripe"),
            "zendesk": static("zendesk"),
            "mixpanel": MixpanelApiClient(
                api_secret=SECRET,
                export_base=f"{receiver.url}/api",
                requests_per_hour=0,
                retry_attempts=1,
            ),
        }
        _, checks = materialize_days(DAY, DAY, resources, dagster_instance)
    failed = [c for c in checks if not c.passed and c.severity == "ERROR"]
    assert failed == []  # the reconciliation checks included: raw = canonical + rejected

    assert relations(warehouse) == before
    with warehouse.engine.connect() as conn:
        raw = conn.execute(sa.text("SELECT count(*) FROM raw.mixpanel_events")).scalar_one()
        rejected = conn.execute(
            sa.text(
                "SELECT source_id, stage, reason, CAST(payload AS text) AS payload "
                "FROM ops.rejected_events "
                "WHERE source = 'mixpanel' ORDER BY source_id"
            )
        ).all()
        events = conn.execute(
            sa.text(
                "SELECT product_id, user_id, event_type, properties FROM growth.events "
                "WHERE source = 'mixpanel'"
            )
        ).all()
        users = conn.execute(sa.text("SELECT count(*) FROM growth.users")).scalar_one()
    # Every record is somewhere: loaded, or rejected with a reason.
    assert all(r.reason for r in rejected), rejected
    load_rejects = [r for r in rejected if r.stage == "ingest"]
    assert raw + len(load_rejects) == len(sent) + 1, (raw, rejected)
    assert len(events) + len(rejected) == len(sent) + 1, rejected
    # Stored verbatim; ids too long to be index keys rejected with the reason.
    products = {e.product_id for e in events}
    assert {SQL, MARKUP} <= products and LONG not in products
    user_ids = {e.user_id for e in events}
    assert "o'brien\"; --0" in user_ids and "u1;select 1" in user_ids
    assert sum(e.event_type == "engagement" for e in events) == 6  # the hostile event name
    assert any(e.properties.get("note") == SQL for e in events)
    assert any(e.properties.get("long") == LONG for e in events)
    assert any(e.properties.get("big") == 2**70 for e in events)  # beyond 64 bits, exact
    assert users >= 6  # growth.users was not emptied by the event name
    expected = {
        "product id longer than 200 bytes": 1,
        "user id longer than 1000 bytes": 6,
        "text PostgreSQL cannot store": 2,  # the NUL in a property, the NUL in a product id
        "malformed record": 1,  # the line that is not UTF-8
        "id (properties.$insert_id) longer than 1000 bytes": 1,
    }
    kinds = Counter(
        next((k for k in expected if r.reason.startswith(k)), r.reason) for r in rejected
    )
    assert kinds == expected, rejected
    # Nothing lost: the bytes and the NUL are kept as escapes in the rejected payloads.
    (not_utf8,) = [r for r in rejected if "not valid UTF-8" in r.reason]
    assert "bad-\\\\xff\\\\xfe" in not_utf8.payload
    assert any("a\\\\u0000b" in r.payload for r in rejected)

    # The report escapes every value; its exports hold them as data.
    report = build_report(
        warehouse,
        ReportSettings(output_dir=str(tmp_path / "reports"), pdf="off"),
        Period.of("week", date(2024, 11, 4)),
    )
    html = report["html_text"]
    assert "<script>alert" not in html and "<!channel>" not in html
    assert "&lt;script&gt;alert(" in html or "&lt;script&gt;alert(&#39;x&#39;)" in html

    # Alerts: the hostile products page; the payloads carry them as JSON strings.
    slack, pagerduty = SlackReceiver(), PagerDutyReceiver()
    for product in (SQL, MARKUP):
        days = seed(warehouse, [*noisy(30), 50], product=product)
    landed(dagster_instance, *days)
    with slack.running(), pagerduty.running():
        channels = AlertChannels(
            slack_webhook_url=slack.webhook_url,
            pagerduty_routing_key=ROUTING_KEY,
            pagerduty_events_url=pagerduty.events_url,
        )
        context = build_sensor_context(
            instance=dagster_instance,
            resources={"warehouse": warehouse, "alert_channels": channels},
        )
        tick = metric_alerts(context)
    assert "delivered 4, failed 0" in str(tick.skip_message), tick
    paged = {e["payload"]["group"] for e in pagerduty.events()}
    assert paged == {SQL, MARKUP}
    assert all(json.loads(json.dumps(e))["payload"]["custom_details"]["product"] in paged
               for e in pagerduty.events())  # fmt: skip
    texts = slack.texts()
    assert len(texts) == 2
    markup_text = next(t for t in texts if "script" in t)
    assert "<!channel>" not in markup_text and "<script>" not in markup_text
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &lt;!channel&gt; &amp; \"q\"" in markup_text
    assert any(SQL in t for t in texts)
    assert relations(warehouse) == before
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM growth.events")).scalar_one() == len(
            events
        )
