"""The SQL generated from the metric list: asserted as text (the community tier's continuous
aggregates cannot run on this test server, TimescaleDB's Apache build) and, for the tables,
compared with the migrated schema."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from growth_assets.rollups import sqlgen
from growth_assets.rollups.metrics import ADDITIVE, BASE, DISTINCT, METRICS, Metric
from resources.sqlfiles import read_sql, sql_dir
from resources.warehouse import Tier, Warehouse

GENERATED = Path(sql_dir()) / "generated" / "community_rollups.sql"
DEFAULT_HORIZONS = {"growth.events": 0, "growth.metrics_hourly": 400}


def flat(sql: str) -> str:
    return re.sub(r"\s+", " ", sql)


def test_hourly_cagg_aggregates_every_metric_from_the_events() -> None:
    sql = flat(sqlgen.cagg_sql(sqlgen.HOURLY))
    assert sql.startswith(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS growth.metrics_hourly_cagg "
        "WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS"
    )
    assert "time_bucket(INTERVAL '1 hour', e.occurred_at) AS bucket" in sql
    assert (
        "FROM growth.events AS e JOIN growth.event_types AS t ON t.event_type = e.event_type" in sql
    )
    assert (
        "sum(e.value_reporting) FILTER (WHERE e.event_type IN ('revenue')) AS gross_revenue" in sql
    )
    assert "count(*) FILTER (WHERE e.event_type IN ('signup')) AS signups" in sql
    assert "count(DISTINCT e.user_id) FILTER (WHERE t.user_initiated) AS active_users" in sql
    assert "count(*) AS events" in sql
    assert "GROUP BY time_bucket(INTERVAL '1 hour', e.occurred_at), e.product_id" in sql
    assert sql.endswith("WITH NO DATA")
    assert "GROUPING SETS" not in sql  # not supported in continuous aggregates
    for m in BASE:
        assert f" AS {m.name}," in sql or f" AS {m.name} FROM" in sql, m.name


def test_daily_and_monthly_caggs_are_hierarchical_and_additive_only() -> None:
    daily = flat(sqlgen.cagg_sql(sqlgen.DAILY))
    monthly = flat(sqlgen.cagg_sql(sqlgen.MONTHLY))
    assert "FROM growth.metrics_hourly_cagg AS c" in daily
    assert "time_bucket(INTERVAL '1 day', c.bucket) AS bucket" in daily
    assert "FROM growth.metrics_daily_cagg AS c" in monthly
    assert "time_bucket(INTERVAL '1 month', c.bucket) AS bucket" in monthly
    for sql in (daily, monthly):
        for m in ADDITIVE:
            assert f"sum(c.{m.name}) AS {m.name}" in sql
        for m in DISTINCT:  # distinct users do not add up over time: from the activity table
            assert m.name not in sql
        assert "growth.events" not in sql


def test_community_setup_has_policies_realtime_and_compression() -> None:
    stmts = [flat(s) for s in sqlgen.community_setup_sql()]
    text = "\n".join(stmts)
    for grain in (sqlgen.HOURLY, sqlgen.DAILY, sqlgen.MONTHLY):
        start, end, every = sqlgen.POLICIES[grain.name]
        assert (
            f"SELECT add_continuous_aggregate_policy('{grain.cagg}', start_offset => INTERVAL "
            f"'{start}', end_offset => INTERVAL '{end}', schedule_interval => INTERVAL '{every}', "
            "if_not_exists => true)"
        ) in stmts
        assert f"ALTER MATERIALIZED VIEW {grain.cagg} SET (timescaledb.compress = true);" in text
        assert f"SELECT add_compression_policy('{grain.cagg}'," in text
    # caggs are created bottom-up so each layer's source exists
    order = [
        text.index(f"CREATE MATERIALIZED VIEW IF NOT EXISTS {g.cagg}")
        for g in sqlgen.GRAINS.values()
    ]
    assert order == sorted(order)
    assert "timescaledb.compress_segmentby = 'product_id'" in text
    # compression settings are applied once (they cannot change once chunks are compressed)
    assert text.count("IF NOT EXISTS (SELECT 1 FROM timescaledb_information.") == 4
    assert (
        "SELECT add_compression_policy('growth.events', compress_after => INTERVAL '60 days'"
        in text
    )


def test_community_retention_policies_follow_the_horizons() -> None:
    stmts = [
        flat(s)
        for s in sqlgen.community_retention_sql({"growth.events": 0, "growth.metrics_hourly": 400})
    ]
    assert stmts == [
        "SELECT remove_retention_policy('growth.events', if_exists => true)",
        "SELECT remove_retention_policy('growth.metrics_hourly', if_exists => true)",
        "SELECT add_retention_policy('growth.metrics_hourly', drop_after => INTERVAL '400 days', "
        "if_not_exists => true)",
    ]


def test_community_refresh_runs_the_chain_bottom_up() -> None:
    calls = sqlgen.community_refresh_sql(sqlgen.MONTHLY)
    assert [re.search(r"'(growth\.\w+)'", c).group(1) for c in calls] == [  # type: ignore[union-attr]
        "growth.metrics_hourly_cagg",
        "growth.metrics_daily_cagg",
        "growth.metrics_monthly_cagg",
    ]
    assert all(c.startswith("CALL refresh_continuous_aggregate(") for c in calls)
    assert all(":window_start" in c and ":window_end" in c for c in calls)


def test_community_table_refresh_reads_the_caggs() -> None:
    hourly = flat(";".join(sqlgen.refresh_sql(sqlgen.HOURLY, Tier.COMMUNITY)))
    daily = flat(";".join(sqlgen.refresh_sql(sqlgen.DAILY, Tier.COMMUNITY)))
    monthly = flat(";".join(sqlgen.refresh_sql(sqlgen.MONTHLY, Tier.COMMUNITY)))
    assert "FROM growth.metrics_hourly_cagg AS c" in hourly and "growth.events" not in hourly
    assert "FROM growth.metrics_daily_cagg AS c" in daily
    assert "FROM growth.metrics_monthly_cagg AS c" in monthly
    for sql in (daily, monthly):
        assert "FROM growth.user_activity_daily AS a" in sql
    # the portfolio row is the sum of the product rows (no GROUPING SETS in a cagg)
    assert "SELECT bucket, 'all', sum(gross_revenue) AS gross_revenue," in hourly
    assert "FROM additive_products GROUP BY bucket" in hourly


@pytest.mark.parametrize(
    ("tier", "hourly_bucket"),
    [
        (Tier.APACHE, "time_bucket(INTERVAL '1 hour', e.occurred_at)"),
        (Tier.NONE, "date_trunc('hour', e.occurred_at, 'UTC')"),
    ],
)
def test_table_refresh_per_tier(tier: Tier, hourly_bucket: str) -> None:
    delete, insert = (flat(s) for s in sqlgen.refresh_sql(sqlgen.HOURLY, tier))
    assert delete == (
        "DELETE FROM growth.metrics_hourly WHERE hour >= CAST(:window_start AS timestamptz) "
        "AND hour < CAST(:window_end AS timestamptz)"
    )
    assert hourly_bucket in insert
    assert "_cagg" not in insert
    assert "e.occurred_at >= :window_start AND e.occurred_at < :window_end" in insert
    cols = ", ".join(["hour", "product_id", *(m.name for m in METRICS)])
    assert f"INSERT INTO growth.metrics_hourly ({cols})" in insert
    assert "gross_revenue - refunds AS net_revenue" in insert
    monthly = flat(sqlgen.refresh_sql(sqlgen.MONTHLY, tier)[1])
    assert "FROM growth.metrics_daily AS d" in monthly  # months from the daily rollup
    assert "count(DISTINCT a.user_id) FILTER (WHERE a.active) AS active_users" in monthly


def test_generated_community_script_is_in_sync() -> None:
    assert GENERATED.read_text() == sqlgen.community_script(DEFAULT_HORIZONS), (
        "regenerate sql/generated/community_rollups.sql with "
        "python -m growth_assets.rollups.write_community_sql"
    )


def test_activity_flags_use_the_metric_predicates() -> None:
    text = flat(read_sql("rollups/user_activity_daily"))
    for m in DISTINCT:
        pred = "t.user_initiated" if m.user_initiated else f"e.event_type IN ('{m.event_types[0]}')"
        assert f"coalesce(bool_or({pred}), false) AS {m.flag}" in text, m.name


def test_metric_definitions_refuse_unsafe_names() -> None:
    with pytest.raises(ValueError, match="unsafe identifier"):
        Metric("x; DROP TABLE y", "count", "nope")
    with pytest.raises(ValueError, match="needs an activity flag"):
        Metric("dau", "distinct", "nope", user_initiated=True)


def test_rollup_tables_have_the_metric_columns(warehouse: Warehouse) -> None:
    with warehouse.engine.connect() as conn:
        for grain in sqlgen.GRAINS.values():
            schema, table = grain.table.split(".")
            cols = conn.execute(
                sa.text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = :s AND table_name = :t"
                ),
                {"s": schema, "t": table},
            ).scalars()
            assert {grain.column, "product_id", *(m.name for m in METRICS)} <= set(cols)


def test_community_refresh_stays_inside_the_retained_events() -> None:
    def d(s: str) -> datetime:
        return datetime.fromisoformat(s).replace(tzinfo=UTC)

    now = d("2025-06-15T10:30:00")
    window = (d("2025-01-01"), d("2025-03-01"))
    assert sqlgen.retained_window(*window, sqlgen.DAILY, 0, now) == window
    # events kept 120 days: from 2025-02-15 10:30, so daily buckets from 2025-02-16 on
    assert sqlgen.retained_window(*window, sqlgen.DAILY, 120, now) == (d("2025-02-16"), window[1])
    assert sqlgen.retained_window(*window, sqlgen.MONTHLY, 120, now) is None
    assert sqlgen.retained_window(*window, sqlgen.HOURLY, 120, now) == (
        d("2025-02-15T11:00:00"),
        window[1],
    )


def test_hourly_schedule_rebuilds_today_and_yesterday_after_midnight() -> None:
    from dagster import build_schedule_context

    from growth_assets.jobs import jobs
    from growth_assets.rollups.schedules import build_rollup_schedules

    hourly = next(s for s in build_rollup_schedules(jobs()) if s.name == "hourly_rollups_today")

    def keys(at: str) -> list[str | None]:
        moment = datetime.fromisoformat(at).replace(tzinfo=UTC)
        context = build_schedule_context(scheduled_execution_time=moment)
        return [r.partition_key for r in hourly(context)]  # type: ignore[union-attr]

    assert keys("2025-03-10T14:10:00") == ["2025-03-10"]
    assert keys("2025-03-10T00:10:00") == ["2025-03-09", "2025-03-10"]
