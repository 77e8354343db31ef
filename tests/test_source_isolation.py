"""One failing source does not stop the others: their raw and canonical assets still update."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from dagster import AssetKey, DagsterInstance, materialize

from growth_assets.backfill import QUIET, range_tags
from growth_assets.definitions import ASSETS
from growth_assets.jobs import HOURLY_KEYS
from resources.clients import SourceClient
from resources.fx import CsvFxRates
from resources.retries import CredentialsError
from resources.settings import ModelSettings
from resources.warehouse import Warehouse
from tests.sources import static
from tests.test_pipeline import DAY2, TICKETS


class RefusingClient(SourceClient):
    """Stands where an API client stands and fails like one whose key was revoked."""

    def fetch(self, stream: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        raise CredentialsError("mixpanel", "MIXPANEL_API_SECRET", 401)
        yield {}  # pragma: no cover - makes this a generator, as real clients are


def test_a_failing_source_leaves_the_others_running(warehouse: Warehouse, tmp_path: Path) -> None:
    fx = tmp_path / "fx.csv"
    fx.write_text("day,currency,rate\n2024-11-01,EUR,1.08\n")
    resources = {
        "warehouse": warehouse,
        "settings": ModelSettings(),
        "fx_source": CsvFxRates(path=str(fx)),
        "mixpanel": RefusingClient(),
        "stripe": static("stripe"),
        "zendesk": static("zendesk", tickets=TICKETS),
    }
    with DagsterInstance.ephemeral() as instance:
        materialize(
            ASSETS,
            selection=[AssetKey(["growth", "fx_rates"])],
            resources=resources,
            instance=instance,
        )
        result = materialize(
            ASSETS,
            selection=HOURLY_KEYS,
            resources=resources,
            instance=instance,
            tags=range_tags(DAY2, DAY2, "hourly"),
            run_config=QUIET,
            raise_on_error=False,
        )
        assert not result.success
        failed = {e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"}
        assert failed == {"raw__mixpanel_events"}
        failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
        assert "check MIXPANEL_API_SECRET" in str(failure.step_failure_data.error)
        done = {
            key
            for key in (
                AssetKey(["raw", "zendesk_tickets"]),
                AssetKey(["growth", "events", "zendesk"]),
            )
            if instance.get_latest_materialization_event(key) is not None
        }
    assert done == {AssetKey(["raw", "zendesk_tickets"]), AssetKey(["growth", "events", "zendesk"])}
