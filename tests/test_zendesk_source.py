"""Zendesk through zenpy against a local cursor-export receiver, into the warehouse.

Real HTTP, the real library, a real warehouse: cursors are saved with the rows, a run that
fails mid-stream leaves nothing behind and its re-run loads exactly what a clean run loads,
re-runs change nothing, malformed tickets are rejected with reasons, and the token never shows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import AssetKey, DagsterInstance, materialize

from growth_assets.models.events import NORMALISE_ASSETS
from growth_assets.sources.assets import INGEST_ASSETS
from resources import retries
from resources.settings import ModelSettings
from resources.warehouse import Warehouse
from resources.zendesk_api import ZendeskApiClient
from tests.receivers.zendesk_api import EXPORT_PATH, ZendeskReceiver

EMAIL = "agent@example.com"
TOKEN = "zd-token-93c1b2aa"  # a test value that must never show anywhere
RAW = AssetKey(["raw", "zendesk_tickets"])
INGEST = next(a for a in INGEST_ASSETS if a.key == RAW)
NORMALISE = next(a for a in NORMALISE_ASSETS if a.key == AssetKey(["growth", "events", "zendesk"]))
BASE = datetime(2024, 11, 5, tzinfo=UTC)
HOURS = [f"2024-11-05-{h:02d}:00" for h in range(10, 14)]


def iso(hour: int, minute: int) -> str:
    return (BASE + timedelta(hours=hour, minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")


def ticket(n: int, hour: int, minute: int, solved: bool = False) -> dict[str, Any]:
    created = iso(hour, max(0, minute - 5))
    body: dict[str, Any] = {
        "id": n,
        "subject": f"ticket {n}",
        "status": "solved" if solved else "open",
        "created_at": created,
        "updated_at": iso(hour, minute),
        "custom_fields": [{"id": 360001, "value": "atlas"}, {"id": 360002, "value": f"u{n}"}],
        "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
        "tags": ["billing"],
    }
    if solved:
        body["metric_set"] = {"solved_at": iso(hour, minute)}
    return body


def tickets() -> list[dict[str, Any]]:
    """Three hours of tickets (10:00-13:00), four an hour, every third one solved."""
    return [
        ticket(100 * h + i, h, i * 14, solved=i % 3 == 2) for h in range(10, 13) for i in range(4)
    ]


def client_for(receiver: ZendeskReceiver, **overrides: Any) -> ZendeskApiClient:
    options: dict[str, Any] = {
        "email": EMAIL,
        "api_token": TOKEN,
        "base_url": receiver.url,
        "requests_per_minute": 0,
        "per_page": 3,
        "timeout_seconds": 1.0,
        "retry_attempts": 4,
        "retry_initial_seconds": 0.01,
        "retry_max_seconds": 0.05,
        "retry_jitter_seconds": 0.0,
    }
    options.update(overrides)
    return ZendeskApiClient(**options)


@pytest.fixture
def receiver() -> Iterator[ZendeskReceiver]:
    rec = ZendeskReceiver(EMAIL, TOKEN, tickets())
    with rec.running():
        yield rec


def run(
    receiver: ZendeskReceiver,
    warehouse: Warehouse,
    partition: str,
    instance: DagsterInstance | None = None,
    **overrides: Any,
) -> Any:
    return materialize(
        [INGEST],
        resources={"warehouse": warehouse, "zendesk": client_for(receiver, **overrides)},
        partition_key=partition,
        instance=instance,
        raise_on_error=False,
    )


def metadata_of(result: Any) -> dict[str, Any]:
    (mat,) = result.asset_materializations_for_node(INGEST.node_def.name)
    return {k: getattr(v, "value", v) for k, v in mat.metadata.items()}


def raw_rows(warehouse: Warehouse) -> dict[str, Any]:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, occurred_at, payload FROM raw.zendesk_tickets"))
        return {r.id: (r.occurred_at, r.payload) for r in rows}


def saved_cursor(warehouse: Warehouse) -> tuple[str, datetime] | None:
    with warehouse.engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT cursor, position_at FROM ops.source_cursors "
                "WHERE source = 'zendesk' AND stream = 'tickets'"
            )
        ).first()
    return None if row is None else (row.cursor, row.position_at)


def load_hours(receiver: ZendeskReceiver, warehouse: Warehouse, **overrides: Any) -> list[Any]:
    results = [run(receiver, warehouse, hour, **overrides) for hour in HOURS]
    assert all(r.success for r in results)
    return results


def test_hourly_partitions_page_and_resume_from_the_saved_cursor(
    receiver: ZendeskReceiver, warehouse: Warehouse
) -> None:
    results = load_hours(receiver, warehouse)
    rows = raw_rows(warehouse)
    assert sorted(rows) == sorted(str(t["id"]) for t in tickets())
    first, second = metadata_of(results[0]), metadata_of(results[1])
    assert first["cursor_before"] == "none"
    assert "start_time" in first["cursor_started_from"]
    assert first["api_pages"] == 2  # 3 + 3 tickets: the second page crosses 11:00
    assert first["rows_in_window"] == 4
    assert second["cursor_before"] == first["cursor_after"]
    assert "cursor at 2024-11-05T10:" in second["cursor_started_from"]
    cursor = saved_cursor(warehouse)
    assert cursor is not None and cursor[1] == BASE + timedelta(hours=12, minutes=42)
    # the payload is the API's JSON, not zenpy's object model ("from", not "from_")
    assert rows["1000"][1]["via"]["source"]["from"] == {}
    assert "assignee_id" not in rows["1000"][1]


def test_rerunning_a_partition_changes_nothing(
    receiver: ZendeskReceiver, warehouse: Warehouse
) -> None:
    load_hours(receiver, warehouse)
    before, cursor = raw_rows(warehouse), saved_cursor(warehouse)
    again = metadata_of(run(receiver, warehouse, HOURS[1]))
    assert (again["rows_inserted"], again["rows_updated"]) == (0, 0)
    assert "start_time" in again["cursor_started_from"]  # the cursor is past this window
    assert raw_rows(warehouse) == before
    assert saved_cursor(warehouse) == cursor  # an old window never rewinds the cursor


def test_failure_mid_stream_leaves_nothing_and_the_rerun_matches_a_clean_load(
    receiver: ZendeskReceiver, warehouse: Warehouse, plain_warehouse: Warehouse
) -> None:
    clean = ZendeskReceiver(EMAIL, TOKEN, tickets())
    with clean.running():
        load_hours(clean, plain_warehouse)
    expected = raw_rows(plain_warehouse)

    assert run(receiver, warehouse, HOURS[0]).success
    cursor = saved_cursor(warehouse)
    rows_before = raw_rows(warehouse)
    # the second hour's second page fails past every retry: the run fails mid-stream
    cursor_requests = [0]

    def second_cursor_page(seen: Any) -> bool:
        if "cursor" not in seen.query:
            return False
        cursor_requests[0] += 1
        return cursor_requests[0] >= 2

    receiver.fail("status", status=500, when=second_cursor_page, times=100)
    failed = run(receiver, warehouse, HOURS[1], retry_attempts=2)
    assert not failed.success
    assert cursor_requests[0] == 3  # one page read, then two failed attempts
    assert raw_rows(warehouse) == rows_before  # nothing of the failed window committed
    assert saved_cursor(warehouse) == cursor  # and the cursor did not move
    receiver.faults.clear()
    for hour in HOURS[1:]:
        assert run(receiver, warehouse, hour).success
    assert raw_rows(warehouse) == expected


def test_tickets_updated_later_move_to_their_new_hour(
    receiver: ZendeskReceiver, warehouse: Warehouse
) -> None:
    run(receiver, warehouse, HOURS[0])
    receiver.upsert(ticket(1001, 12, 50, solved=True))  # ticket 1001 solved at 12:50
    for hour in HOURS[1:]:
        assert run(receiver, warehouse, hour).success
    occurred, payload = raw_rows(warehouse)["1001"]
    assert occurred == BASE + timedelta(hours=12, minutes=50)
    assert payload["status"] == "solved"
    assert len(raw_rows(warehouse)) == 12


@pytest.mark.parametrize(
    ("fault", "options"),
    [
        ("status", {"status": 429, "retry_after": "0.2"}),
        ("status", {"status": 500}),
        ("status", {"status": 502}),
        ("slow", {"seconds": 2.0}),
        ("short", {}),
        ("cut", {}),
    ],
)
def test_faults_mid_stream_are_retried(
    receiver: ZendeskReceiver, warehouse: Warehouse, fault: Any, options: Any
) -> None:
    receiver.fail(fault, when=lambda s: "cursor" in s.query, **options)
    result = run(receiver, warehouse, HOURS[0])
    assert result.success
    meta = metadata_of(result)
    assert (meta["api_pages"], meta["api_retries"], meta["api_requests"]) == (2, 1, 3)
    if options.get("retry_after"):
        assert meta["api_retry_wait_seconds"] >= 0.2
    assert len(raw_rows(warehouse)) == 4


def test_malformed_tickets_are_rejected_with_reasons(
    receiver: ZendeskReceiver, warehouse: Warehouse
) -> None:
    no_id = ticket(0, 10, 20)
    del no_id["id"]
    bad_time = ticket(900, 10, 25)
    bad_time["updated_at"] = "yesterday-ish"
    receiver.upsert(no_id)
    receiver.upsert(bad_time)
    result = run(receiver, warehouse, HOURS[0], per_page=100)
    meta = metadata_of(result)
    assert meta["rows_rejected"] == 2
    assert meta["reject_reasons"] == {"missing id": 1, "bad timestamp": 1}
    with warehouse.engine.connect() as conn:
        reasons = sorted(
            conn.execute(
                sa.text("SELECT reason FROM ops.rejected_events WHERE source = 'zendesk'")
            ).scalars()
        )
    assert reasons[0].startswith("bad timestamp (updated_at)")
    assert reasons[1] == "missing id (id)"


def test_raw_to_canonical_support_events(receiver: ZendeskReceiver, warehouse: Warehouse) -> None:
    settings = ModelSettings(zendesk_product_field_id=360001, zendesk_user_field_id=360002)
    for hour in HOURS:
        result = materialize(
            [INGEST, NORMALISE],
            resources={
                "warehouse": warehouse,
                "zendesk": client_for(receiver),
                "settings": settings,
            },
            partition_key=hour,
        )
        assert result.success
    with warehouse.engine.connect() as conn:
        counts = dict(
            conn.execute(
                sa.text(
                    "SELECT event_type, count(*) FROM growth.events WHERE source = 'zendesk' "
                    "GROUP BY event_type"
                )
            ).all()
        )
    assert counts == {"support_ticket_created": 12, "support_ticket_solved": 3}


def test_bad_token_names_the_variables_never_the_token(
    receiver: ZendeskReceiver, warehouse: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "zd-wrong-token-4410"
    client = client_for(receiver, api_token=wrong)
    with pytest.raises(retries.CredentialsError) as info:
        list(client.fetch("tickets", BASE, BASE + timedelta(hours=1)))
    assert "ZENDESK_API_TOKEN" in str(info.value) and "zendesk" in str(info.value)
    assert len(receiver.seen) == 1  # never retried

    instance = DagsterInstance.ephemeral()
    failed = run(receiver, warehouse, HOURS[0], instance=instance, api_token=wrong)
    good = run(receiver, warehouse, HOURS[0], instance=instance)
    assert not failed.success and good.success
    logs = "\n".join(
        str(e.user_message) + str(e.dagster_event)
        for r in (failed, good)
        for e in instance.all_logs(r.run_id)
    )
    assert "ZENDESK_API_TOKEN" in logs  # the failure says what to fix
    for secret in (wrong, TOKEN):
        assert secret not in logs and secret not in caplog.text
        assert secret not in repr(metadata_of(good))
        assert secret not in str(info.value) and secret not in repr(client)
    assert all(s.path == EXPORT_PATH for s in receiver.seen)


def test_from_env(receiver: ZendeskReceiver) -> None:
    with pytest.raises(ValueError, match=r"ZENDESK_SUBDOMAIN.*ZENDESK_EMAIL.*ZENDESK_API_TOKEN"):
        ZendeskApiClient.from_env({})
    client = ZendeskApiClient.from_env(
        {
            "ZENDESK_BASE_URL": receiver.url,
            "ZENDESK_EMAIL": EMAIL,
            "ZENDESK_API_TOKEN": TOKEN,
            "ZENDESK_REQUESTS_PER_MINUTE": "0",
        }
    )
    assert len(list(client.fetch("tickets", BASE, BASE + timedelta(days=1)))) == 12
    assert TOKEN not in str(client.describe())
    with pytest.raises(ValueError, match="host contains a dot"):
        ZendeskApiClient(email=EMAIL, api_token=TOKEN, base_url="http://localhost:80")
