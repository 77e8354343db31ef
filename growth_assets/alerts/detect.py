"""Anomaly detection over the rollup tables: read a metric's series, judge periods.

SQL reads (``sql/alerts/series.sql``: one metric's values per product and period); the
verdicts are the pure functions of :mod:`growth_assets.alerts.baseline`, which keeps the
three baseline kinds in one readable place and tests them by value. A watched metric reads a
few hundred rows per product at most, so nothing here needs to be pushed into SQL for speed.

Two callers: the sensor judges the periods of partitions that just landed (only the recent
ones, so a history backfill does not page anyone), and ``growth-assets alerts replay`` judges
every period of a past range, read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from growth_assets.alerts.baseline import (
    Baseline,
    Verdict,
    as_period,
    baseline_periods,
    compute_baseline,
    judge,
    period_label,
    step,
)
from growth_assets.alerts.config import AlertConfig, BaselineKind, Grain, MetricSpec, Severity
from resources.warehouse import Warehouse

PORTFOLIO = "all"
_LONGEST_PARTITION = timedelta(days=31)  # longer windows (unpartitioned assets) mean "anything"
Series = dict[str, dict[datetime, float]]


def dedup_key(product_id: str, metric: str, grain: str, period: str) -> str:
    """The outbox key and PagerDuty ``dedup_key``: one per (product, metric, grain, period)."""
    return f"growth-assets:{product_id}:{metric}:{grain}:{period}"


@dataclass(frozen=True)
class Evaluation:
    """One period of one product's metric, judged."""

    metric: MetricSpec
    product_id: str
    period: datetime
    value: float
    verdict: Verdict
    baseline: Baseline | None
    z: float | None
    severity: Severity | None
    trend: tuple[float, ...]

    @property
    def label(self) -> str:
        return period_label(self.period, self.metric.grain)

    @property
    def dedup_key(self) -> str:
        return dedup_key(self.product_id, self.metric.name, self.metric.grain.value, self.label)


def _lookback(metric: MetricSpec, config: AlertConfig) -> int:
    """Periods of history needed before the first judged period."""
    periods = max(config.window, config.trend_points)
    if metric.baseline is BaselineKind.WEEKDAY:
        per_week = 7 * 24 if metric.grain is Grain.HOURLY else 7
        periods = max(periods, config.seasonal_weeks * per_week)
    return periods


def evaluate(
    series: Series, metric: MetricSpec, config: AlertConfig, targets: Iterable[datetime]
) -> list[Evaluation]:
    """Judge each target period of each product that has a value for it (pure)."""
    weekday = metric.baseline is BaselineKind.WEEKDAY
    min_points = config.min_seasonal_baseline if weekday else config.min_baseline
    wanted = sorted(set(targets))
    out: list[Evaluation] = []
    for product_id, values in sorted(series.items()):
        if product_id == PORTFOLIO and not metric.include_all:
            continue
        for period in wanted:
            if period not in values:
                continue
            points = [
                values[p]
                for p in baseline_periods(
                    period, metric.grain, metric.baseline, config.window, config.seasonal_weeks
                )
                if p in values
            ]
            base = compute_baseline(metric.baseline, points, counts=metric.counts)
            verdict, z, severity = judge(
                values[period],
                base,
                direction=metric.bad_direction,
                min_points=min_points,
                alert_z=config.alert_z,
                high_z=config.high_z,
                min_abs_delta=metric.min_abs_delta,
            )
            trend_periods = [step(period, metric.grain, -k) for k in range(config.trend_points)]
            trend = tuple(values[p] for p in reversed(trend_periods) if p in values)
            out.append(
                Evaluation(
                    metric, product_id, period, values[period], verdict,
                    base if base.n else None, z, severity, trend,
                )
            )  # fmt: skip
    return explain_portfolio(out)


def explain_portfolio(evaluations: Sequence[Evaluation]) -> list[Evaluation]:
    """Drop the portfolio ('all') alert of a period when a product alert of the same metric
    and period moved the same way: one incident, one page."""
    product_moves = {
        (e.metric.name, e.metric.grain, e.period, (e.z or 0) > 0)
        for e in evaluations
        if e.verdict is Verdict.ALERT and e.product_id != PORTFOLIO
    }
    out = []
    for e in evaluations:
        key = (e.metric.name, e.metric.grain, e.period, (e.z or 0) > 0)
        if e.product_id == PORTFOLIO and e.verdict is Verdict.ALERT and key in product_moves:
            e = Evaluation(
                e.metric, e.product_id, e.period, e.value, Verdict.EXPLAINED,
                e.baseline, e.z, None, e.trend,
            )  # fmt: skip
        out.append(e)
    return out


def _utc_session(conn: Connection) -> None:
    conn.execute(sa.text("SET LOCAL TIME ZONE 'UTC'"))


def fetch_series(conn: Connection, metric: MetricSpec, since: datetime, until: datetime) -> Series:
    """Values of ``metric`` per product and period in ``[since, until]``."""
    _utc_session(conn)
    rows = Warehouse.fetch_file(
        conn,
        "alerts/series",
        {"since": since.replace(tzinfo=None), "until": until.replace(tzinfo=None)},
        table=metric.table,
        column=metric.column,
        time_column=metric.time_column,
        product_column=metric.product_column,
    )
    series: Series = {}
    for r in rows:
        series.setdefault(r.product_id, {})[as_period(r.period)] = float(r.value)
    return series


def latest_period(conn: Connection, metric: MetricSpec) -> datetime | None:
    _utc_session(conn)
    (row,) = Warehouse.fetch_file(
        conn, "alerts/latest_period", table=metric.table, time_column=metric.time_column
    )
    return as_period(row.period) if row.period is not None else None


def detect_windows(
    conn: Connection,
    metric: MetricSpec,
    config: AlertConfig,
    windows: Sequence[tuple[datetime, datetime]],
) -> list[Evaluation]:
    """Judge the recent periods inside the landed partition windows ``[start, end)``.

    "Recent" is within ``config.recent_periods`` of the newest period in the table, or in
    the same landed window as the newest period (a daily partition of an hourly rollup lands
    24 hours at once), so re-materialising last week does not page anyone about last week.
    """
    newest = latest_period(conn, metric)
    if newest is None or not windows:
        return []
    oldest_judged = step(newest, metric.grain, -(config.recent_periods - 1))
    for s, e in windows:
        if s <= newest < e and e - s <= _LONGEST_PARTITION:
            oldest_judged = min(oldest_judged, s)
    start = max(min(s for s, _ in windows), oldest_judged)
    end = max(e for _, e in windows)
    if start >= end:
        return []
    series = fetch_series(conn, metric, step(start, metric.grain, -_lookback(metric, config)), end)
    targets = {
        p
        for values in series.values()
        for p in values
        if p >= start and any(s <= p < e for s, e in windows)
    }
    return evaluate(series, metric, config, targets)


def replay(
    conn: Connection, config: AlertConfig, first: date, last: date, metrics: list[str] | None
) -> list[Evaluation]:
    """Judge every period from ``first`` to ``last`` (inclusive days) for the chosen metrics."""
    start = as_period(first)
    end = as_period(last) + timedelta(days=1)
    out: list[Evaluation] = []
    for metric in config.active_metrics(metrics):
        since = step(start, metric.grain, -_lookback(metric, config))
        series = fetch_series(conn, metric, since, end)
        targets = {p for values in series.values() for p in values if start <= p < end}
        out.extend(evaluate(series, metric, config, targets))
    return out
