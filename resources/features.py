"""Feature adoption configuration: which events count as the use of which product feature.

A feature is a name and a predicate over canonical events: an event of one of
``event_types`` whose ``properties ->> property`` equals ``value`` is a use of it. The
default list is the demo's: Mixpanel "Feature Used" events normalise to ``engagement`` events
carrying the feature in ``properties.feature`` (see ``growth_assets/demo/world.py``).

``GROWTH_FEATURES`` overrides it with either

* a comma-separated list of names (``dashboards,exports``): each matched as
  ``engagement`` events with ``properties.feature`` equal to the name, or
* the path of a TOML or JSON file holding ``features``, a list of tables / objects with
  ``name`` and optionally ``event_types`` (default ``["engagement"]``), ``property``
  (default ``"feature"``) and ``value`` (default: the name)::

      [[features]]
      name = "csv_export"
      property = "feature"
      value = "exports"
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from dagster import Config
from pydantic import Field

FEATURES_VARIABLE = "GROWTH_FEATURES"
DEFAULT_FEATURE_NAMES: tuple[str, ...] = (
    "dashboards",
    "exports",
    "api",
    "alerts",
    "sso",
    "integrations",
    "reports",
    "webhooks",
    "audit_log",
    "workflows",
)
_NAME = re.compile(r"^[A-Za-z0-9_.:\- ]{1,64}$")


class FeatureSpec(Config):
    """One configured feature and the events that count as using it."""

    name: str = Field(description="The feature's label in analytics.feature_adoption.")
    event_types: list[str] = Field(
        default_factory=lambda: ["engagement"], description="Canonical event types to match."
    )
    property: str = Field(default="feature", description="Event property holding the feature.")
    value: str = Field(default="", description="Property value meaning this feature ('': name).")

    def rows(self) -> list[dict[str, str]]:
        """The SQL parameter rows of this feature, one per event type."""
        return [
            {
                "feature": self.name,
                "event_type": t,
                "property": self.property,
                "value": self.value or self.name,
            }
            for t in self.event_types
        ]


def default_features() -> list[FeatureSpec]:
    return [FeatureSpec(name=n) for n in DEFAULT_FEATURE_NAMES]


def features_json(features: list[FeatureSpec]) -> str:
    """The features as the JSON array ``sql/cohorts/feature_adoption.sql`` binds."""
    return json.dumps([row for f in features for row in f.rows()], sort_keys=True)


class FeatureConfigError(ValueError):
    """``GROWTH_FEATURES`` is malformed; the message says where and why."""


def validate_features(items: Any, origin: str) -> list[FeatureSpec]:
    if not isinstance(items, list) or not items:
        raise FeatureConfigError(f"{origin}: expected a non-empty list of features")
    out: list[FeatureSpec] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise FeatureConfigError(f"{origin}: feature #{i + 1} needs a 'name' string")
        unknown = set(item) - {"name", "event_types", "property", "value"}
        if unknown:
            raise FeatureConfigError(f"{origin}: feature {item['name']!r}: unknown keys {unknown}")
        types = item.get("event_types", ["engagement"])
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            raise FeatureConfigError(
                f"{origin}: feature {item['name']!r}: event_types must be a list of strings"
            )
        out.append(
            FeatureSpec(
                name=item["name"],
                event_types=list(types),
                property=str(item.get("property", "feature")),
                value=str(item.get("value", "")),
            )
        )
    names = [f.name for f in out]
    bad = [n for n in names if not _NAME.match(n)]
    if bad:
        raise FeatureConfigError(f"{origin}: unusable feature names {bad!r}")
    if len(set(names)) != len(names):
        raise FeatureConfigError(f"{origin}: feature names must be unique, got {names!r}")
    return out


def load_features(raw: str) -> list[FeatureSpec]:
    """Parse ``GROWTH_FEATURES``: comma-separated names, or a TOML / JSON file path."""
    text = raw.strip()
    path = Path(text).expanduser()
    if text.endswith((".toml", ".json")) or path.is_file():
        origin = f"{FEATURES_VARIABLE} ({path})"
        if not path.is_file():
            raise FeatureConfigError(f"{origin}: no such file")
        try:
            body = path.read_text(encoding="utf-8")
            data: Any = tomllib.loads(body) if path.suffix.lower() == ".toml" else json.loads(body)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            raise FeatureConfigError(f"{origin}: not valid TOML/JSON: {exc}") from exc
        if isinstance(data, dict):
            data = data.get("features")
        return validate_features(data, origin)
    names = [n.strip() for n in text.split(",") if n.strip()]
    return validate_features([{"name": n} for n in names], FEATURES_VARIABLE)
