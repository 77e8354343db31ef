"""Configuration of the SaaS analytics: the funnel and the north-star metric.

Defaults need no file. ``GROWTH_ANALYTICS_FILE`` may name a TOML file overriding them::

    [funnel]
    name = "signup_to_paid"
    window_days = 30

    [[funnel.steps]]
    name = "signup"
    event_type = "signup"

    [[funnel.steps]]
    name = "used exports"
    event_type = "engagement"
    properties = { feature = "exports" }   # the event's properties must contain these

    [north_star]
    name = "net revenue per active user"
    expression = "net_revenue / active_users"

Two variables override single fields without a file: ``GROWTH_FUNNEL_WINDOW_DAYS`` and
``GROWTH_NORTH_STAR`` (the expression). A wrong value stops the asset with a message naming
the variable or file and the field, instead of computing a guess. The configuration is read
when an asset runs, so a change applies to the partitions built afterwards (rebuild older
ones with a backfill).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from growth_assets.saas.northstar import compile_expression

CONFIG_ENV = "GROWTH_ANALYTICS_FILE"
WINDOW_ENV = "GROWTH_FUNNEL_WINDOW_DAYS"
NORTH_STAR_ENV = "GROWTH_NORTH_STAR"

# The canonical vocabulary (growth.event_types, migration 0001): a step names one of these.
EVENT_TYPES: frozenset[str] = frozenset(
    {
        "signup",
        "activation",
        "engagement",
        "key_action",
        "revenue",
        "refund",
        "subscription_started",
        "subscription_changed",
        "churn",
        "support_ticket_created",
        "support_ticket_solved",
    }
)


class ConfigError(ValueError):
    """The analytics configuration is invalid; the message names where and what."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FunnelStep(_Strict):
    """One step: an event type, optionally narrowed to events whose properties contain
    ``properties`` (jsonb containment, e.g. ``{feature = "exports"}``)."""

    name: str = Field(min_length=1, max_length=100)
    event_type: str
    properties: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @field_validator("event_type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in EVENT_TYPES:
            raise ValueError(
                f"unknown event type {value!r}; known: {', '.join(sorted(EVENT_TYPES))}"
            )
        return value


DEFAULT_STEPS: tuple[FunnelStep, ...] = (
    FunnelStep(name="signup", event_type="signup"),
    FunnelStep(name="activation", event_type="activation"),
    FunnelStep(name="key action", event_type="key_action"),
    FunnelStep(name="paid", event_type="revenue"),
)


class FunnelConfig(_Strict):
    """Ordered steps and the conversion window counted from the first step."""

    name: str = Field(default="signup_to_paid", min_length=1, max_length=100)
    window_days: int = Field(default=30, ge=1, le=3650)
    steps: tuple[FunnelStep, ...] = DEFAULT_STEPS

    @model_validator(mode="after")
    def _steps(self) -> FunnelConfig:
        if len(self.steps) < 2:
            raise ValueError("a funnel needs at least 2 steps")
        if len(self.steps) > 20:
            raise ValueError("a funnel has at most 20 steps")
        names = [s.name for s in self.steps]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"step names must be unique: {', '.join(dupes)}")
        return self


class NorthStarConfig(_Strict):
    """The north-star metric: an arithmetic expression over rollup metric names."""

    name: str = Field(default="net revenue per active user", min_length=1, max_length=100)
    expression: str = "net_revenue / active_users"

    @field_validator("expression")
    @classmethod
    def _valid(cls, value: str) -> str:
        compile_expression(value)  # raises ValueError saying what is wrong
        return value


class AnalyticsConfig(_Strict):
    funnel: FunnelConfig = FunnelConfig()
    north_star: NorthStarConfig = NorthStarConfig()


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def load_config(environ: Mapping[str, str] | None = None) -> AnalyticsConfig:
    """The configuration from ``GROWTH_ANALYTICS_FILE`` and the two override variables."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    origin = "defaults"
    path_text = env.get(CONFIG_ENV)
    if path_text:
        path = Path(path_text).expanduser()
        origin = f"{CONFIG_ENV} ({path})"
        if not path.is_file():
            raise ConfigError(f"{origin}: no such file")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{origin}: not valid TOML: {exc}") from exc
    window = env.get(WINDOW_ENV)
    if window:
        if not window.isdigit():
            raise ConfigError(f"{WINDOW_ENV} must be a whole number of days, got {window!r}")
        data.setdefault("funnel", {})
        if not isinstance(data["funnel"], dict):
            raise ConfigError(f"{origin}: funnel must be a table")
        data["funnel"]["window_days"] = int(window)
    expression = env.get(NORTH_STAR_ENV)
    if expression:
        data.setdefault("north_star", {})
        if not isinstance(data["north_star"], dict):
            raise ConfigError(f"{origin}: north_star must be a table")
        data["north_star"]["expression"] = expression
    try:
        return AnalyticsConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {_describe(exc)}") from exc
