"""The code location loads, and every asset is checked, partitioned on purpose and described."""

from __future__ import annotations

import pytest
from dagster import (
    AssetKey,
    DailyPartitionsDefinition,
    Definitions,
    HourlyPartitionsDefinition,
)

from growth_assets import partitions
from growth_assets.definitions import ASSETS, build_definitions
from growth_assets.sources.streams import STREAMS


@pytest.fixture(scope="module")
def defs() -> Definitions:
    return build_definitions()


def test_definitions_load(defs: Definitions) -> None:
    Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    assert AssetKey(["growth", "metrics_daily"]) in graph.get_all_asset_keys()


def test_every_asset_has_a_check_and_a_description(defs: Definitions) -> None:
    graph = defs.resolve_asset_graph()
    checked = {key.asset_key for key in graph.asset_check_keys}
    for key in graph.get_all_asset_keys():
        assert key in checked, f"{key.to_user_string()} has no asset check"
        assert graph.get(key).description, f"{key.to_user_string()} has no description"


def test_partitioning_by_layer() -> None:
    grains = {s.asset_key: s.grain for s in STREAMS}
    for assets_def in ASSETS:
        for key in assets_def.keys:
            pdef = assets_def.partitions_def
            if key in grains:
                expected = (
                    HourlyPartitionsDefinition
                    if grains[key] == "hourly"
                    else DailyPartitionsDefinition
                )
                assert isinstance(pdef, expected), key
            elif key.path[:2] == ["growth", "events"]:
                source_grains = {s.grain for s in STREAMS if s.source == key.path[2]}
                expected = (
                    HourlyPartitionsDefinition
                    if source_grains == {"hourly"}
                    else DailyPartitionsDefinition
                )
                assert isinstance(pdef, expected), key
            elif key in (AssetKey(["growth", "users"]), AssetKey(["growth", "metrics_daily"])):
                assert isinstance(pdef, DailyPartitionsDefinition), key
    assert {g for g in grains.values()} == {"hourly", "daily"}


def test_partitions_start_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROWTH_PARTITIONS_START", "01/11/2024")
    with pytest.raises(ValueError, match="GROWTH_PARTITIONS_START must be YYYY-MM-DD"):
        partitions.partitions_start()


def test_unknown_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROWTH_ENV", "staging")
    with pytest.raises(ValueError, match="GROWTH_ENV must be one of demo, live"):
        build_definitions()


def test_warehouse_url_from_environment_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "postgresql://pipeline:s3cret-value@db.internal:5432/growth"
    monkeypatch.setenv("GROWTH_WAREHOUSE_URL", secret)
    defs = build_definitions()
    shown = repr(defs.resources["warehouse"])  # type: ignore[index]
    assert "s3cret-value" not in shown


def test_live_environment_builds_every_real_client_with_secrets_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secrets = {
        "STRIPE_API_KEY": "sk_test_secret-stripe-value",
        "MIXPANEL_API_SECRET": "secret-mixpanel-value",
        "ZENDESK_SUBDOMAIN": "acme",
        "ZENDESK_EMAIL": "ops@example.com",
        "ZENDESK_API_TOKEN": "secret-zendesk-value",
    }
    monkeypatch.setenv("GROWTH_ENV", "live")
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    defs = build_definitions()
    Definitions.validate_loadable(defs)
    resources = defs.resources or {}
    shown = " ".join(repr(resources[s]) for s in ("stripe", "mixpanel", "zendesk"))
    assert [type(resources[s]).__name__ for s in ("stripe", "mixpanel", "zendesk")] == [
        "StripeApiClient",
        "MixpanelApiClient",
        "ZendeskApiClient",
    ]
    for value in ("secret-stripe-value", "secret-mixpanel-value", "secret-zendesk-value"):
        assert value not in shown


def test_live_environment_names_a_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROWTH_ENV", "live")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_x")
    monkeypatch.delenv("MIXPANEL_API_SECRET", raising=False)
    monkeypatch.delenv("MIXPANEL_SERVICE_ACCOUNT_USERNAME", raising=False)
    with pytest.raises(Exception, match="MIXPANEL_API_SECRET"):
        build_definitions()
