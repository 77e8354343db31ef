"""Retries, concurrency pools, the instance settings in dagster.yaml, and the Slack
run-failure sensor posting to a local webhook receiver."""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from dagster import (
    AssetsDefinition,
    Backoff,
    DagsterInstance,
    DagsterRun,
    DefaultSensorStatus,
    Definitions,
    Failure,
    Jitter,
    SkipReason,
    build_run_status_sensor_context,
    job,
    op,
)
from sqlalchemy.engine import make_url

from growth_assets.definitions import build_definitions
from growth_assets.run_failures import (
    SENSOR_NAME,
    SlackPostError,
    build_failure_sensor,
    failure_text,
    post_to_slack,
)
from growth_assets.sources.policies import (
    INGEST_RETRY_POLICY,
    fail_fast_on_credentials,
    ingest_retry_policy,
)
from growth_assets.sources.streams import STREAMS
from resources.retries import CredentialsError, SourceUnavailableError
from tests.conftest import REPO, _create, _release
from tests.receivers.ops_slack import SECRET_PATH, slack_webhook

INSTANCE_FILES = [REPO / "dagster.yaml", REPO / "docker" / "dagster.yaml"]


@pytest.fixture(scope="module")
def defs() -> Definitions:
    return build_definitions()


def _source_assets(defs: Definitions) -> list[AssetsDefinition]:
    graph = defs.resolve_asset_graph()
    keys = [k for k in graph.get_all_asset_keys() if graph.get(k).group_name == "sources"]
    assert keys, "no source assets"
    return [defs.resolve_assets_def(k) for k in keys]


def test_source_assets_retry_with_exponential_backoff_and_jitter(defs: Definitions) -> None:
    for assets_def in _source_assets(defs):
        policy = assets_def.op.retry_policy
        name = assets_def.key.to_user_string()
        assert policy is not None, f"{name} has no retry policy"
        assert policy == INGEST_RETRY_POLICY, name  # (the test session sets 0 retries)
        assert policy.backoff == Backoff.EXPONENTIAL, name
        assert policy.jitter == Jitter.PLUS_MINUS, name


def test_the_retry_policy_defaults_and_settings() -> None:
    default = ingest_retry_policy({})
    assert (default.max_retries, default.delay) == (3, 60)
    assert (default.backoff, default.jitter) == (Backoff.EXPONENTIAL, Jitter.PLUS_MINUS)
    tuned = ingest_retry_policy(
        {"GROWTH_INGEST_RETRIES": "5", "GROWTH_INGEST_RETRY_DELAY_SECONDS": "2.5"}
    )
    assert (tuned.max_retries, tuned.delay) == (5, 2.5)
    with pytest.raises(ValueError, match="GROWTH_INGEST_RETRIES"):
        ingest_retry_policy({"GROWTH_INGEST_RETRIES": "-1"})


def test_each_source_has_its_own_pool(defs: Definitions) -> None:
    for spec in STREAMS:
        assert defs.resolve_assets_def(spec.asset_key).op.pool == f"source_{spec.source}"
    for assets_def in _source_assets(defs):
        assert (assets_def.op.pool or "").startswith("source_"), assets_def.key


