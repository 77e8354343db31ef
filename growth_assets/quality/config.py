"""Quality configuration, read from the environment when a check runs.

* ``GROWTH_PRODUCT_START`` (YYYY-MM-DD): the day the product existed from. A timestamp
  before it is "ancient" (rejected at ingest, refused by the canonical checks). Defaults to
  the partitions' start (``GROWTH_PARTITIONS_START``), before which no partition exists.
* ``GROWTH_QUALITY_NORMAL_ROWS`` (default 1000): a partition whose trailing median reaches
  this many rows "normally has thousands": zero rows there is an ERROR, not a warning.
* ``GROWTH_QUALITY_VOLUME_RATIO`` (default 5): a partition with more than ratio × or fewer
  than median / ratio rows than its trailing median is a WARN.
* ``GROWTH_QUALITY_VOLUME_MIN_ROWS`` (default 20): partitions whose trailing median is below
  this are too small for a ratio to mean anything (an hour with 1 ticket and then 0 or 6 is
  noise, not drift): they are not judged for drift. At a median of 20 a count outside
  [4, 100] has a Poisson probability of about 2 in a million.
* ``GROWTH_QUALITY_GX`` (``on``/``off``, default on): run the Great Expectations suites.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

from growth_assets import partitions


def product_start() -> datetime:
    value = os.environ.get("GROWTH_PRODUCT_START") or partitions.partitions_start()
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"GROWTH_PRODUCT_START must be YYYY-MM-DD, got {value!r}") from exc


@dataclass(frozen=True)
class VolumeBounds:
    normal_rows: int = 1000
    ratio: float = 5.0
    min_rows: int = 20

    def baseline(self, grain: str) -> tuple[str, int, str]:
        """(lag, periods, description) of a partition's baseline: an hour against the same
        hour of the same weekday in the 4 previous weeks (an hour's traffic follows the
        week: a Sunday evening against weekday evenings is a false alarm), a day against the
        7 previous days."""
        if grain == "hourly":
            return "7 days", 4, "median of the same hour and weekday in the 4 previous weeks"
        return "1 day", 7, "median of the 7 previous days"


def volume_bounds() -> VolumeBounds:
    def num(name: str, default: float) -> float:
        raw = os.environ.get(name)
        try:
            value = float(raw) if raw else default
        except ValueError as exc:
            raise ValueError(f"{name} must be a number, got {raw!r}") from exc
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {raw!r}")
        return value

    return VolumeBounds(
        normal_rows=int(num("GROWTH_QUALITY_NORMAL_ROWS", 1000)),
        ratio=num("GROWTH_QUALITY_VOLUME_RATIO", 5.0),
        min_rows=int(num("GROWTH_QUALITY_VOLUME_MIN_ROWS", 20)),
    )


def expectations_enabled() -> bool:
    value = os.environ.get("GROWTH_QUALITY_GX", "on").lower()
    if value not in ("on", "off"):
        raise ValueError(f"GROWTH_QUALITY_GX must be on or off, got {value!r}")
    return value == "on"
