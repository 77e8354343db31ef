"""Schedules ingest the right partitions at the right times; automation follows upstream.

Everything is derived from the code location at run time: the scheduled assets are the
partitioned roots of the graph, whatever sources exist when the test runs.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import pytest
from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetCheckSpec,
    AssetKey,
    AssetMaterialization,
    AssetRecordsFilter,
    AutomationCondition,
    DagsterInstance,
    DailyPartitionsDefinition,
    Definitions,
    HourlyPartitionsDefinition,
    MaterializeResult,
    RunRequest,
    ScheduleDefinition,
    asset,
    build_schedule_context,
    evaluate_automation_conditions,
    materialize,
)
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph

from growth_assets import partitions
from growth_assets.automation import follow_upstream, with_automation
from growth_assets.definitions import build_definitions
from growth_assets.operations import with_operations
from growth_assets.schedules import ingestion_targets, partition_for_tick, schedule_minute

warnings.filterwarnings("ignore", category=UserWarning)


@pytest.fixture(scope="module")
def defs() -> Definitions:
    return build_definitions()


@pytest.fixture(scope="module")
def graph(defs: Definitions) -> AssetGraph:
    return defs.resolve_asset_graph()


def _schedules(defs: Definitions) -> list[ScheduleDefinition]:
    return [s for s in defs.schedules or [] if s.name.startswith("ingest_")]


def _expected_key(grain: str, tick: datetime) -> str:
    """Independently of the code: the partition containing the hour that ended at the tick."""
    hour_start = tick.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    if grain == "hourly":
        return f"{hour_start:%Y-%m-%d-%H:00}"
    if grain == "daily":
        return f"{hour_start:%Y-%m-%d}"
    raise AssertionError(f"no expectation for {grain}")


def _run_request(defs: Definitions, schedule_def: ScheduleDefinition, tick: datetime) -> RunRequest:
    with build_schedule_context(
        scheduled_execution_time=tick, repository_def=defs.get_repository_def()
    ) as context:
        data = schedule_def.evaluate_tick(context)
    assert data.run_requests is not None and len(data.run_requests) == 1, data.skip_message
    return data.run_requests[0]


def test_every_partitioned_root_is_scheduled_once(defs: Definitions, graph: AssetGraph) -> None:
    roots = {
        key
        for key in graph.get_all_asset_keys()
        if not graph.get(key).parent_keys and graph.get(key).partitions_def is not None
    }
    assert roots, "no partitioned source assets"
    scheduled: list[AssetKey] = []
    for schedule_def in _schedules(defs):
        job = defs.resolve_job_def(schedule_def.job_name)
        scheduled.extend(job.asset_layer.selected_asset_keys)
    assert sorted(scheduled) == sorted(roots)
    assert {s.cron_schedule for s in _schedules(defs)} == {f"{schedule_minute()} * * * *"}


@pytest.mark.parametrize(
    "tick",
    [
        datetime(2025, 3, 10, 14, 10, tzinfo=UTC),  # during the day
        datetime(2025, 3, 11, 0, 10, tzinfo=UTC),  # first tick after midnight: closes yesterday
        datetime(2025, 12, 31, 23, 10, tzinfo=UTC),  # last hour of a year
    ],
    ids=["afternoon", "after-midnight", "new-year-eve"],
)
def test_schedules_request_the_partition_of_the_hour_that_ended(
    defs: Definitions, tick: datetime
) -> None:
    targets = {t.job_name: t for t in ingestion_targets(list(defs.assets or []))}
    assert {"ingest_hourly", "ingest_daily"} <= set(targets)
    for schedule_def in _schedules(defs):
        target = targets[schedule_def.job_name]
        request = _run_request(defs, schedule_def, tick)
        assert request.partition_key == _expected_key(target.grain, tick), schedule_def.name
        assert request.tags["growth/trigger"] == "schedule"


def test_today_is_rebuilt_every_hour_and_yesterday_closed_after_midnight(
    defs: Definitions,
) -> None:
    (daily,) = [s for s in _schedules(defs) if s.job_name == "ingest_daily"]
    day = datetime(2025, 3, 10, tzinfo=UTC)
    keys = [
        _run_request(defs, daily, day + timedelta(hours=h, minutes=10)).partition_key
        for h in range(25)
    ]
    assert keys[0] == "2025-03-09"  # 00:10 closes the day before
    assert set(keys[1:24]) == {"2025-03-10"}  # 01:10 .. 23:10 rebuild today, every hour
    assert keys[24] == "2025-03-10"  # 00:10 the next day: today's final run
    run_keys = {
        _run_request(defs, daily, day + timedelta(hours=h, minutes=10)).run_key
        for h in range(1, 24)
    }
    assert len(run_keys) == 23  # one run per tick, never deduplicated away


def test_no_run_before_the_first_partition(defs: Definitions) -> None:
    first = datetime.strptime(partitions.partitions_start(), "%Y-%m-%d").replace(tzinfo=UTC)
    for schedule_def in _schedules(defs):
        with build_schedule_context(
            scheduled_execution_time=first + timedelta(minutes=10),
            repository_def=defs.get_repository_def(),
        ) as ctx:
            data = schedule_def.evaluate_tick(ctx)
        assert not data.run_requests, schedule_def.name
        assert data.skip_message


def test_falls_back_to_the_last_partition_when_the_current_one_does_not_exist() -> None:
    closed_days = DailyPartitionsDefinition(start_date="2025-01-01", timezone="UTC")
    tick = datetime(2025, 3, 10, 14, 10, tzinfo=UTC)
    assert partition_for_tick(closed_days, tick) == "2025-03-09"
    assert partition_for_tick(partitions.daily(), tick) == "2025-03-10"


def test_schedule_minute_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROWTH_SCHEDULE_MINUTE", "25")
    defs = build_definitions()
    assert {s.cron_schedule for s in _schedules(defs)} == {"25 * * * *"}
    monkeypatch.setenv("GROWTH_SCHEDULE_MINUTE", "75")
    with pytest.raises(ValueError, match="GROWTH_SCHEDULE_MINUTE"):
        build_definitions()


def test_automation_off_leaves_schedules_and_sensors_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dagster import DefaultScheduleStatus, DefaultSensorStatus

    ours = {"growth_automation", "slack_on_run_failure"}
    running = build_definitions()
    assert {s.default_status for s in _schedules(running)} == {DefaultScheduleStatus.RUNNING}
    assert {s.default_status for s in running.sensors or [] if s.name in ours} == {
        DefaultSensorStatus.RUNNING
    }
    monkeypatch.setenv("GROWTH_AUTOMATION", "off")
    stopped = build_definitions()
    assert {s.default_status for s in _schedules(stopped)} == {DefaultScheduleStatus.STOPPED}
    assert {s.default_status for s in stopped.sensors or [] if s.name in ours} == {
        DefaultSensorStatus.STOPPED
    }


def test_every_downstream_asset_follows_by_automation(graph: AssetGraph) -> None:
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.parent_keys:
            assert node.automation_condition is not None, key.to_user_string()
        elif node.partitions_def is not None:
            assert node.automation_condition is None, f"{key.to_user_string()} is scheduled"
        else:
            assert node.automation_condition is not None, key.to_user_string()


def test_an_asset_keeps_its_own_condition() -> None:
    own = AutomationCondition.on_cron("0 6 * * *")

    @asset
    def upstream() -> None: ...

    @asset(deps=[upstream], automation_condition=own)
    def downstream() -> None: ...

    @asset(deps=[upstream])
    def plain() -> None: ...

    graph = with_automation(Definitions(assets=[upstream, downstream, plain])).resolve_asset_graph()
    assert graph.get(downstream.key).automation_condition == own
    assert graph.get(plain.key).automation_condition is not None


def _hours(day_start: datetime, until: datetime) -> list[str]:
    hours = []
    hour = day_start
    while hour < until:
        hours.append(f"{hour:%Y-%m-%d-%H:00}")
        hour += timedelta(hours=1)
    return hours


def test_automation_requests_downstream_partitions_after_upstream_materialisations(
    defs: Definitions, graph: AssetGraph
) -> None:
    """The schedule's runs are stood in for by reported materialisations (no warehouse needed):
    first the hour's raw data, then the whole day's events; the downstream partitions of each
    grain are requested, and nothing is requested twice."""
    instance = DagsterInstance.ephemeral()
    # A fixed point of the day (yesterday 12:30 UTC), so the scenario never straddles midnight
    # whatever the wall clock says.
    now = (datetime.now(UTC) - timedelta(days=1)).replace(
        hour=12, minute=30, second=0, microsecond=0
    )
    last_hour = now.replace(minute=0) - timedelta(hours=1)
    today = f"{last_hour:%Y-%m-%d}"
    hour = f"{last_hour:%Y-%m-%d-%H:00}"
    keys = graph.get_all_asset_keys()

    def grain(key: AssetKey) -> str | None:
        pdef = graph.get(key).partitions_def
        if isinstance(pdef, HourlyPartitionsDefinition):
            return "hourly"
        return "daily" if isinstance(pdef, DailyPartitionsDefinition) else None

    def report(key: AssetKey, partition: str | None = None) -> None:
        """A materialisation and, as a real run records in the same step, its passed
        blocking checks (the automation waits for them)."""
        instance.report_runless_asset_event(
            AssetMaterialization(asset_key=key, partition=partition)
        )
        (mat,) = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=key), limit=1, ascending=False
        ).records
        target = AssetCheckEvaluationTargetMaterializationData(
            storage_id=mat.storage_id, run_id=mat.run_id, timestamp=mat.timestamp
        )
        for check_key in graph.get_check_keys_for_assets({key}):
            check_node = graph.get(check_key)
            if check_node.blocking:
                instance.report_runless_asset_event(
                    AssetCheckEvaluation(
                        asset_key=key,
                        check_name=check_key.name,
                        passed=True,
                        blocking=True,
                        target_materialization_data=target,
                        partition=partition if check_node.partitions_def else None,
                    )
                )

    roots = [k for k in keys if not graph.get(k).parent_keys]
    result = evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=now)
    cursor = result.cursor
    for key in roots:  # the unpartitioned sources (FX rates) once, the scheduled ones' hour
        g = grain(key)
        report(key, None if g is None else hour if g == "hourly" else today)

    result = evaluate_automation_conditions(
        defs=defs, instance=instance, cursor=cursor, evaluation_time=now
    )
    cursor = result.cursor
    children = {
        k
        for k in keys
        if graph.get(k).parent_keys
        and all(p in roots for p in graph.get(k).parent_keys)
        and grain(k) is not None
    }
    assert children, "no assets directly downstream of the sources"
    for key in children:
        expected = {hour if grain(key) == "hourly" else today}
        assert result.get_requested_partitions(key) == expected, key.to_user_string()

    # The runs happen: every partitioned asset's partitions of today so far, as the schedule
    # and automation would have built them through the day.
    for key in children:
        for partition in (
            _hours(
                datetime.fromisoformat(today).replace(tzinfo=UTC), last_hour + timedelta(hours=1)
            )
            if grain(key) == "hourly"
            else [today]
        ):
            report(key, partition)
    result = evaluate_automation_conditions(
        defs=defs, instance=instance, cursor=cursor, evaluation_time=now
    )
    cursor = result.cursor
    grandchildren = {
        k for k in keys if grain(k) == "daily" and graph.get(k).parent_keys & children
    } - children
    assert grandchildren, "no daily models downstream of the canonical events"
    for key in grandchildren:
        assert result.get_requested_partitions(key) == {today}, key.to_user_string()

    result = evaluate_automation_conditions(
        defs=defs, instance=instance, cursor=cursor, evaluation_time=now
    )
    assert result.total_requested == 0


def test_automation_waits_for_upstream_blocking_checks() -> None:
    """A failed blocking check on the upstream partition holds the downstream one back."""
    hourly = HourlyPartitionsDefinition(start_date="2025-01-01-00:00", timezone="UTC")
    verdict = {"passed": False}

    @asset(
        partitions_def=hourly,
        check_specs=[AssetCheckSpec("complete", asset="raw_source", blocking=True)],
    )
    def raw_source() -> MaterializeResult:
        return MaterializeResult(
            check_results=[AssetCheckResult(check_name="complete", passed=verdict["passed"])]
        )

    @asset(partitions_def=hourly, deps=[raw_source], automation_condition=follow_upstream())
    def canonical() -> None: ...

    instance = DagsterInstance.ephemeral()
    hour = f"{datetime.now(UTC).replace(minute=0) - timedelta(hours=2):%Y-%m-%d-%H:00}"
    result = evaluate_automation_conditions(defs=[raw_source, canonical], instance=instance)
    materialize([raw_source], instance=instance, partition_key=hour, raise_on_error=False)
    result = evaluate_automation_conditions(
        defs=[raw_source, canonical], instance=instance, cursor=result.cursor
    )
    assert result.total_requested == 0, "ran although the upstream blocking check failed"
    verdict["passed"] = True
    materialize([raw_source], instance=instance, partition_key=hour)
    result = evaluate_automation_conditions(
        defs=[raw_source, canonical], instance=instance, cursor=result.cursor
    )
    assert result.get_requested_partitions(canonical.key) == {hour}


def test_two_partitionings_of_one_grain_get_a_job_each() -> None:
    early = DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1)
    late = DailyPartitionsDefinition(start_date="2025-01-01", end_offset=1)

    @asset(partitions_def=early)
    def old_source() -> None: ...

    @asset(partitions_def=late)
    def new_source() -> None: ...

    @asset(partitions_def=early)
    def other_old_source() -> None: ...

    targets = ingestion_targets([old_source, new_source, other_old_source])
    assert [(t.job_name, t.keys) for t in targets] == [
        ("ingest_daily", (old_source.key, other_old_source.key)),
        ("ingest_daily_2", (new_source.key,)),
    ]


def test_operations_are_added_to_any_definitions() -> None:
    @asset(partitions_def=HourlyPartitionsDefinition(start_date="2025-01-01-00:00"))
    def some_source() -> None: ...

    defs = with_operations(Definitions(assets=[some_source]))
    names = {s.name for s in defs.schedules or []} | {s.name for s in defs.sensors or []}
    assert names == {
        "ingest_hourly_schedule",
        "growth_automation",
        "slack_on_run_failure",
    }