@pytest.mark.parametrize("path", INSTANCE_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_pools_are_limited_in_the_instance_settings(path: Path) -> None:
    settings = yaml.safe_load(path.read_text())
    assert settings["concurrency"]["pools"]["default_limit"] == 1
    assert settings["run_retries"] == {
        "enabled": True,
        "max_retries": 2,
        "retry_on_asset_or_op_failure": False,
    }
    assert settings["run_monitoring"]["enabled"] is True
    assert settings["run_monitoring"]["max_resume_run_attempts"] == 0


def test_refused_credentials_fail_without_retries() -> None:
    @fail_fast_on_credentials
    def ingest() -> None:
        raise CredentialsError("stripe", "STRIPE_API_KEY", 401)

    with pytest.raises(Failure) as caught:
        ingest()
    assert caught.value.allow_retries is False
    assert "STRIPE_API_KEY" in str(caught.value.description)


@pytest.fixture(params=INSTANCE_FILES, ids=lambda p: str(p.relative_to(REPO)))
def repo_instance(
    request: pytest.FixtureRequest,
    admin: sa.Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[DagsterInstance]:
    """The repository's dagster.yaml files (local and docker/), each on a fresh database:
    validates them against Dagster's schema and shows what the daemon will do."""
    name = f"ga_ops_{uuid.uuid4().hex[:8]}"
    url = make_url(_create(admin, name))
    _release(name)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(request.param, home / "dagster.yaml")
    monkeypatch.setenv(
        "DAGSTER_PG_URL",
        url.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False),
    )
    monkeypatch.setenv("DAGSTER_ARTIFACTS_DIR", str(tmp_path / "storage"))
    monkeypatch.setenv("DAGSTER_COMPUTE_LOGS_DIR", str(tmp_path / "logs"))
    with DagsterInstance.from_config(str(home)) as instance:
        yield instance


def test_the_instance_retries_runs_and_monitors_them(repo_instance: DagsterInstance) -> None:
    assert repo_instance.run_retries_enabled
    assert repo_instance.run_retries_max_retries == 2
    assert repo_instance.run_retries_retry_on_asset_or_op_failure is False
    assert repo_instance.run_monitoring_enabled
    assert repo_instance.run_monitoring_max_resume_run_attempts == 0
    assert repo_instance.get_concurrency_config().pool_config.default_pool_limit == 1


@op
def fail_loudly() -> None:
    raise RuntimeError("warehouse went away")


@job(tags={"dagster/partition": "2025-03-10-13:00"})
def doomed() -> None:
    fail_loudly()


def _failure_context(instance: DagsterInstance):  # type: ignore[no-untyped-def]
    result = doomed.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    return build_run_status_sensor_context(
        sensor_name=SENSOR_NAME,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
    ).for_run_failure()


def test_a_failed_run_is_posted_to_slack(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sensor = build_failure_sensor(default_status=DefaultSensorStatus.RUNNING)
    with DagsterInstance.ephemeral() as instance, slack_webhook() as hook:
        context = _failure_context(instance)
        monkeypatch.setenv("SLACK_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("GROWTH_DAGSTER_UI_URL", "http://dagster.example:3000/")
        hook.answers.extend([429, 503])  # rate limited, then a hiccup: retried, then 200
        with caplog.at_level(logging.DEBUG):
            sensor(context)
    assert hook.requests == 3
    (post,) = hook.posts
    run_id = context.dagster_run.run_id
    assert "`doomed`" in post["text"]
    assert "partition 2025-03-10-13:00" in post["text"]
    assert f"<http://dagster.example:3000/runs/{run_id}|run `{run_id}`>" in post["text"]
    assert "s3cretWebhookToken" not in caplog.text
    assert "s3cretWebhookToken" not in post["text"]


def test_without_a_webhook_the_sensor_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    sensor = build_failure_sensor(default_status=DefaultSensorStatus.RUNNING)
    with DagsterInstance.ephemeral() as instance:
        outcome = sensor(_failure_context(instance))
    assert isinstance(outcome, SkipReason)
    assert "SLACK_WEBHOOK_URL is not set" in (outcome.skip_message or "")


def test_a_revoked_webhook_fails_without_revealing_it() -> None:
    with slack_webhook() as hook:
        hook.answers.append(403)
        with pytest.raises(SlackPostError) as caught:
            post_to_slack(hook.url, "hello", sleep=lambda _: None)
    assert "403 invalid_token" in str(caught.value)
    assert SECRET_PATH not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_an_unreachable_webhook_gives_up_without_revealing_it() -> None:
    with slack_webhook() as hook:
        url = hook.url
    with pytest.raises(SourceUnavailableError) as caught:  # server closed: connection refused
        post_to_slack(url, "hello", sleep=lambda _: None, timeout=2)
    assert "s3cretWebhookToken" not in str(caught.value)
    assert "s3cretWebhookToken" not in repr(caught.value.__cause__)


def test_the_message_names_range_partitions_and_attempts() -> None:
    run = DagsterRun(
        job_name="ingest_daily",
        run_id="abc",
        tags={
            "dagster/asset_partition_range_start": "2025-03-01",
            "dagster/asset_partition_range_end": "2025-03-10",
            "dagster/retry_number": "1",
        },
    )
    text = failure_text(run, "Execution failed.\nTraceback ...", None)
    assert "partitions 2025-03-01 to 2025-03-10" in text
    assert "attempt: 2" in text
    assert "error: Execution failed." in text and "Traceback" not in text
    assert text.endswith("run `abc`")
