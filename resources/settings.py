"""Model settings: the configuration the normalisation and rollup SQL needs as parameters.

Source-specific mappings can come from the environment (:func:`model_settings_from_env`):

* ``GROWTH_MIXPANEL_EVENT_MAP``: which Mixpanel event names are which canonical types, as a
  JSON object (``{"Sign Up": "signup"}``) or the path of a ``.json`` or ``.toml`` file holding
  one (in TOML, top-level keys or a ``[mixpanel_events]`` table). Unmapped names are rejected
  by normalisation, with the reason.
* ``GROWTH_ZENDESK_PRODUCT_FIELD_ID`` / ``GROWTH_ZENDESK_USER_FIELD_ID``: the ids of the
  Zendesk ticket custom fields that hold the product and the product's user id.
* ``GROWTH_PSEUDONYMISE_KEY``: a secret; when set, user ids are stored in ``growth`` as keyed
  pseudonyms (``resources/pseudonyms.py``). Passed on as ``EnvVar``, never as a value.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource, EnvVar
from pydantic import Field, field_validator

from resources.features import FEATURES_VARIABLE, FeatureSpec, default_features, load_features
from resources.pseudonyms import KEY_VARIABLE, Pseudonymiser, pseudonymiser

DEFAULT_MIXPANEL_EVENTS: dict[str, str] = {
    "Sign Up": "signup",
    "Activated": "activation",
    "Session Started": "engagement",
    "Feature Used": "engagement",
    "Upgrade Clicked": "key_action",
}
# The user-initiated types of the canonical vocabulary (growth.event_types): the only ones a
# product-analytics event can stand for.
MIXPANEL_EVENT_TYPES: frozenset[str] = frozenset(
    {"signup", "activation", "engagement", "key_action"}
)
EVENT_MAP_VARIABLE = "GROWTH_MIXPANEL_EVENT_MAP"


class ModelSettings(ConfigurableResource):
    """Reporting currency and source mappings for canonical events; retention horizons."""

    reporting_currency: str = Field(
        default="USD", description="ISO 4217 code every value is converted into."
    )
    mixpanel_events: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_MIXPANEL_EVENTS),
        description="Mixpanel event name → canonical event type; other names are rejected.",
    )
    zendesk_product_field_id: int = Field(
        default=360001, description="Zendesk custom field holding the product id."
    )
    zendesk_user_field_id: int = Field(
        default=360002, description="Zendesk custom field holding the product's user id."
    )
    # Retention horizons in days, applied by the retention asset; 0 keeps everything. Events
    # are the source of truth every rollup is rebuilt from: kept. Hourly rollups serve recent
    # on-call dashboards and hourly alerts: a year and a margin. Late-data marks are acted on
    # within minutes: 90 days is an audit trail.
    retention_events_days: int = Field(default=0, ge=0, description="growth.events; 0: keep.")
    retention_hourly_days: int = Field(
        default=400, ge=0, description="growth.metrics_hourly; 0: keep."
    )
    retention_stale_marks_days: int = Field(
        default=90, ge=0, description="ops.stale_windows late-data marks; 0: keep."
    )
    features: list[FeatureSpec] = Field(
        default_factory=default_features,
        description="Features whose adoption is measured (GROWTH_FEATURES; resources/features.py).",
    )
    pseudonymise_key: str | None = Field(
        default=None,
        description=f"Secret key of the user-id pseudonyms ({KEY_VARIABLE}, set as EnvVar); "
        "None: user ids are stored as the sources send them.",
    )

    def pseudonyms(self) -> Pseudonymiser | None:
        """The keyed pseudonymiser, or None when pseudonymisation is off."""
        return pseudonymiser(self.pseudonymise_key)

    @field_validator("mixpanel_events")
    @classmethod
    def _known_types(cls, value: dict[str, str]) -> dict[str, str]:
        return validate_event_map(value, origin="mixpanel_events")

    @field_validator("reporting_currency")
    @classmethod
    def _iso_code(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValueError(f"reporting_currency must be a 3-letter ISO 4217 code, got {value!r}")
        return value.upper()


class SettingsError(ValueError):
    """A setting from the environment is malformed; the message names the variable."""


def validate_event_map(value: Any, *, origin: str) -> dict[str, str]:
    """Check a Mixpanel event name → canonical type mapping; the error says what is wrong."""
    if not isinstance(value, dict) or not value:
        raise SettingsError(f"{origin}: expected a non-empty object of event name → event type")
    bad_names = [k for k in value if not isinstance(k, str) or not k.strip()]
    if bad_names:
        raise SettingsError(f"{origin}: event names must be non-empty strings, got {bad_names!r}")
    bad = {k: v for k, v in value.items() if v not in MIXPANEL_EVENT_TYPES}
    if bad:
        allowed = ", ".join(sorted(MIXPANEL_EVENT_TYPES))
        raise SettingsError(f"{origin}: unknown event types {bad!r}; allowed: {allowed}")
    return dict(value)


def load_event_map(raw: str) -> dict[str, str]:
    """Parse ``GROWTH_MIXPANEL_EVENT_MAP``: a JSON object, or a path to a JSON or TOML file."""
    text = raw.strip()
    origin = EVENT_MAP_VARIABLE
    try:
        if text.startswith("{"):
            data: Any = json.loads(text)
        else:
            path = Path(text).expanduser()
            origin = f"{EVENT_MAP_VARIABLE} ({path})"
            if not path.is_file():
                raise SettingsError(f"{origin}: no such file (expected JSON text or a file path)")
            if path.suffix.lower() == ".toml":
                data = tomllib.loads(path.read_text(encoding="utf-8"))
                if isinstance(data.get("mixpanel_events"), dict):
                    data = data["mixpanel_events"]
            else:
                data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{origin}: not valid JSON/TOML: {exc}") from exc
    return validate_event_map(data, origin=origin)


def model_settings_from_env(environ: Mapping[str, str]) -> ModelSettings:
    """ModelSettings from ``GROWTH_*`` variables; unset variables keep the defaults."""

    def field_id(name: str, default: int) -> int:
        raw = environ.get(name)
        if not raw:
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise SettingsError(
                f"{name} must be a Zendesk field id (a number), got {raw!r}"
            ) from exc

    def days(name: str, default: int) -> int:
        """A retention horizon in days (0 keeps everything)."""
        raw = environ.get(name)
        if not raw:
            return default
        if not raw.isdigit():
            raise SettingsError(f"{name} must be a whole number of days, got {raw!r}")
        return int(raw)

    event_map = environ.get(EVENT_MAP_VARIABLE)
    features = environ.get(FEATURES_VARIABLE)
    key: Any = None
    if environ.get(KEY_VARIABLE):
        pseudonymiser(environ[KEY_VARIABLE])  # refuses a short key now, not mid-run
        key = EnvVar(KEY_VARIABLE)
    return ModelSettings(
        reporting_currency=environ.get("GROWTH_REPORTING_CURRENCY") or "USD",
        mixpanel_events=load_event_map(event_map) if event_map else dict(DEFAULT_MIXPANEL_EVENTS),
        zendesk_product_field_id=field_id("GROWTH_ZENDESK_PRODUCT_FIELD_ID", 360001),
        zendesk_user_field_id=field_id("GROWTH_ZENDESK_USER_FIELD_ID", 360002),
        retention_events_days=days("GROWTH_RETENTION_EVENTS_DAYS", 0),
        retention_hourly_days=days("GROWTH_RETENTION_HOURLY_DAYS", 400),
        retention_stale_marks_days=days("GROWTH_RETENTION_STALE_MARKS_DAYS", 90),
        features=load_features(features) if features else default_features(),
        pseudonymise_key=key,
    )
