"""Charts of the report: small typed functions from query rows to an inline SVG.

Why Matplotlib as SVG: a report holds up to a hundred charts (eleven scopes, several charts
each). Plotly would embed plotly.js (~3.5 MB) in every file and run it in the reader's
browser; Matplotlib's SVG is a few kilobytes of static vector markup per chart, needs no
script at all (the report opens offline, in mail clients and in headless Chromium for PDF),
and renders in ~0.1 s per chart. Text stays text (``svg.fonttype = none``), so the numbers
are selectable and searchable.

Each function takes rows of a documented shape, the columns of an ``analytics`` view as the
report's SQL selects them (``sql/reports/*.sql``), and returns the SVG markup, or raises
:class:`NoDataError` when there is nothing to draw: the report then says so instead of showing
an empty chart.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import matplotlib

matplotlib.use("Agg")
from matplotlib.dates import DateFormatter, MonthLocator
from matplotlib.figure import Figure

matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",
        "svg.hashsalt": "growth-assets",  # stable ids: the same data gives the same file
        "font.family": "sans-serif",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
    }
)

COLORS = {
    "revenue": "#2563eb",
    "dau": "#2563eb",
    "wau": "#7c3aed",
    "mau": "#0d9488",
    "new": "#16a34a",
    "retained": "#60a5fa",
    "resurrected": "#a3e635",
    "churned": "#dc2626",
    "expansion": "#22c55e",
    "reactivation": "#84cc16",
    "contraction": "#f97316",
    "total": "#475569",
    "ratio": "#111827",
}


class NoDataError(ValueError):
    """The rows hold nothing to draw."""


T = TypeVar("T")


def rows_as(cls: type[T], rows: Sequence[Any]) -> list[T]:
    """Rows (SQLAlchemy rows or mappings) as ``cls`` instances, by column name."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    out = []
    for r in rows:
        mapping = r._mapping if hasattr(r, "_mapping") else r
        out.append(cls(**{n: mapping[n] for n in names}))
    return out


def _f(x: Decimal | float | int | None) -> float:
    return float(x) if x is not None else float("nan")


# --- documented row shapes ------------------------------------------------------------------


@dataclass(frozen=True)
class RevenuePoint:
    """analytics.metrics_daily (``day``) or metrics_monthly (``month``) as ``period``."""

    period: date
    net_revenue: Decimal


@dataclass(frozen=True)
class EngagementPoint:
    """analytics.engagement_daily: one product's day."""

    day: date
    dau: int
    wau: int
    mau: int


@dataclass(frozen=True)
class MrrMonth:
    """analytics.mrr_monthly: one product's month."""

    month: date
    start_mrr: Decimal
    new_mrr: Decimal
    expansion_mrr: Decimal
    reactivation_mrr: Decimal
    contraction_mrr: Decimal
    churned_mrr: Decimal
    net_new_mrr: Decimal
    end_mrr: Decimal


@dataclass(frozen=True)
class GrowthAccountingPeriod:
    """analytics.growth_accounting: one product's period at the report's grain."""

    period: date
    new_users: int
    retained_users: int
    resurrected_users: int
    churned_users: int
    quick_ratio: Decimal | None


@dataclass(frozen=True)
class RetentionCell:
    """analytics.retention_triangle (segment_type 'all'): one (cohort, offset) cell."""

    cohort: date
    period_offset: int
    cohort_size: int
    retention_rate: Decimal


@dataclass(frozen=True)
class FunnelStep:
    """analytics.funnel_conversion (segment 'all'): one step of one funnel and cohort."""

    step_no: int
    step_name: str
    users: int
    conversion_from_first: Decimal | None


# --- rendering ------------------------------------------------------------------------------

_DROP = [
    re.compile(r"<\?xml[^>]*\?>\s*"),
    re.compile(r"<!DOCTYPE[^>]*>\s*"),
    re.compile(r"\s*<metadata>.*?</metadata>", re.S),
    re.compile(r'\s+xmlns(:\w+)?="[^"]*"'),
]


def _svg(fig: Figure) -> str:
    """The figure as SVG markup for inlining in HTML: no XML prolog, no RDF metadata, no
    namespace declarations (the HTML parser puts inline ``<svg>`` in the SVG namespace),
    so the report holds no URL of any kind."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})  # constrained layout: no tight pass
    text = buf.getvalue()
    for pattern in _DROP:
        text = pattern.sub("", text)
    return text.strip()


def _figure(width: float = 6.4, height: float = 2.8) -> Figure:
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _title(ax: Any, title: str) -> None:
    if title:
        ax.set_title(title, loc="left")


def _highlight(ax: Any, span: tuple[date, date] | None) -> None:
    """Shade the report's own period on a time axis."""
    if span is not None:
        ax.axvspan(span[0], span[1], color="#fde68a", alpha=0.45, linewidth=0, zorder=0)


