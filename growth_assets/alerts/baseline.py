"""Pure anomaly arithmetic: baselines, z-scores, verdicts. No I/O, tested by value.

DESIGN.md's rule: the latest value's z-score against the trailing periods, excluding the
current one; |z| > 2.5 alerts, > 3.5 is high; no verdict on too few points or zero spread.
Each metric alerts only in its bad direction. A baseline is a centre and a spread:

* plain: mean and *sample* standard deviation (n - 1, as PostgreSQL's ``stddev``);
* robust: median and MAD x 1.4826 (the factor makes the MAD estimate the standard deviation
  of normally distributed data), so an old spike in the window does not mask the next one;
* weekday: either of the above over the same weekday of past weeks (chosen by the caller,
  which picks the points; the arithmetic is the plain one);
* for count metrics, the spread is floored at the Poisson standard deviation sqrt(centre).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from growth_assets.alerts.config import BaselineKind, Direction, Grain, Severity

MAD_SCALE = 1.4826
_EPSILON = 1e-9


@dataclass(frozen=True)
class Baseline:
    kind: BaselineKind
    n: int
    center: float
    spread: float


class Verdict(StrEnum):
    ALERT = "alert"
    NORMAL = "normal"  # inside the band: resolves an open alert
    SHORT = "short_baseline"  # too few points: no verdict either way
    FLAT = "flat_baseline"  # zero spread: a z-score means nothing
    EXPLAINED = "explained"  # portfolio alert explained by a product alert


def plain_baseline(values: Sequence[float]) -> Baseline:
    n = len(values)
    center = statistics.fmean(values) if n else math.nan
    spread = statistics.stdev(values) if n >= 2 else 0.0
    return Baseline(BaselineKind.PLAIN, n, center, spread)


def robust_baseline(values: Sequence[float]) -> Baseline:
    n = len(values)
    if not n:
        return Baseline(BaselineKind.ROBUST, 0, math.nan, 0.0)
    center = statistics.median(values)
    mad = statistics.median(abs(v - center) for v in values)
    return Baseline(BaselineKind.ROBUST, n, center, MAD_SCALE * mad)


def compute_baseline(
    kind: BaselineKind, values: Sequence[float], *, counts: bool = False
) -> Baseline:
    """The baseline of ``kind``; ``counts``: floor the spread at the Poisson one.

    For counts of independent occurrences (signups, churns, tickets) the spread is at least
    sqrt(centre), the standard deviation of a Poisson count with that mean: eight calm
    same-weekday values can have a sample spread far below the true noise, and turn an
    ordinary slow day into a page. A baseline with no spread at all stays flat (DESIGN.md:
    no verdict on zero spread), whatever its level.
    """
    b = robust_baseline(values) if kind is BaselineKind.ROBUST else plain_baseline(values)
    spread = b.spread
    if counts and spread > _EPSILON and b.center > 0:
        spread = max(spread, math.sqrt(b.center))
    return Baseline(kind, b.n, b.center, spread)


def zscore(value: float, baseline: Baseline) -> float | None:
    """(x - centre) / spread, or None when the spread is zero."""
    if baseline.spread <= _EPSILON:
        return None
    return (value - baseline.center) / baseline.spread


def judge(
    value: float,
    baseline: Baseline,
    *,
    direction: Direction,
    min_points: int,
    alert_z: float,
    high_z: float,
    min_abs_delta: float = 0.0,
) -> tuple[Verdict, float | None, Severity | None]:
    """Verdict, z-score and severity of one value against its baseline."""
    if baseline.n < min_points:
        return Verdict.SHORT, None, None
    z = zscore(value, baseline)
    if z is None:
        return Verdict.FLAT, None, None
    bad = {Direction.UP: z, Direction.DOWN: -z, Direction.BOTH: abs(z)}[direction]
    if bad <= alert_z or abs(value - baseline.center) < min_abs_delta:
        return Verdict.NORMAL, z, None
    return Verdict.ALERT, z, Severity.HIGH if bad > high_z else Severity.MEDIUM


def step(period: datetime, grain: Grain, n: int) -> datetime:
    """``period`` moved by ``n`` periods of ``grain`` (negative: back in time)."""
    if grain is Grain.HOURLY:
        return period + timedelta(hours=n)
    if grain is Grain.DAILY:
        return period + timedelta(days=n)
    months = period.year * 12 + period.month - 1 + n
    return period.replace(year=months // 12, month=months % 12 + 1, day=1)


def baseline_periods(
    period: datetime, grain: Grain, kind: BaselineKind, window: int, seasonal_weeks: int
) -> list[datetime]:
    """The periods whose values form ``period``'s baseline (the current one excluded)."""
    if kind is BaselineKind.WEEKDAY:
        return [period - timedelta(weeks=k) for k in range(1, seasonal_weeks + 1)]
    return [step(period, grain, -k) for k in range(1, window + 1)]


def as_period(value: date | datetime) -> datetime:
    """A period start as an aware UTC datetime (a date column gives midnight UTC)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def period_label(period: datetime, grain: Grain) -> str:
    if grain is Grain.HOURLY:
        return f"{period:%Y-%m-%dT%H:00}"
    if grain is Grain.MONTHLY:
        return f"{period:%Y-%m}"
    return f"{period:%Y-%m-%d}"


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float]) -> str:
    """The values as block characters, lowest to highest (all equal: a flat middle line)."""
    if not values:
        return ""
    lo, hi = min(values), max(values)
    if hi - lo <= _EPSILON:
        return _BARS[3] * len(values)
    scale = (len(_BARS) - 1) / (hi - lo)
    return "".join(_BARS[round((v - lo) * scale)] for v in values)
