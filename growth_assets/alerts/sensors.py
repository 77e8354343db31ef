"""Sensors that turn landed rollup partitions and failed checks into delivered alerts.

``metric_alerts`` (every 5 s): reads the materialisations of the watched rollup assets
recorded since its cursor (the event log's storage id per asset), judges the recent periods
of the partitions that landed, writes alerts and resolutions to ``ops.alerts`` in one
transaction, then delivers whatever the outbox owes. Its cursor moves only when the tick
succeeds, so a crash re-judges the same partitions (a no-op for the outbox) and delivers
what was left.

``check_alerts_on_success`` / ``check_alerts_on_failure``: a failed asset check does not fail
its run, so run-failure sensors never see it; these read each finished run's check
evaluations and record the failed ERROR-severity ones as alerts (delivered by the next
``metric_alerts`` tick).
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dagster import (
    AssetCheckSeverity,
    AssetKey,
    AssetRecordsFilter,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunStatusSensorContext,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    run_status_sensor,
    sensor,
)

from growth_assets.alerts.config import AlertConfig
from growth_assets.alerts.deliver import AlertChannels, deliver_pending
from growth_assets.alerts.detect import Evaluation, detect_windows
from growth_assets.alerts.outbox import CheckResult, record, record_checks
from resources.warehouse import Warehouse

METRIC_SENSOR = "metric_alerts"
_PAGE = 1000
_EVER = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
NO_CHANNELS = (
    "no alert channel configured (SLACK_WEBHOOK_URL, or SLACK_BOT_TOKEN and SLACK_CHANNEL; "
    "PAGERDUTY_ROUTING_KEY): alerts are kept in ops.alerts and sent once a channel is set"
)


@dataclass
class AlertCursor:
    """Last materialisation storage id seen per watched asset; whether the missing-channel
    warning was already given."""

    assets: dict[str, int] = field(default_factory=dict)
    warned_no_channels: bool = False

    @classmethod
    def parse(cls, raw: str | None) -> "AlertCursor":
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(
            assets={k: int(v) for k, v in data.get("assets", {}).items()},
            warned_no_channels=bool(data.get("warned_no_channels", False)),
        )

    def serialize(self) -> str:
        return json.dumps(
            {"assets": self.assets, "warned_no_channels": self.warned_no_channels},
            sort_keys=True,
        )


def partition_window(key: str | None) -> tuple[datetime, datetime]:
    """The time window of a partition key: ``YYYY-MM-DD`` (a day; monthly partitions are keyed
    by their first day, and the month's period starts there), ``YYYY-MM-DD-HH:MM`` (an hour);
    unpartitioned or other keys: all time (the sensor still judges recent periods only)."""
    if key is None:
        return _EVER
    for fmt, width in (("%Y-%m-%d-%H:%M", timedelta(hours=1)), ("%Y-%m-%d", timedelta(days=1))):
        try:
            start = datetime.strptime(key, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        return start, start + width
    return _EVER


def landed_windows(
    instance: DagsterInstance, config: AlertConfig, cursor: AlertCursor
) -> tuple[dict[str, list[tuple[datetime, datetime]]], AlertCursor]:
    """Partition windows materialised since the cursor, per watched asset, and the new cursor."""
    landed: dict[str, list[tuple[datetime, datetime]]] = {}
    seen = dict(cursor.assets)
    for asset in config.asset_keys():
        after = seen.get(asset)
        while True:
            result = instance.fetch_materializations(
                AssetRecordsFilter(asset_key=AssetKey(asset.split("/")), after_storage_id=after),
                limit=_PAGE,
                ascending=True,
            )
            for rec in result.records:
                landed.setdefault(asset, []).append(partition_window(rec.partition_key))
                after = rec.storage_id
            if not result.has_more or not result.records:
                break
        if after is not None:
            seen[asset] = after
    return landed, AlertCursor(seen, cursor.warned_no_channels)


def _merge(windows: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(set(windows)):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _describe(e: Evaluation) -> str:
    return f"{e.severity} {e.product_id}/{e.metric.name}/{e.label} z={e.z:+.2f}"


@sensor(
    name=METRIC_SENSOR,
    minimum_interval_seconds=5,
    default_status=DefaultSensorStatus.RUNNING,
    description="Judges each landed rollup partition against its baseline, writes alerts to "
    "ops.alerts and delivers them to Slack and PagerDuty.",
)
def metric_alerts(
    context: SensorEvaluationContext, warehouse: Warehouse, alert_channels: AlertChannels
) -> SkipReason:
    config = alert_channels.config()
    if not config.enabled:
        return SkipReason("alerting is disabled in the configuration (enabled = false)")
    cursor = AlertCursor.parse(context.cursor)
    landed, cursor = landed_windows(context.instance, config, cursor)
    evaluations: list[Evaluation] = []
    with warehouse.transaction() as conn:
        for metric in config.active_metrics():
            windows = landed.get(metric.asset_key)
            if windows:
                evaluations.extend(detect_windows(conn, metric, config, _merge(windows)))
        recorded = record(conn, evaluations)
    for e in evaluations:
        if e.dedup_key in recorded.new:
            context.log.info(f"alert: {_describe(e)}")
    for key in recorded.resolved:
        context.log.info(f"resolved: {key}")

    report = deliver_pending(warehouse, alert_channels, config)
    if not report.configured:
        if not cursor.warned_no_channels:
            context.log.warning(NO_CHANNELS)
            cursor.warned_no_channels = True
    else:
        cursor.warned_no_channels = False
    for channel, key, error in report.failed:
        context.log.warning(f"delivery to {channel} failed for {key}: {error}")
    context.update_cursor(cursor.serialize())
    return SkipReason(
        f"judged {len(evaluations)} period(s) of {len(landed)} asset(s): "
        f"{len(recorded.new)} new alert(s), {len(recorded.resolved)} resolved; "
        + (report.summary() if report.configured else "no channel configured")
    )


def check_results(instance: DagsterInstance, run_id: str) -> list[CheckResult]:
    """The run's ERROR-severity asset-check evaluations."""
    out = []
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        event = entry.dagster_event
        if event is None:
            continue
        ev = event.asset_check_evaluation_data
        if ev.severity != AssetCheckSeverity.ERROR:
            continue
        out.append(
            CheckResult(
                asset_key=ev.asset_key.to_user_string(),
                check_name=ev.check_name,
                passed=ev.passed,
                partition=ev.partition,
                run_id=run_id,
                description=ev.description,
            )
        )
    return out


def _record_run_checks(
    context: RunStatusSensorContext, warehouse: Warehouse, alert_channels: AlertChannels
) -> SkipReason:
    config = alert_channels.config()
    if not config.enabled:
        return SkipReason("alerting is disabled in the configuration (enabled = false)")
    run_id = context.dagster_run.run_id
    results = check_results(context.instance, run_id)
    with warehouse.transaction() as conn:
        recorded = record_checks(conn, results, config.check_severity, datetime.now(UTC))
    for key in recorded.new:
        context.log.warning(f"check alert: {key}")
    return SkipReason(
        f"run {run_id[:8]}: {len(results)} ERROR check result(s), {len(recorded.new)} new "
        f"alert(s), {len(recorded.resolved)} resolved"
    )


def _check_sensor(status: DagsterRunStatus, name: str) -> SensorDefinition:
    @run_status_sensor(
        run_status=status,
        name=name,
        minimum_interval_seconds=5,
        default_status=DefaultSensorStatus.RUNNING,
        description="Records the failed ERROR-severity asset checks of each finished run as "
        "alerts in ops.alerts (metric = asset:check).",
    )
    def _sensor(
        context: RunStatusSensorContext, warehouse: Warehouse, alert_channels: AlertChannels
    ) -> SkipReason:
        return _record_run_checks(context, warehouse, alert_channels)

    return _sensor


check_alerts_on_success = _check_sensor(DagsterRunStatus.SUCCESS, "check_alerts_on_success")
check_alerts_on_failure = _check_sensor(DagsterRunStatus.FAILURE, "check_alerts_on_failure")

SENSORS = [metric_alerts, check_alerts_on_success, check_alerts_on_failure]
