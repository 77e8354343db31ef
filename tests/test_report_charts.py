"""The report's chart functions and sections on fixture rows shaped like the analytics views
(including issue 5's views: analytics.mrr_monthly, growth_accounting, retention_triangle,
funnel_conversion, as sql/reports/*.sql select them), without a database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from growth_assets.reports import charts, render
from growth_assets.reports.data import OPTIONAL_SECTIONS, QualityRow, ReportData
from growth_assets.reports.periods import Period, add_months, last_complete

MONTH = Period.of("month", date(2025, 3, 1))


def row(**values: Any) -> SimpleNamespace:
    """A query row: attribute access and ``_mapping``, like SQLAlchemy's."""
    ns = SimpleNamespace(**values)
    ns._mapping = values
    return ns


def mrr_rows(product: str = "all") -> list[SimpleNamespace]:
    out = []
    level = Decimal("1000")
    for k in range(6):
        month = add_months(date(2024, 10, 1), k)
        new, exp, react = Decimal(200 + 10 * k), Decimal(50), Decimal(k * 5)
        contr, churn = Decimal(30), Decimal(80 if k != 3 else 400)
        net = new + exp + react - contr - churn
        out.append(
            row(
                month=month,
                product_id=product,
                start_mrr=level,
                new_mrr=new,
                expansion_mrr=exp,
                reactivation_mrr=react,
                contraction_mrr=contr,
                churned_mrr=churn,
                net_new_mrr=net,
                end_mrr=level + net,
                quick_ratio=(new + exp + react) / (contr + churn),
                nrr=Decimal("0.95"),
                grr=Decimal("0.9"),
                customer_churn_rate=Decimal("0.04"),
                customers_end=40 + k,
            )
        )
        level += net
    return out


def growth_rows(product: str = "all") -> list[SimpleNamespace]:
    return [
        row(
            period=add_months(date(2024, 10, 1), k),
            product_id=product,
            active_users=100 + k,
            new_users=30 + k,
            retained_users=60,
            resurrected_users=10,
            churned_users=20 - k,
            quick_ratio=Decimal(40 + 2 * k) / Decimal(20 - k),
            retention_rate=Decimal("0.7"),
        )
        for k in range(6)
    ]


def retention_rows(product: str = "all") -> list[SimpleNamespace]:
    out = []
    for c in range(6):
        cohort = add_months(date(2024, 10, 1), c)
        for k in range(6 - c):
            rate = Decimal(1) if k == 0 else Decimal("0.6") * Decimal("0.85") ** k
            out.append(
                row(
                    product_id=product,
                    cohort=cohort,
                    period_offset=k,
                    cohort_size=100,
                    retention_rate=round(rate, 6),
                )
            )
    return out


def funnel_rows(product: str = "all") -> list[SimpleNamespace]:
    users = [500, 300, 120, 40]
    names = ["signup", "activation", "key_action", "paid"]
    return [
        row(
            funnel="onboarding",
            product_id=product,
            step_no=i + 1,
            step_name=names[i],
            users=u,
            conversion_from_first=Decimal(u) / 500,
            complete=True,
        )
        for i, u in enumerate(users)
    ]


def test_every_chart_function_draws_an_offline_svg() -> None:
    months = charts.rows_as(charts.MrrMonth, mrr_rows())
    days = [date(2025, 3, 1) + timedelta(days=i) for i in range(31)]
    svgs = {
        "revenue": charts.revenue_trend(
            [charts.RevenuePoint(d, Decimal(i * 3)) for i, d in enumerate(days)], "week"
        ),
        "dau_mau": charts.dau_mau(
            [charts.EngagementPoint(d, 10 + i, 40, 90) for i, d in enumerate(days)]
        ),
        "mrr_trend": charts.mrr_trend(months),
        "mrr_waterfall": charts.mrr_waterfall(months[-1]),
        "growth_accounting": charts.growth_accounting(
            charts.rows_as(charts.GrowthAccountingPeriod, growth_rows()), "month"
        ),
        "retention": charts.retention_heatmap(
            charts.rows_as(charts.RetentionCell, retention_rows()), "month"
        ),
        "funnel": charts.funnel(charts.rows_as(charts.FunnelStep, funnel_rows())),
    }
    for name, svg in svgs.items():
        assert svg.startswith("<svg") and svg.endswith("</svg>"), name
        assert svg.count("<path") + svg.count("<use") > 10, name
        assert render.external_references(svg) == [], name
        assert "http" not in svg, name
    assert "Expansion" in svgs["mrr_waterfall"] and "Churn" in svgs["mrr_waterfall"]
    assert "Quick ratio" in svgs["growth_accounting"] and "Churned" in svgs["growth_accounting"]
    assert "60%" in svgs["retention"] and "n=100" in svgs["retention"]
    assert "paid" in svgs["funnel"] and "8%" in svgs["funnel"]
    # deterministic: the same rows give the same file
    assert charts.mrr_waterfall(months[-1]) == svgs["mrr_waterfall"]


