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
    """Reporting currency and source-specific mappings used when building canonical events."""

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

    @field_validator("reporting_currency")
    @classmethod
    def _iso_code(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValueError(f"reporting_currency must be a 3-letter ISO 4217 code, got {value!r}")
        return value.upper()
