"""Alerting configuration: which metrics are watched, how, and where alerts go.

Everything here is typed and validated (pydantic), with defaults that need no file at all.
``GROWTH_ALERTS_FILE`` may name a TOML file that overrides any of it; a wrong value stops the
sensor with a message naming the file and the field, instead of alerting on a guess. Secrets
(webhook URL, bot token, routing key) are never in this file: they come from the environment
through :class:`growth_assets.alerts.deliver.AlertChannels`.

A watched metric is a column of a rollup table at a grain (``daily``, ``hourly``,
``monthly``), so new rollup tables plug in by configuration::

    [[metrics]]
    name = "churned_customers"
    table = "growth.metrics_daily"
    column = "churned_customers"
    time_column = "day"
    grain = "daily"
    asset_key = "growth/metrics_daily"
    bad_direction = "up"
    baseline = "weekday"        # plain | weekday | robust
    min_abs_delta = 3
    counts = true               # spread at least sqrt(mean): Poisson noise of counts

Omitting ``metrics`` keeps the defaults; giving it replaces the whole list.
"""

from __future__ import annotations

import functools
import os
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from resources.sqlfiles import quote_ident

CONFIG_ENV = "GROWTH_ALERTS_FILE"


class Direction(StrEnum):
    """Which way a metric must move to be bad: churn going up, revenue going down."""

    UP = "up"
    DOWN = "down"
    BOTH = "both"


class BaselineKind(StrEnum):
    """How the expected value is estimated from past periods.

    ``plain``: mean and sample standard deviation of the trailing ``window`` periods.
    ``weekday``: the same, over the same weekday (and hour) of the last ``seasonal_weeks``
    weeks, for metrics with a weekly rhythm (signups dip at weekends).
    ``robust``: median and MAD x 1.4826 of the trailing window, so one past spike does not
    inflate the spread and hide the next.
    """

    PLAIN = "plain"
    WEEKDAY = "weekday"
    ROBUST = "robust"


class Grain(StrEnum):
    HOURLY = "hourly"
    DAILY = "daily"
    MONTHLY = "monthly"


class Severity(StrEnum):
    MEDIUM = "medium"
    HIGH = "high"


class Channel(StrEnum):
    SLACK = "slack"
    PAGERDUTY = "pagerduty"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricSpec(_Strict):
    """One watched (table, column, grain)."""

    name: str = Field(description="Metric name in alerts and dedup keys, unique per grain.")
    table: str = Field(description="Schema-qualified rollup table, e.g. growth.metrics_daily.")
    column: str = Field(description="Numeric column holding the metric.")
    time_column: str = Field(default="day", description="Column holding the period start.")
    product_column: str = Field(default="product_id")
    grain: Grain = Grain.DAILY
    asset_key: str = Field(
        description="Dagster asset that writes the table, '/'-separated; its materialisations "
        "trigger detection and the alert links to it."
    )
    bad_direction: Direction = Direction.BOTH
    baseline: BaselineKind = BaselineKind.PLAIN
    min_abs_delta: float = Field(
        default=0.0,
        ge=0,
        description="Ignore moves smaller than this in absolute terms (2 extra churns in a "
        "product that usually has none is a large z-score and no incident).",
    )
    counts: bool = Field(
        default=False,
        description="The metric counts independent occurrences (signups, churns, tickets, "
        "events): its spread is at least sqrt(baseline centre), the Poisson noise, so a calm "
        "baseline of small counts does not turn an ordinary day into a page.",
    )
    include_all: bool = Field(
        default=True,
        description="Also watch the portfolio row (product_id = 'all'); its alert is dropped "
        "when a product alert of the same metric and period explains it.",
    )
    enabled: bool = True

    @field_validator("table", "column", "time_column", "product_column")
    @classmethod
    def _identifier(cls, value: str) -> str:
        quote_ident(value)  # raises ValueError naming the identifier
        return value

    @field_validator("asset_key")
    @classmethod
    def _asset_key(cls, value: str) -> str:
        parts = value.split("/")
        if not all(parts):
            raise ValueError(f"asset_key must be '/'-separated names, got {value!r}")
        return value

    @model_validator(mode="after")
    def _seasonal_grain(self) -> MetricSpec:
        if self.baseline is BaselineKind.WEEKDAY and self.grain is Grain.MONTHLY:
            raise ValueError(
                f"metric {self.name!r}: a weekday baseline needs an hourly/daily grain"
            )
        return self

    @property
    def asset_path(self) -> list[str]:
        return self.asset_key.split("/")


_ROLLUPS: dict[Grain, tuple[str, str]] = {
    Grain.HOURLY: ("metrics_hourly", "hour"),
    Grain.DAILY: ("metrics_daily", "day"),
    Grain.MONTHLY: ("metrics_monthly", "month"),
}


def _rollup(grain: Grain, name: str, direction: Direction, **extra: Any) -> MetricSpec:
    """A watch on one column of the rollup table of ``grain`` (same metric names at each)."""
    table, time_column = _ROLLUPS[grain]
    return MetricSpec(
        name=name,
        table=f"growth.{table}",
        column=name,
        time_column=time_column,
        grain=grain,
        asset_key=f"growth/{table}",
        bad_direction=direction,
        **extra,
    )


