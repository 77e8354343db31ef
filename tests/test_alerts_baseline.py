"""Pure anomaly arithmetic and configuration: baselines, z-scores, verdicts, validation."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from growth_assets.alerts.baseline import (
    MAD_SCALE,
    Verdict,
    as_period,
    baseline_periods,
    compute_baseline,
    judge,
    period_label,
    plain_baseline,
    robust_baseline,
    sparkline,
    step,
    zscore,
)
from growth_assets.alerts.config import (
    AlertConfig,
    AlertConfigError,
    BaselineKind,
    Channel,
    Direction,
    Grain,
    Severity,
    load_config,
    parse_config,
)
from growth_assets.alerts.detect import evaluate
from growth_assets.alerts.message import asset_url, slack_text

FLAT10 = [10.0] * 30
NOISY = [10.0, 12.0, 9.0, 11.0, 10.0, 13.0, 8.0, 10.0, 11.0, 9.0] * 3


def test_plain_baseline_is_mean_and_sample_stddev() -> None:
    b = plain_baseline(NOISY)
    assert b.n == 30
    assert b.center == pytest.approx(statistics.fmean(NOISY))
    assert b.spread == pytest.approx(statistics.stdev(NOISY))


def test_robust_baseline_is_median_and_scaled_mad() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 100.0]
    b = robust_baseline(values)
    assert b.center == 3.0
    assert b.spread == pytest.approx(MAD_SCALE * 1.0)  # |dev| = 2,1,0,1,97 → median 1


def test_one_old_spike_inflates_plain_but_not_robust_spread() -> None:
    history = [*NOISY[:29], 200.0]
    assert plain_baseline(history).spread > 30
    assert robust_baseline(history).spread < 3


@pytest.mark.parametrize(
    ("value", "direction", "verdict", "severity"),
    [
        (10.5, Direction.BOTH, Verdict.NORMAL, None),
        (14.6, Direction.UP, Verdict.ALERT, Severity.MEDIUM),  # z ≈ 3.0
        (17.0, Direction.UP, Verdict.ALERT, Severity.HIGH),  # z ≈ 4.1
        (17.0, Direction.DOWN, Verdict.NORMAL, None),  # good direction for this metric
        (3.0, Direction.DOWN, Verdict.ALERT, Severity.HIGH),
        (3.0, Direction.UP, Verdict.NORMAL, None),
        (3.0, Direction.BOTH, Verdict.ALERT, Severity.HIGH),
    ],
)
def test_judge_by_direction(
    value: float, direction: Direction, verdict: Verdict, severity: Severity | None
) -> None:
    base = plain_baseline(NOISY)  # mean 10.3, stddev ≈ 1.51
    got, z, sev = judge(value, base, direction=direction, min_points=14, alert_z=2.5, high_z=3.5)
    assert got is verdict
    assert sev is severity
    assert z == pytest.approx((value - base.center) / base.spread)


@pytest.mark.parametrize(
    ("values", "verdict"),
    [
        (FLAT10, Verdict.FLAT),  # zero spread: no z-score, no alert
        (NOISY[:5], Verdict.SHORT),  # too few points
        ([], Verdict.SHORT),
    ],
)
def test_no_verdict_without_a_usable_baseline(values: list[float], verdict: Verdict) -> None:
    got, z, sev = judge(
        1000.0,
        plain_baseline(values),
        direction=Direction.BOTH,
        min_points=14,
        alert_z=2.5,
        high_z=3.5,
    )
    assert (got, z, sev) == (verdict, None, None)


def test_min_abs_delta_mutes_small_moves() -> None:
    base = plain_baseline([0.0] * 28 + [1.0, 0.0])
    verdict, z, _ = judge(
        2.0, base, direction=Direction.UP, min_points=14, alert_z=2.5, high_z=3.5, min_abs_delta=3
    )
    assert verdict is Verdict.NORMAL and z is not None and z > 3.5


def test_zscore_of_zero_spread_is_none() -> None:
    assert zscore(5.0, plain_baseline(FLAT10)) is None
    assert math.isclose(
        zscore(12.0, compute_baseline(BaselineKind.PLAIN, [8.0, 12.0])) or 0, 0.7071, rel_tol=1e-3
    )


@pytest.mark.parametrize(
    ("grain", "n", "expected"),
    [
        (Grain.DAILY, -1, datetime(2025, 2, 28, tzinfo=UTC)),
        (Grain.HOURLY, -2, datetime(2025, 2, 28, 22, tzinfo=UTC)),
        (Grain.MONTHLY, -1, datetime(2025, 2, 1, tzinfo=UTC)),
        (Grain.MONTHLY, -3, datetime(2024, 12, 1, tzinfo=UTC)),
        (Grain.MONTHLY, 10, datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_step(grain: Grain, n: int, expected: datetime) -> None:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    assert step(start, grain, n) == expected


def test_baseline_periods_exclude_the_current_one() -> None:
    p = datetime(2025, 3, 10, tzinfo=UTC)  # a Monday
    plain = baseline_periods(p, Grain.DAILY, BaselineKind.PLAIN, 30, 8)
    assert len(plain) == 30 and p not in plain and min(plain) == datetime(2025, 2, 8, tzinfo=UTC)
    weekday = baseline_periods(p, Grain.DAILY, BaselineKind.WEEKDAY, 30, 8)
    assert len(weekday) == 8 and all(d.weekday() == 0 for d in weekday) and p not in weekday


def test_weekday_baseline_ignores_the_weekly_rhythm() -> None:
    """Signups low on Sundays: a normal Sunday is normal against Sundays, an alert against
    the plain trailing window."""
    start = date(2025, 1, 6)  # Monday
    values = {}
    for i in range(70):
        d = as_period(date.fromordinal(start.toordinal() + i))
        values[d] = (20.0 if d.weekday() == 6 else 100.0) + (i % 3)
    sunday = max(d for d in values if d.weekday() == 6)
    config = AlertConfig()
    results = {}
    for kind in (BaselineKind.PLAIN, BaselineKind.WEEKDAY):
        spec = config.metrics[2].model_copy(update={"baseline": kind, "min_abs_delta": 0})
        (e,) = evaluate({"p1": values}, spec, config, [sunday])
        results[kind] = e.verdict
    assert results == {BaselineKind.PLAIN: Verdict.ALERT, BaselineKind.WEEKDAY: Verdict.NORMAL}


def test_portfolio_alert_explained_by_a_product_alert() -> None:
    config = AlertConfig()
    spec = config.metrics[0].model_copy(update={"min_abs_delta": 0})
    days = [as_period(date(2025, 1, 1 + i)) for i in range(31)]
    calm = {d: float(i % 3) for i, d in enumerate(days)}
    spiky = {**calm, days[-1]: 50.0}
    all_ = {d: calm[d] * 2 + (48 if d == days[-1] else 0) for d in days}
    out = {
        e.product_id: e.verdict
        for e in evaluate({"a": spiky, "b": calm, "all": all_}, spec, config, [days[-1]])
    }
    assert out == {"a": Verdict.ALERT, "b": Verdict.NORMAL, "all": Verdict.EXPLAINED}


def test_period_label_and_sparkline() -> None:
    p = datetime(2025, 3, 1, 13, tzinfo=UTC)
    assert period_label(p, Grain.HOURLY) == "2025-03-01T13:00"
    assert period_label(p, Grain.DAILY) == "2025-03-01"
    assert period_label(p, Grain.MONTHLY) == "2025-03"
    assert sparkline([1, 2, 3, 8]) == "▁▂▃█"
    assert sparkline([5, 5]) == "▄▄"


def test_defaults_route_high_to_pagerduty_and_slack() -> None:
    config = AlertConfig()
    assert config.channels_for(Severity.HIGH) == (Channel.PAGERDUTY, Channel.SLACK)
    assert config.channels_for(Severity.MEDIUM) == (Channel.SLACK,)
    assert (config.window, config.alert_z, config.high_z) == (30, 2.5, 3.5)
    directions = {(m.name, m.grain): m.bad_direction for m in config.metrics}
    assert directions == {
        ("churned_customers", Grain.DAILY): Direction.UP,
        ("net_revenue", Grain.DAILY): Direction.DOWN,
        ("signups", Grain.DAILY): Direction.DOWN,
        ("tickets_created", Grain.DAILY): Direction.UP,
        ("events", Grain.HOURLY): Direction.DOWN,
        ("net_revenue", Grain.MONTHLY): Direction.DOWN,
    }
    assert config.asset_keys() == [
        "growth/metrics_daily",
        "growth/metrics_hourly",
        "growth/metrics_monthly",
    ]


def test_toml_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "alerts.toml"
    file.write_text(
        'alert_z = 3.0\nhigh_z = 4.0\n[routing]\nhigh = ["slack"]\nmedium = []\n'
        '[[metrics]]\nname = "dau"\ntable = "growth.metrics_daily"\ncolumn = "active_users"\n'
        'asset_key = "growth/metrics_daily"\nbad_direction = "down"\nbaseline = "robust"\n'
    )
    monkeypatch.setenv("GROWTH_ALERTS_FILE", str(file))
    config = load_config()
    assert (config.alert_z, config.high_z) == (3.0, 4.0)
    assert config.channels_for(Severity.HIGH) == (Channel.SLACK,)
    assert [m.name for m in config.metrics] == ["dau"]
    assert config.metrics[0].baseline is BaselineKind.ROBUST


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"alert_z": 4, "high_z": 3}, "high_z (3.0) must be >= alert_z (4.0)"),
        ({"window": 1}, "window: Input should be greater than or equal to 2"),
        ({"treshold": 2}, "treshold: Extra inputs are not permitted"),
        (
            {"routing": {"high": ["email"]}},
            "routing.high.0: Input should be 'slack' or 'pagerduty'",
        ),
        (
            {
                "metrics": [
                    {
                        "name": "x",
                        "table": "growth.metrics_daily; drop",
                        "column": "x",
                        "asset_key": "a",
                    }
                ]
            },
            "refusing unsafe SQL identifier",
        ),
        (
            {
                "metrics": [
                    {
                        "name": "x",
                        "table": "t",
                        "column": "x",
                        "asset_key": "a",
                        "grain": "monthly",
                        "baseline": "weekday",
                    }
                ]
            },
            "weekday baseline needs an hourly/daily grain",
        ),
    ],
)
def test_invalid_configuration_is_refused_clearly(data: dict[str, object], message: str) -> None:
    with pytest.raises(AlertConfigError, match=r"alerts\.toml") as err:
        parse_config(data, "alerts.toml")
    assert message in str(err.value)


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(AlertConfigError, match="does not exist"):
        load_config(str(tmp_path / "nope.toml"))
    bad = tmp_path / "bad.toml"
    bad.write_text("alert_z = = 3")
    with pytest.raises(AlertConfigError, match="not valid TOML"):
        load_config(str(bad))


class _Row:
    kind = "anomaly"
    asset_key = "growth/metrics_daily"
    grain = "daily"
    period = "2025-03-01"
    product_id = "delta"
    metric = "churned_customers"
    severity = "high"
    status = "open"
    resolved_by_period = None
    value = 52.0
    baseline_mean = 1.5
    baseline_stddev = 1.2
    baseline_kind = "plain"
    baseline_points = 30
    z = 42.08
    trend = (1.0, 2.0, 1.0, 52.0)
    dedup_key = "growth-assets:delta:churned_customers:daily:2025-03-01"


def test_message_has_what_on_call_needs() -> None:
    text = slack_text(_Row(), "http://dagster.local:3000/")
    for part in ("delta", "churned_customers", "2025-03-01", "52", "1.50", "+42.08", "high",
                 "▁▁▁█", "http://dagster.local:3000/assets/growth/metrics_daily?view=partitions&partition=2025-03-01"):  # fmt: skip
        assert part in text
    assert asset_url("http://x/", _Row()).startswith("http://x/assets/growth/metrics_daily")


def test_counts_floor_the_spread_at_poisson_noise() -> None:
    calm = [11.0, 10.0, 11.0, 12.0, 11.0, 10.0, 11.0, 11.0]  # sample sd 0.64, mean 10.875
    plain = compute_baseline(BaselineKind.WEEKDAY, calm)
    counted = compute_baseline(BaselineKind.WEEKDAY, calm, counts=True)
    assert plain.spread == pytest.approx(statistics.stdev(calm))
    assert counted.spread == pytest.approx(math.sqrt(statistics.fmean(calm)))
    assert counted.center == plain.center
    args = {"direction": Direction.DOWN, "min_points": 5, "alert_z": 2.5, "high_z": 3.5}
    # 2 signups on a day that usually has 11: a page on the sample spread, medium on counts.
    assert judge(2.0, plain, **args)[2] is Severity.HIGH
    verdict, z, severity = judge(2.0, counted, **args)
    assert verdict is Verdict.ALERT and severity is Severity.MEDIUM
    assert z == pytest.approx((2 - 10.875) / math.sqrt(10.875))
    # A spread already above the Poisson one is kept; a baseline without spread stays flat.
    wide = [0.0, 30.0, 5.0, 25.0, 10.0]
    assert compute_baseline(BaselineKind.PLAIN, wide, counts=True).spread == pytest.approx(
        statistics.stdev(wide)
    )
    for level in (0.0, 3.0):
        flat = compute_baseline(BaselineKind.PLAIN, [level] * 10, counts=True)
        assert judge(level + 50, flat, **{**args, "direction": Direction.UP})[0] is Verdict.FLAT
