"""What on-call reads: one alert as Slack text and as a PagerDuty event (pure functions)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from growth_assets.alerts.baseline import sparkline


def asset_url(ui_base: str, row: Any) -> str:
    """Link to the asset in the Dagster UI, at the alert's partition for daily alerts."""
    path = "/".join(quote(part, safe="") for part in str(row.asset_key).split("/"))
    url = f"{ui_base.rstrip('/')}/assets/{path}"
    if row.kind == "anomaly" and row.grain == "daily":
        url += f"?view=partitions&partition={quote(str(row.period))}"
    elif row.kind == "check":
        url += "?view=checks"
    return url


def slack_escape(value: Any) -> str:
    """``value`` with Slack's three control characters escaped, as Slack asks: a product id
    or a check description from the data cannot mention ``<!channel>`` or make a link."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.0f}" if float(x).is_integer() or abs(x) >= 1000 else f"{x:,.2f}"


def title(row: Any) -> str:
    if row.kind == "check":
        return (
            f"[{str(row.severity).upper()}] data-quality check failed: {row.metric} ({row.period})"
        )
    direction = "up" if (row.z or 0) > 0 else "down"
    return (
        f"[{str(row.severity).upper()}] {row.metric} {direction} on {row.product_id} "
        f"({row.grain} {row.period})"
    )


def trend_line(trend: list[float]) -> str:
    if not trend:
        return "trend: -"
    return f"last {len(trend)}: {sparkline(trend)}  ({', '.join(_num(v) for v in trend)})"


def slack_text(row: Any, ui_base: str) -> str:
    """The Slack message for an open alert (mrkdwn, also readable as plain text). Values from
    the data are escaped (:func:`slack_escape`)."""
    lines = [f":rotating_light: *{slack_escape(title(row))}*"]
    if row.kind == "anomaly":
        lines += [
            f"product `{slack_escape(row.product_id)}` · metric `{slack_escape(row.metric)}` · "
            f"period {slack_escape(row.period)}",
            f"value *{_num(row.value)}* vs baseline {_num(row.baseline_mean)} "
            f"± {_num(row.baseline_stddev)} ({row.baseline_kind}, {row.baseline_points} points)"
            f" · z = {row.z:+.2f} · severity {row.severity}",
            trend_line(list(row.trend or [])),
        ]
    else:
        details = row.details or {}
        description = slack_escape(details.get("description") or "")
        lines.append(f"run {slack_escape(details.get('run_id', '-'))}: {description}")
    if row.status == "resolved":
        by = slack_escape(row.resolved_by_period)
        lines.append(f":white_check_mark: already back inside the band at {by}")
    lines += [
        f"<{asset_url(ui_base, row)}|asset in Dagster>",
        f"dedup key `{slack_escape(row.dedup_key)}`",
    ]
    return "\n".join(lines)


def slack_resolved_text(row: Any, ui_base: str) -> str:
    by = f" at {slack_escape(row.resolved_by_period)}" if row.resolved_by_period else ""
    return (
        f":white_check_mark: *resolved: {slack_escape(title(row))}*: back inside the band{by}\n"
        f"<{asset_url(ui_base, row)}|asset in Dagster> · dedup key `{slack_escape(row.dedup_key)}`"
    )


def pagerduty_trigger(row: Any, ui_base: str) -> dict[str, Any]:
    """The Events API v2 ``trigger`` body, without the routing key (added when sending)."""
    details: dict[str, Any] = {
        "product": row.product_id,
        "metric": row.metric,
        "grain": row.grain,
        "period": row.period,
    }
    if row.kind == "anomaly":
        details |= {
            "value": row.value,
            "baseline": f"{row.baseline_kind}: mean {row.baseline_mean}, stddev "
            f"{row.baseline_stddev}, {row.baseline_points} points",
            "z": row.z,
            "trend": trend_line(list(row.trend or [])),
        }
    else:
        details |= dict(row.details or {})
    return {
        "event_action": "trigger",
        "dedup_key": row.dedup_key,
        "payload": {
            "summary": title(row)[:1024],
            "source": "growth-assets",
            "severity": "critical" if row.severity == "high" else "warning",
            "component": str(row.metric),
            "group": str(row.product_id),
            "class": str(row.kind),
            "custom_details": details,
        },
        "links": [{"href": asset_url(ui_base, row), "text": "Asset in Dagster"}],
        "client": "growth-assets",
    }


def pagerduty_resolve(row: Any) -> dict[str, Any]:
    return {"event_action": "resolve", "dedup_key": row.dedup_key}