def test_waterfall_bars_add_up_to_the_end_mrr() -> None:
    m = charts.rows_as(charts.MrrMonth, mrr_rows())[3]
    total = m.start_mrr + m.new_mrr + m.expansion_mrr + m.reactivation_mrr
    assert total - m.contraction_mrr - m.churned_mrr == m.end_mrr


@pytest.mark.parametrize(
    "draw",
    [
        lambda: charts.revenue_trend([], "week"),
        lambda: charts.dau_mau([]),
        lambda: charts.mrr_trend([]),
        lambda: charts.growth_accounting([], "week"),
        lambda: charts.retention_heatmap([], "week"),
        lambda: charts.funnel([]),
        lambda: charts.funnel([charts.FunnelStep(1, "signup", 0, None)]),
    ],
)
def test_nothing_to_draw_is_said_not_drawn_empty(draw: Any) -> None:
    with pytest.raises(charts.NoDataError):
        draw()


def _data(present: bool) -> ReportData:
    kpi = row(
        product_id="all",
        net_revenue=Decimal("10.5"),
        active_users=7,
        signups=3,
        churned_customers=1,
        avg_dau=Decimal("2.5"),
        mau=9,
        stickiness=Decimal("0.25"),
    )
    prev = row(
        product_id="all",
        net_revenue=Decimal("7"),
        active_users=7,
        signups=4,
        churned_customers=0,
        avg_dau=Decimal("2"),
        mau=8,
        stickiness=Decimal("0.2"),
    )
    days = [date(2025, 3, 1) + timedelta(days=i) for i in range(31)]
    return ReportData(
        period=MONTH,
        present={s.name: present for s in OPTIONAL_SECTIONS},
        products=["all"],
        kpis={"all": kpi},
        previous_kpis={"all": prev},
        revenue={
            "all": [
                row(period=date(2025, m, 1), product_id="all", net_revenue=Decimal(m))
                for m in (1, 2, 3)
            ]
        },
        engagement={"all": [row(day=d, product_id="all", dau=2, wau=5, mau=9) for d in days]},
        alerts=[],
        quality=[
            QualityRow("growth/metrics_daily", "totals_match_inputs", "passed", "ERROR", None, None)
        ],
        quality_source="fixture",
        mrr={"all": mrr_rows()} if present else {},
        growth_accounting={"all": growth_rows()} if present else {},
        retention={"all": retention_rows()} if present else {},
        funnels={"all": funnel_rows()} if present else {},
    )


def test_sections_light_up_when_their_views_exist() -> None:
    data = _data(present=True)
    (scope,) = render.scopes(data)
    drawn = {c.key for c in scope.charts if c.svg}
    assert drawn == {
        "revenue",
        "dau_mau",
        "mrr_trend",
        "mrr_waterfall",
        "growth_accounting",
        "retention",
        "funnel",
    }
    cards = {k.key: k for k in scope.kpis}
    assert cards["net_revenue"].change == pytest.approx(0.5)
    assert cards["mrr.end_mrr"].value == float(mrr_rows()[5].end_mrr)
    assert cards["mrr.end_mrr"].previous == float(mrr_rows()[4].end_mrr)
    assert cards["growth.quick_ratio"].value == pytest.approx(50 / 15)
    html = render.render_html(data, [scope], ["exports/metrics_daily.csv"], "USD")
    assert "Not available in this report" not in html
    assert render.external_references(html) == []


def test_absent_views_are_named_and_their_charts_left_out() -> None:
    data = _data(present=False)
    (scope,) = render.scopes(data)
    assert {c.key for c in scope.charts} == {"revenue", "dau_mau"}
    assert not any(k.key.startswith(("mrr.", "growth.")) for k in scope.kpis)
    html = render.render_html(data, [scope], [], "USD")
    for section in OPTIONAL_SECTIONS:
        assert f'data-missing="{section.name}"' in html and section.view in html


def test_html_is_autoescaped() -> None:
    data = _data(present=False)
    data.quality = [QualityRow("<script>x</script>", "c", "passed", "ERROR", None, None)]
    html = render.render_html(data, render.scopes(data), [], "USD")
    assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize(
    ("grain", "last", "start"),
    [
        ("week", date(2024, 12, 5), date(2024, 11, 25)),
        ("week", date(2024, 12, 1), date(2024, 11, 25)),
        ("week", date(2024, 12, 2), date(2024, 11, 25)),
        ("month", date(2024, 12, 5), date(2024, 11, 1)),
        ("month", date(2024, 11, 30), date(2024, 11, 1)),
        ("month", date(2025, 1, 31), date(2025, 1, 1)),
    ],
)
def test_last_complete_period(grain: Any, last: date, start: date) -> None:
    period = last_complete(grain, last)
    assert period.start == start and period.last_day <= last


def test_periods() -> None:
    week = Period.of("week", date(2024, 12, 30))
    assert week.label == "2025-W01" and week.month == date(2025, 1, 1)
    assert week.previous.start == date(2024, 12, 23)
    assert MONTH.previous == Period.of("month", date(2025, 2, 1))
    assert MONTH.trend_start == date(2024, 4, 1)
    with pytest.raises(ValueError, match="Monday"):
        Period.of("week", date(2024, 12, 31))