def _money(x: float, _pos: float | None = None) -> str:
    for bound, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= bound:
            return f"{x / bound:.1f}{suffix}"
    return f"{x:.0f}"


def _labels(periods: Sequence[date], grain: str) -> list[str]:
    return [f"{p:%b %y}" if grain == "month" else f"{p:%d %b}" for p in periods]


def revenue_trend(
    points: Sequence[RevenuePoint],
    grain: str,
    title: str = "",
    highlight: tuple[date, date] | None = None,
) -> str:
    """Net revenue per day (weekly reports) or month (monthly reports) as bars; the
    report's period shaded."""
    if not points:
        raise NoDataError("no revenue rows")
    fig = _figure()
    ax = fig.subplots()
    xs = [p.period for p in points]
    ys = [_f(p.net_revenue) for p in points]
    width = 0.8 if grain == "week" else 25  # days; a bar starts at its day or month
    _highlight(ax, highlight)
    ax.bar(xs, ys, width=width, align="edge", color=COLORS["revenue"])  # type: ignore[arg-type]
    if grain == "month":
        ax.xaxis.set_major_locator(MonthLocator())  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_formatter(DateFormatter("%b %Y"))  # type: ignore[no-untyped-call]
    ax.yaxis.set_major_formatter(_money)
    _title(ax, title)
    fig.autofmt_xdate()
    return _svg(fig)


def dau_mau(
    points: Sequence[EngagementPoint],
    title: str = "",
    highlight: tuple[date, date] | None = None,
) -> str:
    """DAU, WAU and MAU per day as lines; the report's period shaded."""
    if not points:
        raise NoDataError("no engagement rows")
    fig = _figure()
    ax = fig.subplots()
    xs = [p.day for p in points]
    _highlight(ax, highlight)
    for name in ("dau", "wau", "mau"):
        ys = [getattr(p, name) for p in points]
        ax.plot(xs, ys, label=name.upper(), color=COLORS[name], linewidth=1.5)  # type: ignore[arg-type]
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", frameon=False, ncols=3)
    _title(ax, title)
    fig.autofmt_xdate()
    return _svg(fig)


def mrr_trend(months: Sequence[MrrMonth], title: str = "") -> str:
    """End-of-month MRR as a line over net new MRR as bars."""
    if not months:
        raise NoDataError("no MRR rows")
    fig = _figure()
    ax = fig.subplots()
    labels = _labels([m.month for m in months], "month")
    net = [_f(m.net_new_mrr) for m in months]
    ax.bar(
        labels,
        net,
        color=[COLORS["new"] if v >= 0 else COLORS["churned"] for v in net],
        alpha=0.6,
        label="Net new MRR",
    )
    ax.plot(
        labels,
        [_f(m.end_mrr) for m in months],
        color=COLORS["revenue"],
        marker="o",
        label="MRR (end of month)",
    )
    ax.yaxis.set_major_formatter(_money)
    ax.legend(loc="upper left", frameon=False, ncols=2)
    _title(ax, title)
    ax.tick_params(axis="x", rotation=45)
    return _svg(fig)


def mrr_waterfall(month: MrrMonth, title: str = "") -> str:
    """Start MRR → new, expansion, reactivation, −contraction, −churn → end MRR."""
    steps = [
        ("New", _f(month.new_mrr), COLORS["new"]),
        ("Expansion", _f(month.expansion_mrr), COLORS["expansion"]),
        ("Reactivation", _f(month.reactivation_mrr), COLORS["reactivation"]),
        ("Contraction", -_f(month.contraction_mrr), COLORS["contraction"]),
        ("Churn", -_f(month.churned_mrr), COLORS["churned"]),
    ]
    start, end = _f(month.start_mrr), _f(month.end_mrr)
    if start == 0 and end == 0 and all(v == 0 for _, v, _ in steps):
        raise NoDataError("no MRR in the month")
    fig = _figure()
    ax = fig.subplots()
    names, bottoms, heights, colors = ["Start"], [0.0], [start], [COLORS["total"]]
    level = start
    for name, value, color in steps:
        names.append(name)
        bottoms.append(level if value >= 0 else level + value)
        heights.append(abs(value))
        colors.append(color)
        level += value
    names.append("End")
    bottoms.append(0.0)
    heights.append(end)
    colors.append(COLORS["total"])
    bars = ax.bar(names, heights, bottom=bottoms, color=colors)
    signed = [start, *(v for _, v, _ in steps), end]
    ax.bar_label(bars, labels=[_money(v) for v in signed], padding=2, fontsize=8)
    ax.yaxis.set_major_formatter(_money)
    _title(ax, title)
    return _svg(fig)