DEFAULT_METRICS: tuple[MetricSpec, ...] = (
    _rollup(Grain.DAILY, "churned_customers", Direction.UP, min_abs_delta=5, counts=True),
    _rollup(Grain.DAILY, "net_revenue", Direction.DOWN, baseline=BaselineKind.ROBUST),
    _rollup(
        Grain.DAILY,
        "signups",
        Direction.DOWN,
        baseline=BaselineKind.WEEKDAY,
        min_abs_delta=5,
        counts=True,
    ),
    _rollup(Grain.DAILY, "tickets_created", Direction.UP, min_abs_delta=5, counts=True),
    # An hour with far fewer events than the same hour of the same weekday: a tracking or
    # ingestion outage. Small products (a few events an hour) stay below the absolute floor.
    _rollup(
        Grain.HOURLY,
        "events",
        Direction.DOWN,
        baseline=BaselineKind.WEEKDAY,
        min_abs_delta=50,
        counts=True,
    ),
    # Monthly revenue of a growing business: a drop below the trailing months is news.
    # (Monthly churn counts grow with the customer base, so a plain z-score on them flags
    # growth; daily churn already catches spikes.)
    _rollup(Grain.MONTHLY, "net_revenue", Direction.DOWN),
)

DEFAULT_ROUTING: dict[Severity, tuple[Channel, ...]] = {
    Severity.HIGH: (Channel.PAGERDUTY, Channel.SLACK),
    Severity.MEDIUM: (Channel.SLACK,),
}


class AlertConfig(_Strict):
    """Thresholds, baselines, metrics and routing for anomaly alerts."""

    enabled: bool = Field(default=True, description="false: detect nothing, send nothing.")
    window: int = Field(default=30, ge=2, description="Trailing periods in the baseline.")
    min_baseline: int = Field(
        default=14, ge=2, description="Fewer baseline points than this: no verdict."
    )
    seasonal_weeks: int = Field(default=8, ge=2, description="Weeks in a weekday baseline.")
    min_seasonal_baseline: int = Field(default=5, ge=2)
    alert_z: float = Field(default=2.5, gt=0, description="|z| above this alerts (medium).")
    high_z: float = Field(default=3.5, gt=0, description="|z| above this is high severity.")
    recent_periods: int = Field(
        default=3,
        ge=1,
        description="The sensor judges landed periods this close to the newest one; older "
        "periods (a history backfill) are left to `growth-assets alerts replay`.",
    )
    trend_points: int = Field(default=14, ge=2, description="Values shown in the message trend.")
    check_severity: Severity = Field(
        default=Severity.MEDIUM, description="Severity of a failed ERROR data-quality check."
    )
    routing: dict[Severity, tuple[Channel, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_ROUTING)
    )
    metrics: tuple[MetricSpec, ...] = DEFAULT_METRICS

    @model_validator(mode="after")
    def _consistent(self) -> AlertConfig:
        if self.high_z < self.alert_z:
            raise ValueError(f"high_z ({self.high_z}) must be >= alert_z ({self.alert_z})")
        keys = [(m.name, m.grain) for m in self.metrics]
        dupes = sorted({f"{n} ({g.value})" for n, g in keys if keys.count((n, g)) > 1})
        if dupes:
            raise ValueError(f"metric names must be unique per grain: {', '.join(dupes)}")
        return self

    def active_metrics(self, names: list[str] | None = None) -> list[MetricSpec]:
        """Enabled metrics, optionally only those named (unknown names are an error)."""
        if names:
            unknown = sorted(set(names) - {m.name for m in self.metrics})
            if unknown:
                raise ValueError(
                    f"unknown metric(s) {', '.join(unknown)}; configured: "
                    + ", ".join(sorted({m.name for m in self.metrics}))
                )
            return [m for m in self.metrics if m.name in names]
        return [m for m in self.metrics if m.enabled]

    def channels_for(self, severity: Severity) -> tuple[Channel, ...]:
        return self.routing.get(severity, ())

    def asset_keys(self) -> list[str]:
        return sorted({m.asset_key for m in self.active_metrics()})


class AlertConfigError(ValueError):
    """The alerts configuration file is missing or invalid."""


def _format(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def parse_config(data: dict[str, Any], origin: str = "configuration") -> AlertConfig:
    """Validate a mapping (from TOML) into an :class:`AlertConfig`, with readable errors."""
    try:
        return AlertConfig.model_validate(data)
    except ValidationError as exc:
        raise AlertConfigError(f"{origin}: {_format(exc)}") from None


@functools.cache
def _load(path: str, mtime: float) -> AlertConfig:
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AlertConfigError(f"{path} ({CONFIG_ENV}) is not valid TOML: {exc}") from None
    return parse_config(data, f"{path} ({CONFIG_ENV})")


def load_config(path: str | None = None) -> AlertConfig:
    """The configuration from ``path`` (or ``GROWTH_ALERTS_FILE``), else the defaults.

    The file is re-read when it changes, so thresholds can be tuned without a restart.
    """
    path = path if path is not None else os.environ.get(CONFIG_ENV, "")
    if not path:
        return AlertConfig()
    file = Path(path)
    if not file.is_file():
        raise AlertConfigError(f"{path} ({CONFIG_ENV}) does not exist")
    return _load(str(file), file.stat().st_mtime)
