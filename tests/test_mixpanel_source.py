"""Mixpanel through mixpanel-utils against a local Raw Export receiver, into the warehouse.

Real HTTP, the real library, a real warehouse: the day is requested once however many hours
read it, faults are retried, malformed lines are rejected with reasons, re-runs change
nothing, and the secret never shows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import AssetKey, DagsterInstance, materialize

from growth_assets.models.events import NORMALISE_ASSETS
from growth_assets.sources.assets import INGEST_ASSETS
from resources import retries
from resources.mixpanel_api import MixpanelApiClient, parse_export
from resources.settings import (
    DEFAULT_MIXPANEL_EVENTS,
    SettingsError,
    load_event_map,
    model_settings_from_env,
)
from resources.warehouse import Warehouse
from tests.receivers.mixpanel_api import MixpanelReceiver

SECRET = "mp-secret-7d1f0c9e"
DAY = date(2024, 11, 5)
RAW = AssetKey(["raw", "mixpanel_events"])
INGEST = next(a for a in INGEST_ASSETS if a.key == RAW)
NORMALISE = next(a for a in NORMALISE_ASSETS if a.key == AssetKey(["growth", "events", "mixpanel"]))
RANGE = {
    "dagster/asset_partition_range_start": f"{DAY}-00:00",
    "dagster/asset_partition_range_end": f"{DAY}-23:00",
}
NAMES = ["Sign Up", "Session Started", "Feature Used", "Activated"]


def at(hour: int, minute: int = 0, day: date = DAY) -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).timestamp())


def event(n: int, when: int, insert_id: str | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"time": when, "distinct_id": f"u{n % 7}", "product_id": "atlas"}
    props["$insert_id"] = insert_id if insert_id is not None else f"ins-{n}"
    return {"event": NAMES[n % len(NAMES)], "properties": props}


def day_events() -> list[dict[str, Any]]:
    """Two events an hour on DAY, one repeated by Mixpanel, plus the evening before and after."""
    events = [event(h * 2 + m, at(h, m * 30)) for h in range(24) for m in range(2)]
    events.append(event(5, at(2, 30)))  # a duplicate of ins-5: the same $insert_id
    events.append(event(100, at(23, 0, DAY - timedelta(days=1))))
    events.append(event(101, at(0, 0, DAY + timedelta(days=1))))
    return events


def client_for(receiver: MixpanelReceiver, **overrides: Any) -> MixpanelApiClient:
    options: dict[str, Any] = {
        "api_secret": SECRET,
        "export_base": f"{receiver.url}/api",
        "requests_per_hour": 0,
        "timeout_seconds": 2.0,
        "retry_attempts": 5,
        "retry_initial_seconds": 0.01,
        "retry_max_seconds": 0.05,
        "retry_jitter_seconds": 0.0,
    }
    options.update(overrides)
    return MixpanelApiClient(**options)


@pytest.fixture
def receiver() -> Iterator[MixpanelReceiver]:
    rec = MixpanelReceiver(SECRET, day_events())
    rec.extra_lines[DAY] = ['{"event": "Sign Up", "properties": {"time": 17307', "[1, 2]"]
    with rec.running():
        yield rec


def raw_rows(warehouse: Warehouse) -> dict[str, Any]:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, payload FROM raw.mixpanel_events ORDER BY id"))
        return {r.id: r.payload for r in rows}


def rejects(warehouse: Warehouse) -> list[tuple[str, str]]:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT stage, reason FROM ops.rejected_events WHERE source = 'mixpanel' "
                "ORDER BY reason"
            )
        )
        return [(r.stage, r.reason) for r in rows]


def metadata_of(result: Any) -> dict[str, Any]:
    mat = result.asset_materializations_for_node(INGEST.node_def.name)[0]  # one per hour
    return {k: getattr(v, "value", v) for k, v in mat.metadata.items()}


def test_24_hourly_fetches_request_the_day_once(receiver: MixpanelReceiver) -> None:
    client = client_for(receiver)
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    per_hour = [
        list(client.fetch("events", start + timedelta(hours=h), start + timedelta(hours=h + 1)))
        for h in range(24)
    ]
    assert receiver.exports() == [(str(DAY), str(DAY))]
    timed = [[e for e in hour if "_malformed" not in e] for hour in per_hour]
    assert [len(h) for h in timed] == [2, 2, 3, *([2] * 21)]  # hour 2 holds the duplicate
    for h, hour in enumerate(timed):
        assert all(at(h) <= e["properties"]["time"] < at(h) + 3600 for e in hour)
    malformed = [e for hour in per_hour for e in hour if "_malformed" in e]
    assert len(malformed) == 2  # passed on once in the run, not once per hour
    assert client.stats("events")["api_requests"] == 1


def test_a_single_hour_requests_its_day_once(receiver: MixpanelReceiver) -> None:
    client = client_for(receiver)
    start = datetime(DAY.year, DAY.month, DAY.day, 7, tzinfo=UTC)
    events = list(client.fetch("events", start, start + timedelta(hours=1)))
    assert len(events) == 4  # the hour's two events and the day's two malformed lines
    assert receiver.exports() == [(str(DAY), str(DAY))]


def test_backfill_loads_dedupes_rejects_and_reruns_change_nothing(
    receiver: MixpanelReceiver, warehouse: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    instance = DagsterInstance.ephemeral()
    first = materialize(
        [INGEST],
        resources={"warehouse": warehouse, "mixpanel": client_for(receiver)},
        instance=instance,
        tags=RANGE,
    )
    assert receiver.exports() == [(str(DAY), str(DAY))]  # 24 partitions, one request
    rows = raw_rows(warehouse)
    assert len(rows) == 48  # 48 distinct $insert_id; the repeat is deduplicated
    meta = metadata_of(first)
    assert meta["rows_rejected"] == 2
    assert meta["reject_reasons"] == {"malformed record": 2}
    assert meta["api_requests"] == 1 and meta["api_retries"] == 0
    assert meta["api_days_requested"] == str(DAY)
    reasons = rejects(warehouse)
    assert len(reasons) == 2
    assert all(stage == "ingest" and "malformed record" in r for stage, r in reasons)
    assert any("invalid JSON" in r for _, r in reasons)
    assert any("not a JSON object" in r for _, r in reasons)

    second = materialize(
        [INGEST],
        resources={"warehouse": warehouse, "mixpanel": client_for(receiver)},
        instance=instance,
        tags=RANGE,
    )
    again = metadata_of(second)
    assert (again["rows_inserted"], again["rows_updated"]) == (0, 0)
    assert raw_rows(warehouse) == rows
    assert len(rejects(warehouse)) == 2

    logs = "\n".join(
        str(e.user_message) + str(e.dagster_event)
        for run in (first, second)
        for e in instance.all_logs(run.run_id)
    )
    assert SECRET not in logs and SECRET not in caplog.text
    assert SECRET not in repr(meta) and SECRET not in repr(again)


def test_raw_to_canonical_through_the_receiver(
    receiver: MixpanelReceiver, warehouse: Warehouse
) -> None:
    from resources.settings import ModelSettings

    result = materialize(
        [INGEST, NORMALISE],
        resources={
            "warehouse": warehouse,
            "mixpanel": client_for(receiver),
            "settings": ModelSettings(),
        },
        tags=RANGE,
    )
    assert result.success
    with warehouse.engine.connect() as conn:
        counts = dict(
            conn.execute(
                sa.text(
                    "SELECT event_type, count(*) FROM growth.events WHERE source = 'mixpanel' "
                    "GROUP BY event_type"
                )
            ).all()
        )
    assert sum(counts.values()) == 48
    assert set(counts) == {"signup", "engagement", "activation"}


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("status", {"status": 429, "retry_after": "0.2"}),
        ("status", {"status": 500}),
        ("status", {"status": 503}),
        ("slow", {"seconds": 2.5}),
        ("short", {}),
        ("cut", {}),
    ],
)
def test_faults_are_retried(receiver: MixpanelReceiver, fault: Any, options: Any) -> None:
    receiver.fail(fault, **options)
    client = client_for(receiver, timeout_seconds=1.0)
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    events = list(client.fetch("events", start, start + timedelta(days=1)))
    assert len([e for e in events if "_malformed" not in e]) == 49
    stats = client.stats("events")
    assert (stats["api_requests"], stats["api_retries"]) == (2, 1)
    if options.get("retry_after"):
        assert stats["api_retry_wait_seconds"] >= 0.2


def test_persistent_failure_gives_up_without_loading(
    receiver: MixpanelReceiver, warehouse: Warehouse
) -> None:
    receiver.fail("status", status=500, times=100)
    result = materialize(
        [INGEST],
        resources={"warehouse": warehouse, "mixpanel": client_for(receiver, retry_attempts=3)},
        tags=RANGE,
        raise_on_error=False,
    )
    assert not result.success
    assert len(receiver.seen) == 3
    assert raw_rows(warehouse) == {}


@pytest.mark.parametrize("service_account", [False, True])
def test_bad_credentials_name_the_variable_never_the_secret(
    receiver: MixpanelReceiver, service_account: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-secret-5512"
    extra = {"service_account_username": "sa.user", "project_id": "42"} if service_account else {}
    client = client_for(receiver, api_secret=wrong, **extra)
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    with pytest.raises(retries.CredentialsError) as info:
        list(client.fetch("events", start, start + timedelta(hours=1)))
    variable = "MIXPANEL_SERVICE_ACCOUNT_SECRET" if service_account else "MIXPANEL_API_SECRET"
    assert variable in str(info.value)
    assert len(receiver.seen) == 1  # never retried
    assert wrong not in str(info.value) and wrong not in caplog.text
    assert wrong not in repr(client) and wrong not in str(client.describe())


def test_service_account_authentication(receiver: MixpanelReceiver) -> None:
    service = MixpanelReceiver(SECRET, day_events(), service_account="sa.user", project_id="42")
    with service.running():
        client = MixpanelApiClient.from_env(
            {
                "MIXPANEL_SERVICE_ACCOUNT_USERNAME": "sa.user",
                "MIXPANEL_SERVICE_ACCOUNT_SECRET": SECRET,
                "MIXPANEL_PROJECT_ID": "42",
                "MIXPANEL_EXPORT_BASE": f"{service.url}/api",
                "MIXPANEL_REQUESTS_PER_HOUR": "0",
            }
        )
        start = datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=UTC)
        assert len(list(client.fetch("events", start, start + timedelta(hours=1)))) == 2
        assert service.seen[0].authorised and service.seen[0].query["project_id"] == "42"


def test_from_env_requires_a_secret() -> None:
    with pytest.raises(ValueError, match="MIXPANEL_API_SECRET is not set"):
        MixpanelApiClient.from_env({})
    with pytest.raises(ValueError, match="MIXPANEL_PROJECT_ID"):
        MixpanelApiClient.from_env(
            {"MIXPANEL_SERVICE_ACCOUNT_USERNAME": "u", "MIXPANEL_SERVICE_ACCOUNT_SECRET": "s"}
        )


def test_parse_export_tells_truncation_from_malformed_lines() -> None:
    good = b'{"event": "a", "properties": {"time": 1}}\n'
    assert parse_export(good + good, DAY) == [{"event": "a", "properties": {"time": 1}}] * 2
    assert parse_export(good + good.rstrip(b"\n"), DAY)[1]["event"] == "a"  # complete last line
    with pytest.raises(retries.TransientError, match="truncated"):
        parse_export(good + b'{"event": "a", "prop', DAY)
    (bad,) = [e for e in parse_export(b'{"event": "a", "prop\n' + good, DAY) if "_malformed" in e]
    assert "line 1" in bad["_malformed_reason"]


def test_event_map_from_environment(tmp_path: Path) -> None:
    assert model_settings_from_env({}).mixpanel_events == DEFAULT_MIXPANEL_EVENTS
    as_json = model_settings_from_env({"GROWTH_MIXPANEL_EVENT_MAP": '{"Signed Up": "signup"}'})
    assert as_json.mixpanel_events == {"Signed Up": "signup"}
    toml = tmp_path / "events.toml"
    toml.write_text('[mixpanel_events]\n"Signed Up" = "signup"\n"Opened" = "engagement"\n')
    assert load_event_map(str(toml)) == {"Signed Up": "signup", "Opened": "engagement"}
    as_file = tmp_path / "events.json"
    as_file.write_text('{"Opened": "engagement"}')
    assert load_event_map(str(as_file)) == {"Opened": "engagement"}
    with pytest.raises(SettingsError, match=r"unknown event types.*'revenue'"):
        load_event_map('{"Paid": "revenue"}')
    with pytest.raises(SettingsError, match="not valid JSON"):
        load_event_map('{"Paid": ')
    with pytest.raises(SettingsError, match="no such file"):
        load_event_map(str(tmp_path / "missing.json"))
    fields = model_settings_from_env(
        {"GROWTH_ZENDESK_PRODUCT_FIELD_ID": "11", "GROWTH_ZENDESK_USER_FIELD_ID": "12"}
    )
    assert (fields.zendesk_product_field_id, fields.zendesk_user_field_id) == (11, 12)
    with pytest.raises(SettingsError, match="GROWTH_ZENDESK_USER_FIELD_ID"):
        model_settings_from_env({"GROWTH_ZENDESK_USER_FIELD_ID": "abc"})
