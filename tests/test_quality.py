"""Data quality: a corpus of bad inputs, each caught by the right check with the right severity,
quarantined where it is row-level and never dropped; blocking checks stop downstream in the
same run and become Slack alerts; every asset is checked and has a freshness policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from dagster import (
    AssetCheckEvaluation,
    AssetKey,
    DagsterInstance,
    ExecuteInProcessResult,
    build_run_status_sensor_context,
    materialize,
)

from growth_assets.alerts.deliver import AlertChannels
from growth_assets.alerts.sensors import check_alerts_on_failure
from growth_assets.definitions import ASSETS, build_definitions
from growth_assets.models.daily import USERS_KEY
from growth_assets.models.events import FX_RATES_KEY
from growth_assets.partitions import range_tags
from growth_assets.quality import expectations as gx_checks
from growth_assets.quality.freshness import DAILY as DAILY_POLICY
from growth_assets.quality.freshness import HOURLY as HOURLY_POLICY
from growth_assets.quality.sqlchecks import judge_volume
from growth_assets.sources.load import MALFORMED, MALFORMED_REASON
from growth_assets.sources.streams import streams_of
from resources.clients import SourceClient
from resources.fx import CsvFxRates
from resources.settings import ModelSettings
from resources.warehouse import Warehouse
from tests.alerts_helpers import alerts
from tests.receivers.slack_api import SlackReceiver
from tests.sources import static
from tests.test_alerts_sensor import Ticks

DAY = date(2024, 11, 5)
MIXPANEL_RAW = AssetKey(["raw", "mixpanel_events"])
MIXPANEL_EVENTS = AssetKey(["growth", "events", "mixpanel"])
CHARGES_RAW = AssetKey(["raw", "stripe_charges"])
STRIPE_RAW = [s.asset_key for s in streams_of("stripe")]
STRIPE_EVENTS = AssetKey(["growth", "events", "stripe"])


class Firehose(SourceClient):
    """Answers every fetch with all its records, whatever their time (as Mixpanel's export
    answers a whole day to an hourly partition): the load, not the client, must sort out
    future, ancient and malformed records."""

    source: str
    records_json: str

    def fetch(self, stream: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        yield from orjson.loads(self.records_json).get(stream, [])


def firehose(source: str, **streams: list[Any]) -> Firehose:
    return Firehose(source=source, records_json=orjson.dumps(streams).decode())


def ts(hour: int, minute: int = 0, day: date = DAY) -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).timestamp())


def mp(event: str, user: str | None, at: Any, insert_id: str) -> dict[str, Any]:
    props: dict[str, Any] = {"time": at, "product_id": "atlas", "$insert_id": insert_id}
    if user is not None:
        props["distinct_id"] = user
    return {"event": event, "properties": props}


def charge(cid: str, amount: Any, currency: str, at: int) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "charge",
        "amount": amount,
        "currency": currency,
        "created": at,
        "customer": "cus_u1",
        "status": "succeeded",
        "metadata": {"product_id": "atlas", "user_id": "u1"},
    }


def refund(rid: str, charge_id: str, amount: int, at: int) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "refund",
        "amount": amount,
        "currency": "usd",
        "charge": charge_id,
        "created": at,
        "status": "succeeded",
        "metadata": {},
    }


# The corpus: each bad record, and the stage and reason it must be quarantined with.
MIXPANEL = [
    mp("Sign Up", "u1", ts(10), "ok1"),
    mp("Sign Up", "u1", ts(10), "ok1"),  # duplicate id: merged, counted in the metadata
    mp("Session Started", None, ts(11), "no_user"),
    mp("Teleported", "u1", ts(12), "unknown_type"),
    mp("Session Started", "u1", 4102444800, "future"),  # 2100-01-01
    mp("Session Started", "u1", 978307200, "ancient"),  # 2001-01-01
    mp("Session Started", "u1", "yesterday", "wrong_type"),
    {MALFORMED: '{"event": "Sign Up", "propert', MALFORMED_REASON: "unterminated string"},
]
CHARGES = [
    charge("ch_ok", 2900, "usd", ts(10)),
    charge("ch_negative", -500, "usd", ts(11)),
    charge("ch_currency", 1000, "xyz", ts(12)),
    charge("ch_type", "12.50", "usd", ts(13)),
]
QUARANTINED = {
    ("mixpanel", "ingest", None): "malformed record: unterminated string",
    ("mixpanel", "ingest", "future"): "timestamp 2100-01-01T00:00:00+00:00 is in the future",
    ("mixpanel", "ingest", "ancient"): (
        "timestamp 2001-01-01T00:00:00+00:00 is before the product start 2024-11-01"
    ),
    ("mixpanel", "ingest", "wrong_type"): (
        "bad timestamp (properties.time): timestamp 'yesterday' is not epoch seconds"
    ),
    ("mixpanel", "normalise", "no_user"): "missing user id",
    ("mixpanel", "normalise", "unknown_type"): "unmapped source event 'Teleported'",
    ("stripe", "normalise", "ch_negative"): "negative amount",
    ("stripe", "normalise", "ch_currency"): "unknown currency 'XYZ'",
    ("stripe", "normalise", "ch_type"): "amount 12.50 is not a number (string)",
}


@pytest.fixture
def gx_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROWTH_QUALITY_GX", "on")


def base_resources(warehouse: Warehouse, tmp_path: Path, **clients: Any) -> dict[str, Any]:
    fx = tmp_path / "fx.csv"
    fx.write_text("day,currency,rate\n2024-11-01,EUR,1.08\n")
    return {
        "warehouse": warehouse,
        "settings": ModelSettings(),
        "fx_source": CsvFxRates(path=str(fx)),
        "mixpanel": static("mixpanel"),
        "stripe": static("stripe"),
        "zendesk": static("zendesk"),
        **clients,
    }


def run(
    resources: dict[str, Any],
    instance: DagsterInstance,
    selection: list[AssetKey],
    **kw: Any,
) -> ExecuteInProcessResult:
    return materialize(ASSETS, selection=selection, resources=resources, instance=instance, **kw)


def by_check(result: ExecuteInProcessResult) -> dict[tuple[str, str], AssetCheckEvaluation]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }


def value(ev: AssetCheckEvaluation, name: str) -> Any:
    return ev.metadata[name].value


def query(warehouse: Warehouse, sql: str, **params: Any) -> list[Any]:
    with warehouse.engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


def test_bad_inputs_are_caught_quarantined_and_never_dropped(
    warehouse: Warehouse, tmp_path: Path, gx_on: None
) -> None:
    resources = base_resources(
        warehouse,
        tmp_path,
        mixpanel=firehose("mixpanel", events=MIXPANEL),
        stripe=static("stripe", charges=CHARGES),
    )
    with DagsterInstance.ephemeral() as instance:
        run(resources, instance, [FX_RATES_KEY])
        hourly = run(
            resources,
            instance,
            [MIXPANEL_RAW, MIXPANEL_EVENTS],
            tags=range_tags(DAY, DAY, "hourly"),
        )
        daily = run(resources, instance, [*STRIPE_RAW, STRIPE_EVENTS], partition_key=str(DAY))
    checks = {**by_check(hourly), **by_check(daily)}

    # Row-level problems: quarantined with their reason, reported by WARN checks, blocking nothing.
    rejected = query(
        warehouse, "SELECT source, stage, source_id, reason, payload FROM ops.rejected_events"
    )
    assert {(r.source, r.stage, r.source_id): r.reason for r in rejected} == QUARANTINED
    assert all(r.payload is not None for r in rejected)
    for asset, stage in (
        ("raw/mixpanel_events", "ingest"),
        ("growth/events/mixpanel", "normalise"),
        ("growth/events/stripe", "normalise"),
    ):
        ev = checks[(asset, "quarantine")]
        assert (ev.passed, ev.severity.value) == (False, "WARN"), asset
        assert value(ev, "stage") == stage
    mixpanel_reasons = value(checks[("growth/events/mixpanel", "quarantine")], "reasons")
    assert mixpanel_reasons["events"]["missing user id"] == {"rows": 1, "sample": ["no_user"]}
    assert checks[("raw/stripe_charges", "quarantine")].passed

    # Every ERROR check passes: what was invalid went to quarantine, nothing else is wrong.
    failed = [k for k, ev in checks.items() if not ev.passed and ev.severity.value == "ERROR"]
    assert not failed, failed
    assert {ev.passed for ev in checks.values() if ev.check_name == "expectations"} == {True}
    loaded = checks[("raw/mixpanel_events", "loaded_completely")]
    assert value(loaded, "distinct_ids_loaded") == 3  # ok1 once, no_user, unknown_type

    # Nothing dropped: every record fetched is a raw row, a merged duplicate or an ingest reject,
    # and every candidate event is a canonical row or a normalise reject (raw = canonical + rejected).
    mats = [m for m in hourly.get_asset_materialization_events() if m.asset_key == MIXPANEL_RAW]
    assert len(mats) == 24  # one per hour of the range, each with the run's metadata
    meta = mats[0].materialization.metadata
    fetched, dupes = meta["rows_fetched"].value, meta["duplicates_in_batch"].value
    (raw_rows,) = query(warehouse, "SELECT count(*) AS n FROM raw.mixpanel_events")
    assert fetched == raw_rows.n + dupes + 4  # 4 ingest rejects
    for asset in ("growth/events/mixpanel", "growth/events/stripe"):
        streams = value(checks[(asset, "reconciled")], "streams")
        for counts in streams.values():
            assert counts["expected"] == counts["canonical"] + counts["rejected"], asset
    assert value(checks[("growth/events/stripe", "reconciled")], "streams")["charges"] == {
        "raw_rows": 4, "not_events": 0, "expected": 4, "canonical": 1, "rejected": 3,
    }  # fmt: skip

    # An empty partition without history is nothing to judge: volume passes, reports 0 rows.
    refunds_volume = checks[("raw/stripe_refunds", "volume")]
    assert refunds_volume.passed and value(refunds_volume, "rows") == 0

    # Every evaluation is in ops.quality_results, with its partition and severity.
    results = query(
        warehouse,
        "SELECT asset_key, check_name, partition, passed, severity, blocking, observed "
        "FROM ops.quality_results",
    )
    assert sorted((r.asset_key, r.check_name) for r in results) == sorted(
        [*checks, ("growth/fx_rates", "covers_history")]
    )  # one row per evaluation, fx_rates' from its own run
    recorded = {(r.asset_key, r.check_name): r for r in results}
    q = recorded[("growth/events/mixpanel", "quarantine")]
    assert (q.partition, q.passed, q.severity, q.blocking) == (
        "2024-11-05-00:00...2024-11-05-23:00", False, "WARN", False,
    )  # fmt: skip
    assert q.observed["rows_quarantined"] == 2
    e = recorded[("growth/events/stripe", "events_valid")]
    assert (e.partition, e.passed, e.severity, e.blocking) == ("2024-11-05", True, "ERROR", True)
    (card,) = query(
        warehouse,
        "SELECT evaluations, passed, failed_warn, pass_rate FROM analytics.quality_scorecard "
        "WHERE asset_key = 'growth/events/mixpanel'",
    )
    assert (card.evaluations, card.passed, card.failed_warn) == (4, 3, 1)
    assert float(card.pass_rate) == 0.75


def test_corrupt_canonical_rows_block_downstream_and_alert_slack(
    warehouse: Warehouse, dagster_instance: DagsterInstance, tmp_path: Path, gx_on: None
) -> None:
    """Rows that slipped past normalisation (written by hand, or by a bug) and a refund above
    its charge fail the ERROR checks of growth.events/stripe; the users model, downstream,
    does not run in the same run; the failed checks reach Slack through the check alerts."""
    resources = base_resources(
        warehouse,
        tmp_path,
        stripe=static(
            "stripe",
            charges=[charge("ch_1", 2900, "usd", ts(10))],
            refunds=[refund("re_1", "ch_1", 5000, ts(12))],  # refunds more than it charged
        ),
    )
    run(resources, dagster_instance, [FX_RATES_KEY])
    run(resources, dagster_instance, STRIPE_RAW, partition_key=str(DAY))
    with warehouse.transaction() as conn:  # another stream of the slice: kept by re-runs
        conn.execute(
            sa.text(
                "INSERT INTO growth.events (event_id, occurred_at, product_id, source, stream, "
                "source_id, event_type, user_id, value, currency, value_reporting) VALUES "
                "(CAST(md5('stripe:ch_1:revenue') AS uuid), '2024-11-05 11:00+00', 'atlas', "
                "'stripe', 'manual', 'ch_1', 'revenue', 'u1', 29, 'USD', 29), "  # ch_1's id again
                "(gen_random_uuid(), '2024-11-05 14:00+00', 'atlas', 'stripe', 'manual', 'm1', "
                "'revenue', 'u1', -3, 'USD', -3), "
                "(gen_random_uuid(), '2024-11-05 15:00+00', 'atlas', 'stripe', 'manual', 'm2', "
                "'revenue', 'u1', 3, 'XYZ', 3), "
                "(gen_random_uuid(), '2024-11-05 16:00+00', 'atlas', 'stripe', 'manual', 'm3', "
                "'teleport', 'u1', NULL, NULL, NULL)"
            )
        )
    result = run(
        resources,
        dagster_instance,
        [STRIPE_EVENTS, USERS_KEY],
        partition_key=str(DAY),
        raise_on_error=False,
    )
    assert not result.success
    checks = by_check(result)
    valid = checks[("growth/events/stripe", "events_valid")]
    assert (valid.passed, valid.severity.value, valid.blocking) == (False, "ERROR", True)
    assert valid.partition == str(DAY)
    problems = value(valid, "problems")
    assert set(problems) == {
        "duplicate_event_id",
        "negative_value",
        "unknown_currency",
        "unknown_event_type",
        "refund_above_charge",
    }
    assert problems["refund_above_charge"] == {"rows": 1, "sample": ["ch_1"]}
    gx = checks[("growth/events/stripe", "expectations")]
    assert (gx.passed, gx.severity.value) == (False, "ERROR")
    failing = {(f["expectation"], f["column"]): f for f in value(gx, "failed_expectations")}
    assert set(failing) == {
        ("expect_column_values_to_be_unique", "event_id"),
        ("expect_column_values_to_be_in_set", "event_type"),
        ("expect_column_values_to_be_in_set", "currency"),
        ("expect_column_values_to_be_between", "value"),
        ("expect_column_values_to_be_between", "value_reporting"),
    }
    assert failing[("expect_column_values_to_be_in_set", "currency")]["sample"] == ["XYZ"]
    assert failing[("expect_column_values_to_be_in_set", "event_type")]["unexpected_count"] == 1
    # Blocking: the failed ERROR checks stop users in the same run.
    materialized = {m.asset_key for m in result.get_asset_materialization_events()}
    assert materialized == {STRIPE_EVENTS}
    assert USERS_KEY not in {e.asset_key for e in result.get_asset_materialization_events()}

    # The failed run's ERROR checks become alerts, delivered to Slack.
    slack = SlackReceiver()
    with slack.running():
        channels = AlertChannels(
            slack_webhook_url=slack.webhook_url, dagster_ui_url="http://dagster.test:3000"
        )
        ctx = build_run_status_sensor_context(
            sensor_name="check_alerts_on_failure",
            dagster_event=result.get_run_failure_event(),
            dagster_instance=dagster_instance,
            dagster_run=result.dagster_run,
            resources={"warehouse": warehouse, "alert_channels": channels},
        )
        check_alerts_on_failure(ctx)
        assert {(a.kind, a.metric, a.period) for a in alerts(warehouse)} == {
            ("check", "growth/events/stripe:events_valid", str(DAY)),
            ("check", "growth/events/stripe:expectations", str(DAY)),
        }
        Ticks(dagster_instance, warehouse, channels).tick()
        texts = slack.texts()
    assert len(texts) == 2
    assert any("data-quality check failed: growth/events/stripe:events_valid" in t for t in texts)


def seed_busy_days(warehouse: Warehouse, first: date, days: int, per_day: int) -> None:
    """``per_day`` raw charges on each of ``days`` days from ``first`` (the volume baseline)."""
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO raw.stripe_charges (id, occurred_at, payload) "
                "SELECT 'seed_' || d::date || '_' || i, d + i * interval '30 seconds', "
                "jsonb_build_object('id', 'seed_' || i, 'status', 'failed') "
                "FROM generate_series(CAST(:first AS timestamptz), "
                "CAST(:first AS timestamptz) + (:days - 1) * interval '1 day', '1 day') AS d, "
                "generate_series(1, :per_day) AS i"
            ),
            {"first": datetime(first.year, first.month, first.day, tzinfo=UTC), "days": days,
             "per_day": per_day},
        )  # fmt: skip


def test_a_silent_source_on_a_busy_day_is_a_blocking_error(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """A day that normally has 1,500 charges comes back empty: the volume check fails as an
    ERROR and the normaliser downstream does not run in the same run. A merely low day is a
    warning that blocks nothing; a partition without history is not judged."""
    seed_busy_days(warehouse, date(2024, 11, 3), 7, 1500)  # 3..9 November
    silent = date(2024, 11, 10)
    resources = base_resources(warehouse, tmp_path)
    with DagsterInstance.ephemeral() as instance:
        run(resources, instance, [FX_RATES_KEY])
        result = run(
            resources,
            instance,
            [CHARGES_RAW, STRIPE_EVENTS],
            partition_key=str(silent),
            raise_on_error=False,
        )
        volume = by_check(result)[("raw/stripe_charges", "volume")]
        assert (volume.passed, volume.severity.value, volume.partition) == (
            False, "ERROR", str(silent),
        )  # fmt: skip
        (empty,) = value(volume, "empty_where_normally_busy")
        assert (empty["rows"], empty["median"]) == (0, 1500.0)
        assert not result.success
        assert {m.asset_key for m in result.get_asset_materialization_events()} == {CHARGES_RAW}

        low = [charge(f"ch_{i}", 100, "usd", ts(9, i, day=silent)) for i in range(50)]
        resources["stripe"] = static("stripe", charges=low)
        result = run(resources, instance, [CHARGES_RAW, STRIPE_EVENTS], partition_key=str(silent))
        volume = by_check(result)[("raw/stripe_charges", "volume")]
        assert (volume.passed, volume.severity.value) == (False, "WARN")
        assert value(volume, "outside_bounds")[0]["rows"] == 50
        assert STRIPE_EVENTS in {m.asset_key for m in result.get_asset_materialization_events()}
        zendesk = run(
            resources,
            instance,
            [AssetKey(["raw", "zendesk_tickets"])],
            partition_key=f"{silent}-09:00",
        )
    (quiet,) = [e for e in zendesk.get_asset_check_evaluations() if e.check_name == "volume"]
    assert quiet.passed and value(quiet, "rows") == 0


def test_volume_verdicts() -> None:
    class Row:
        def __init__(self, rows: int, median: float | None) -> None:
            self.bucket = datetime(2025, 1, 1, tzinfo=UTC)
            self.rows_in_partition, self.baseline_median = rows, median

    assert judge_volume([Row(0, 1000)], "daily").severity.value == "ERROR"
    assert not judge_volume([Row(0, 999)], "daily").passed  # a warning below "thousands"
    assert judge_volume([Row(0, 999)], "daily").severity.value == "WARN"
    assert judge_volume([Row(0, None)], "hourly").passed  # no history yet
    assert judge_volume([Row(250, 1000)], "hourly").passed
    assert not judge_volume([Row(5001, 1000)], "hourly").passed
    # Small baselines are counting noise, not drift (the demo's quiet hours: 0 or 7 tickets
    # against a median of 1); from the minimum baseline on, the ratio rule applies.
    noise = judge_volume([Row(0, 1), Row(7, 1), Row(18, 2), Row(2, 12), Row(3, 19)], "hourly")
    assert noise.passed and noise.observed["partitions_too_small_to_judge"] == 5
    assert noise.observed["partitions_judged"] == 0
    assert not judge_volume([Row(3, 20)], "hourly").passed
    assert not judge_volume([Row(101, 20)], "hourly").passed
    assert judge_volume([Row(4, 20), Row(100, 20)], "hourly").passed


def test_suites_are_valid_great_expectations_suites() -> None:
    from great_expectations.expectations.registry import get_expectation_impl

    for name in ("raw", "events"):
        suite = gx_checks.load_suite(name)
        assert suite["name"] == name and suite["expectations"]
        for e in suite["expectations"]:
            get_expectation_impl(e["type"])(**e["kwargs"], severity=e["severity"])


def test_every_asset_has_checks_and_a_freshness_policy() -> None:
    """Holds every asset of the code location, those added later included, to a check and a
    freshness policy."""
    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    checked = {key.asset_key for key in graph.asset_check_keys}
    for key in graph.get_all_asset_keys():
        assert key in checked, f"{key.to_user_string()} has no asset check"
        assert graph.get(key).freshness_policy is not None, key.to_user_string()
    policies = {
        k.to_user_string(): graph.get(k).freshness_policy for k in graph.get_all_asset_keys()
    }
    assert policies["raw/mixpanel_events"] == HOURLY_POLICY
    assert policies["growth/metrics_daily"] == HOURLY_POLICY
    assert policies["growth/fx_rates"] == DAILY_POLICY
    # Every check is declared through quality.results.check_spec (its severity leads the
    # description; ERROR checks are blocking) and is partitioned like its asset.
    for assets_def in defs.assets or []:
        for spec in getattr(assets_def, "check_specs", []):
            description = spec.description or ""
            assert description.startswith(("[ERROR", "[WARN")), spec.key
            if description.startswith("[ERROR"):
                assert spec.blocking, spec.key
            if getattr(assets_def, "partitions_def", None) is not None:
                assert spec.partitions_def == assets_def.partitions_def, spec.key
