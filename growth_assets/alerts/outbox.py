"""The ``ops.alerts`` outbox: what detection writes and delivery reads.

Detection records alerts and resolutions here in one transaction per tick; delivery
(:mod:`growth_assets.alerts.deliver`) later sends whatever is owed. Because the two only
meet in this table, a crash between them loses nothing and a repeated detection adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from growth_assets.alerts.baseline import Verdict
from growth_assets.alerts.config import Severity
from growth_assets.alerts.detect import PORTFOLIO, Evaluation, dedup_key
from resources.warehouse import Warehouse


@dataclass
class Recorded:
    """What one detection pass changed in the outbox."""

    new: list[str] = field(default_factory=list)
    refreshed: int = 0
    resolved: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.new or self.refreshed or self.resolved)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def alert_params(e: Evaluation) -> dict[str, Any]:
    b = e.baseline
    assert e.severity is not None
    return {
        "dedup_key": e.dedup_key,
        "kind": "anomaly",
        "product_id": e.product_id,
        "metric": e.metric.name,
        "grain": e.metric.grain.value,
        "period": e.label,
        "period_start": e.period,
        "asset_key": e.metric.asset_key,
        "value": e.value,
        "baseline_kind": e.metric.baseline.value,
        "baseline_mean": _round(b.center) if b else None,
        "baseline_stddev": _round(b.spread) if b else None,
        "baseline_points": b.n if b else 0,
        "z": _round(e.z),
        "bad_direction": e.metric.bad_direction.value,
        "severity": e.severity.value,
        "trend": orjson.dumps([_round(v) for v in e.trend]).decode(),
        "details": orjson.dumps({"table": e.metric.table, "column": e.metric.column}).decode(),
    }


def record(conn: Connection, evaluations: Sequence[Evaluation]) -> Recorded:
    """Write alerts and resolutions, oldest period first (a later normal period resolves an
    earlier alert, never the reverse)."""
    out = Recorded()
    for e in sorted(evaluations, key=lambda e: (e.period, e.metric.name, e.product_id)):
        if e.verdict is Verdict.ALERT:
            rows = Warehouse.fetch_file(conn, "alerts/upsert_alert", alert_params(e))
            if rows and rows[0].inserted:
                out.new.append(e.dedup_key)
            elif rows:  # refreshed an open alert; nothing when it was already resolved
                out.refreshed += 1
        elif e.verdict is Verdict.NORMAL:
            rows = Warehouse.fetch_file(
                conn,
                "alerts/resolve_anomaly",
                {
                    "period": e.label,
                    "product_id": e.product_id,
                    "metric": e.metric.name,
                    "grain": e.metric.grain.value,
                    "period_start": e.period,
                },
            )
            out.resolved.extend(r.dedup_key for r in rows)
    return out


@dataclass(frozen=True)
class CheckResult:
    """One asset-check evaluation of ERROR severity, as the run-status sensor saw it."""

    asset_key: str  # '/'-separated
    check_name: str
    passed: bool
    partition: str | None
    run_id: str
    description: str | None = None

    @property
    def metric(self) -> str:
        return f"{self.asset_key}:{self.check_name}"

    @property
    def period(self) -> str:
        return self.partition or f"run {self.run_id[:8]}"


def record_checks(
    conn: Connection, results: Sequence[CheckResult], severity: Severity, at: datetime
) -> Recorded:
    """Failed ERROR checks become alerts; a later pass of the same check and partition
    resolves its alert."""
    out = Recorded()
    for c in results:
        if c.passed:
            rows = Warehouse.fetch_file(
                conn, "alerts/resolve_check", {"metric": c.metric, "period": c.period}
            )
            out.resolved.extend(r.dedup_key for r in rows)
            continue
        key = dedup_key(PORTFOLIO, c.metric, "check", c.period)
        params = {
            "dedup_key": key,
            "kind": "check",
            "product_id": PORTFOLIO,
            "metric": c.metric,
            "grain": "check",
            "period": c.period,
            "period_start": at,
            "asset_key": c.asset_key,
            "value": None,
            "baseline_kind": None,
            "baseline_mean": None,
            "baseline_stddev": None,
            "baseline_points": None,
            "z": None,
            "bad_direction": None,
            "severity": severity.value,
            "trend": "[]",
            "details": orjson.dumps(
                {"run_id": c.run_id, "check": c.check_name, "description": c.description}
            ).decode(),
        }
        rows = Warehouse.fetch_file(conn, "alerts/upsert_alert", params)
        if rows and rows[0].inserted:
            out.new.append(key)
        elif rows:
            out.refreshed += 1
    return out
