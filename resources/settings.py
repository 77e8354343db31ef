"""Model settings: the configuration the normalisation and rollup SQL needs as parameters."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field, field_validator

DEFAULT_MIXPANEL_EVENTS: dict[str, str] = {
    "Sign Up": "signup",
    "Activated": "activation",
    "Session Started": "engagement",
    "Feature Used": "engagement",
    "Upgrade Clicked": "key_action",
}


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

    @field_validator("reporting_currency")
    @classmethod
    def _iso_code(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValueError(f"reporting_currency must be a 3-letter ISO 4217 code, got {value!r}")
        return value.upper()