def growth_accounting(
    periods: Sequence[GrowthAccountingPeriod], grain: str, title: str = ""
) -> str:
    """New, retained and resurrected users stacked up, churned down; quick ratio as a line
    on its own axis."""
    if not periods:
        raise NoDataError("no growth-accounting rows")
    fig = _figure(6.4, 3.0)
    ax = fig.subplots()
    labels = _labels([p.period for p in periods], grain)
    bottom = [0.0] * len(periods)
    for name in ("retained", "new", "resurrected"):
        ys = [float(getattr(p, f"{name}_users")) for p in periods]
        ax.bar(labels, ys, bottom=bottom, color=COLORS[name], label=name.capitalize())
        bottom = [b + y for b, y in zip(bottom, ys, strict=True)]
    ax.bar(
        labels, [-float(p.churned_users) for p in periods], color=COLORS["churned"], label="Churned"
    )
    ax.axhline(0, color="#334155", linewidth=0.8)
    ax.tick_params(axis="x", rotation=45)
    ratio = ax.twinx()
    ratio.plot(
        labels,
        [_f(p.quick_ratio) for p in periods],
        color=COLORS["ratio"],
        marker="o",
        linewidth=1.5,
        label="Quick ratio",
    )
    ratio.set_ylabel("quick ratio")
    ratio.set_ylim(bottom=0)
    ratio.grid(False)
    handles = ax.get_legend_handles_labels()
    extra = ratio.get_legend_handles_labels()
    ax.legend(
        handles[0] + extra[0],
        handles[1] + extra[1],
        loc="upper left",
        frameon=False,
        ncols=5,
        fontsize=8,
    )
    _title(ax, title)
    return _svg(fig)


def retention_heatmap(cells: Sequence[RetentionCell], grain: str, title: str = "") -> str:
    """Cohorts down, periods since the cohort across, retention rate as colour and text."""
    if not cells:
        raise NoDataError("no retention cells")
    cohorts = sorted({c.cohort for c in cells})
    offsets = max(c.period_offset for c in cells) + 1
    grid = [[float("nan")] * offsets for _ in cohorts]
    size = {c.cohort: c.cohort_size for c in cells}
    row_of = {c: i for i, c in enumerate(cohorts)}
    for c in cells:
        grid[row_of[c.cohort]][c.period_offset] = _f(c.retention_rate)
    fig = _figure(6.4, 0.8 + 0.28 * len(cohorts))
    ax = fig.subplots()
    ax.grid(False)
    image = ax.pcolormesh(grid, cmap="Blues", vmin=0, vmax=1, edgecolors="white", linewidth=0.5)
    ax.invert_yaxis()
    for i, row in enumerate(grid):
        for k, v in enumerate(row):
            if v == v:  # not NaN
                ax.text(
                    k + 0.5,
                    i + 0.5,
                    f"{v:.0%}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if v > 0.6 else "#0f172a",
                )
    ax.set_yticks([i + 0.5 for i in range(len(cohorts))])
    ax.set_yticklabels(
        [f"{lab} (n={size[c]})" for c, lab in zip(cohorts, _labels(cohorts, grain), strict=True)]
    )
    ax.set_xticks([k + 0.5 for k in range(offsets)])
    ax.set_xticklabels([str(k) for k in range(offsets)])
    ax.set_xlabel(f"{grain}s since first activity")
    fig.colorbar(image, ax=ax, format=lambda x, _p: f"{x:.0%}", shrink=0.8)
    _title(ax, title)
    return _svg(fig)


def funnel(steps: Sequence[FunnelStep], title: str = "") -> str:
    """Users per step as horizontal bars, first step on top, with conversion from the first."""
    if not steps or steps[0].users == 0:
        raise NoDataError("no funnel entrants")
    ordered = sorted(steps, key=lambda s: s.step_no)
    fig = _figure(6.4, 0.6 + 0.45 * len(ordered))
    ax = fig.subplots()
    names = [s.step_name for s in ordered]
    bars = ax.barh(names, [s.users for s in ordered], color=COLORS["revenue"])
    ax.invert_yaxis()
    ax.bar_label(
        bars,
        labels=[f"{s.users:,} ({_f(s.conversion_from_first):.0%})" for s in ordered],
        padding=3,
        fontsize=8,
    )
    ax.set_xlim(right=ordered[0].users * 1.25)
    _title(ax, title)
    return _svg(fig)
