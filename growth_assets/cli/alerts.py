"""``growth-assets alerts replay``: what detection would have raised over a past range.

Read-only by construction (a ``READ ONLY`` transaction, rolled back): nothing is written to
the outbox and nothing is sent, so thresholds can be tuned against history safely.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import sqlalchemy as sa

from growth_assets.alerts.baseline import Verdict
from growth_assets.alerts.config import AlertConfig, Severity
from growth_assets.alerts.detect import Evaluation, replay
from resources.warehouse import Warehouse


def replay_evaluations(
    warehouse: Warehouse, config: AlertConfig, first: date, last: date, metrics: list[str]
) -> list[Evaluation]:
    with warehouse.engine.connect() as conn:
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        try:
            return replay(conn, config, first, last, metrics or None)
        finally:
            conn.rollback()


def _line(e: Evaluation, config: AlertConfig) -> str:
    b = e.baseline
    assert b is not None and e.severity is not None and e.z is not None
    routes = ", ".join(c.value for c in config.channels_for(e.severity)) or "nowhere"
    return (
        f"{e.label:<16} {e.product_id:<10} {e.metric.name:<20} {e.metric.grain.value:<7} "
        f"value {e.value:>10,.2f} vs {b.center:,.2f} ± {b.spread:,.2f} ({b.kind.value}, {b.n}) "
        f"z={e.z:+.2f} {e.severity.value.upper():<6} → {routes}"
    )


def format_replay(
    evaluations: list[Evaluation], config: AlertConfig, first: date, last: date
) -> str:
    alerts = [e for e in evaluations if e.verdict is Verdict.ALERT]
    verdicts = Counter(e.verdict for e in evaluations)
    severities = Counter(e.severity for e in alerts)
    lines = [
        f"replay {first} .. {last}: alert_z {config.alert_z}, high_z {config.high_z}, "
        f"window {config.window} (nothing written, nothing sent)",
        *(_line(e, config) for e in sorted(alerts, key=lambda e: (e.period, e.metric.name))),
        "",
        f"{len(evaluations)} period(s) judged: {len(alerts)} would alert "
        f"({severities[Severity.HIGH]} high, {severities[Severity.MEDIUM]} medium); "
        f"{verdicts[Verdict.SHORT]} with too short a baseline, {verdicts[Verdict.FLAT]} flat, "
        f"{verdicts[Verdict.EXPLAINED]} portfolio alert(s) explained by a product",
    ]
    return "\n".join(lines)
