"""SQL for the rollups, generated from :data:`growth_assets.rollups.metrics.METRICS`.

One metric list, three consumers:

* :func:`refresh_sql` replaces a window of ``growth.metrics_hourly`` / ``metrics_daily`` /
  ``metrics_monthly`` (delete the window, insert it again, in the caller's transaction). On
  the Apache and plain tiers it aggregates ``growth.events`` (hourly, daily) and
  ``growth.metrics_daily`` (monthly); on the community tier it reads the continuous
  aggregates instead. Distinct-user metrics of days and months always come from
  ``growth.user_activity_daily``.
* :func:`community_setup_sql` creates the community tier's hierarchical continuous aggregates
  (events → hourly → daily → monthly), their refresh policies, real-time aggregation and
  compression; :func:`community_retention_sql` its retention policies.
* :func:`check_sql` compares a rollup window with what it summarises.

Only constants of this module and of the metric list (validated identifiers) go into the text;
window bounds are bind parameters (``:window_start``, ``:window_end``), so the generated SQL
is as safe as a file in ``sql/``. ``sql/generated/community_rollups.sql`` is this module's
community output, kept in the repository for readers (a test keeps it in sync).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from growth_assets.rollups.metrics import ADDITIVE, BASE, DERIVED, DISTINCT, METRICS, Metric
from resources.warehouse import Tier

GrainName = Literal["hourly", "daily", "monthly"]


@dataclass(frozen=True)
class Grain:
    name: GrainName
    table: str  # the rollup table
    column: str  # its bucket column
    column_type: str
    interval: str  # bucket width, as an SQL interval literal
    cagg: str  # the community tier's continuous aggregate

    @property
    def lo(self) -> str:
        """The window's first bucket, in the bucket column's type."""
        return _bound("window_start", self.column_type)

    @property
    def hi(self) -> str:
        return _bound("window_end", self.column_type)


def _bound(param: str, column_type: str) -> str:
    if column_type == "timestamptz":
        return f"CAST(:{param} AS timestamptz)"
    return f"CAST(CAST(:{param} AS timestamptz) AT TIME ZONE 'UTC' AS date)"


HOURLY = Grain(
    "hourly", "growth.metrics_hourly", "hour", "timestamptz", "1 hour", "growth.metrics_hourly_cagg"
)
DAILY = Grain("daily", "growth.metrics_daily", "day", "date", "1 day", "growth.metrics_daily_cagg")
MONTHLY = Grain(
    "monthly", "growth.metrics_monthly", "month", "date", "1 month", "growth.metrics_monthly_cagg"
)
GRAINS: dict[str, Grain] = {g.name: g for g in (HOURLY, DAILY, MONTHLY)}

EVENTS_FROM = "growth.events AS e\n    JOIN growth.event_types AS t ON t.event_type = e.event_type"
EVENTS_WINDOW = "e.occurred_at >= :window_start AND e.occurred_at < :window_end"

# Refresh policies of the continuous aggregates: how far back each refresh looks, how close
# to now it stops (the rest is served by real-time aggregation) and how often it runs.
POLICIES: dict[str, tuple[str, str, str]] = {
    "hourly": ("3 days", "1 hour", "15 minutes"),
    "daily": ("7 days", "1 hour", "1 hour"),
    "monthly": ("3 months", "1 hour", "1 day"),
}
COMPRESS_CAGGS_AFTER = {"hourly": "30 days", "daily": "180 days", "monthly": "2 years"}
COMPRESS_EVENTS_AFTER = "60 days"


def _predicate(m: Metric, e: str = "e", t: str = "t") -> str | None:
    if m.user_initiated:
        return f"{t}.user_initiated"
    if m.event_types:
        types = ", ".join(f"'{x}'" for x in m.event_types)
        return f"{e}.event_type IN ({types})"
    return None


def _filter(pred: str | None) -> str:
    return f" FILTER (WHERE {pred})" if pred else ""


def event_aggregate(m: Metric) -> str:
    """``m`` aggregated over ``growth.events AS e JOIN growth.event_types AS t`` (per product:
    distinct users are distinct ``user_id`` within a product)."""
    pred = _predicate(m)
    if m.kind == "sum":
        return f"sum(e.value_reporting){_filter(pred)}"
    if m.kind == "count":
        return f"count(*){_filter(pred)}"
    if m.kind == "distinct":
        return f"count(DISTINCT e.user_id){_filter(pred)}"
    raise ValueError(f"{m.name} is derived: it has no event aggregate")


def bucket_of(source: str, grain: Grain, tier: Tier) -> str:
    """The bucket of a timestamptz (``source``) or date column for ``grain``.

    TimescaleDB tiers use ``time_bucket`` (UTC-aligned for timestamptz); plain PostgreSQL uses
    ``date_trunc``. Both give the same UTC buckets; the tests compare the two tiers.
    """
    ts = tier is not Tier.NONE
    if grain.name == "hourly":
        return (
            f"time_bucket(INTERVAL '1 hour', {source})"
            if ts
            else f"date_trunc('hour', {source}, 'UTC')"
        )
    if grain.name == "daily":
        inner = (
            f"time_bucket(INTERVAL '1 day', {source})"
            if ts
            else f"date_trunc('day', {source}, 'UTC')"
        )
        return f"CAST({inner} AT TIME ZONE 'UTC' AS date)"
    # monthly, over a date column
    return (
        f"time_bucket(INTERVAL '1 month', {source})"
        if ts
        else f"CAST(date_trunc('month', {source}) AS date)"
    )


def _grouped(select_bucket: str, product: str, aggs: list[str], from_: str, where: str) -> str:
    """Aggregates per bucket and product (the portfolio row is added by :func:`_portfolio`)."""
    cols = ",\n        ".join(aggs)
    return (
        f"SELECT\n        {select_bucket} AS bucket,\n"
        f"        {product} AS product_id,\n"
        f"        {cols}\n"
        f"    FROM {from_}\n"
        f"    WHERE {where}\n"
        "    GROUP BY 1, 2"
    )


def _portfolio(source: str, metrics: tuple[Metric, ...]) -> str:
    """``source``'s product rows plus the 'all' row of each bucket, their sum: users are
    counted per product, so even distinct-user metrics add up over products."""
    cols = ", ".join(m.name for m in metrics)
    sums = ",\n        ".join(f"sum({m.name}) AS {m.name}" for m in metrics)
    return (
        f"SELECT bucket, product_id, {cols}\n"
        f"    FROM {source}\n"
        "    UNION ALL\n"
        f"    SELECT\n        bucket,\n        'all',\n        {sums}\n"
        f"    FROM {source}\n"
        "    GROUP BY bucket"
    )


def _additive_source(grain: Grain, tier: Tier) -> tuple[str, tuple[Metric, ...]]:
    """The CTE body giving the additive metrics (and, hourly, the distinct ones) per bucket
    and product, and the metrics it provides."""
    if tier is Tier.COMMUNITY:
        provided = BASE if grain.name == "hourly" else ADDITIVE
        bucket = (
            "c.bucket" if grain.name == "hourly" else "CAST(c.bucket AT TIME ZONE 'UTC' AS date)"
        )
        aggs = [f"sum(c.{m.name}) AS {m.name}" for m in provided]
        where = (
            "c.bucket >= CAST(:window_start AS timestamptz)"
            " AND c.bucket < CAST(:window_end AS timestamptz)"
        )
        return _grouped(bucket, "c.product_id", aggs, f"{grain.cagg} AS c", where), provided
    if grain.name in ("hourly", "daily"):
        provided = BASE if grain.name == "hourly" else ADDITIVE
        aggs = [f"{event_aggregate(m)} AS {m.name}" for m in provided]
        bucket = bucket_of("e.occurred_at", grain, tier)
        return _grouped(bucket, "e.product_id", aggs, EVENTS_FROM, EVENTS_WINDOW), provided
    # monthly on Apache / plain: sum the daily rollup's product rows
    aggs = [f"sum(d.{m.name}) AS {m.name}" for m in ADDITIVE]
    where = f"d.product_id <> 'all' AND d.day >= {grain.lo} AND d.day < {grain.hi}"
    bucket = bucket_of("d.day", grain, tier)
    return _grouped(bucket, "d.product_id", aggs, "growth.metrics_daily AS d", where), ADDITIVE


def _distinct_source(grain: Grain, tier: Tier) -> str:
    """Distinct-user metrics of days / months from ``growth.user_activity_daily``: one row per
    (product, user, day), so a day counts rows and a month counts distinct users."""
    if grain.name == "daily":
        aggs = [f"count(*) FILTER (WHERE a.{m.flag}) AS {m.name}" for m in DISTINCT]
        bucket = "a.day"
    else:
        aggs = [
            f"count(DISTINCT a.user_id) FILTER (WHERE a.{m.flag}) AS {m.name}" for m in DISTINCT
        ]
        bucket = bucket_of("a.day", grain, tier)
    where = f"a.day >= {grain.lo} AND a.day < {grain.hi}"
    return _grouped(bucket, "a.product_id", aggs, "growth.user_activity_daily AS a", where)


def _grid(grain: Grain, sources: list[str]) -> str:
    """Every bucket of the window for every product seen by then (zeros where nothing
    happened, so a quiet day is a 0, not a gap), plus whatever the sources hold."""
    step = f"INTERVAL '{grain.interval}'"
    if grain.name == "hourly":
        series = f"generate_series({grain.lo}, {grain.hi} - {step}, {step})"
        present = "p.first_day <= CAST(s AT TIME ZONE 'UTC' AS date) AND s <= now()"
    elif grain.name == "daily":
        series = f"generate_series({grain.lo}, {grain.hi} - 1, {step})"
        present = "p.first_day <= CAST(s AS date)"
    else:
        series = f"generate_series({grain.lo}, {grain.hi} - {step}, {step})"
        present = f"p.first_day < CAST(s + {step} AS date)"
    union = "".join(f"\n    UNION\n    SELECT bucket, product_id FROM {src}" for src in sources)
    return (
        f"SELECT CAST(s AS {grain.column_type}) AS bucket, p.product_id\n"
        f"    FROM {series} AS s\n"
        f"    JOIN products AS p ON {present}"
        f"{union}"
    )


PRODUCTS_CTES: list[tuple[str, str]] = [
    # The products of growth.users, found by skipping through its primary key (one probe
    # per product: a "loose index scan"), then each product's first day from the
    # (product_id, first_seen_at) index: no read of every user (migration 0020).
    (
        "product_ids",
        "SELECT min(product_id) AS product_id FROM growth.users\n"
        "    UNION ALL\n"
        "    SELECT (SELECT min(u.product_id) FROM growth.users AS u\n"
        "            WHERE u.product_id > p.product_id)\n"
        "    FROM product_ids AS p\n"
        "    WHERE p.product_id IS NOT NULL",
    ),
    (
        "first_days",
        "SELECT p.product_id,\n"
        "           (SELECT CAST(min(u.first_seen_at) AT TIME ZONE 'UTC' AS date)\n"
        "            FROM growth.users AS u WHERE u.product_id = p.product_id) AS first_day\n"
        "    FROM product_ids AS p\n"
        "    WHERE p.product_id IS NOT NULL",
    ),
    (
        "products",
        "SELECT product_id, first_day FROM first_days\n"
        "    UNION ALL\n"
        "    SELECT 'all', min(first_day) FROM first_days",
    ),
]
"""The CTEs giving ``products (product_id, first_day)``: each product's first day and the
portfolio's ('all'); they need ``WITH RECURSIVE``."""


def refresh_sql(grain: Grain, tier: Tier) -> list[str]:
    """Statements replacing ``grain``'s rollup for the buckets in [:window_start, :window_end).

    Run them in one transaction. On the community tier the continuous aggregates must have
    been refreshed for the window first (:func:`community_refresh_sql`)."""
    additive, provided = _additive_source(grain, tier)
    ctes = [
        *PRODUCTS_CTES,
        ("additive_products", additive),
        ("additive", _portfolio("additive_products", provided)),
    ]
    sources = ["additive"]
    if grain.name != "hourly":
        ctes.append(("distinct_products", _distinct_source(grain, tier)))
        ctes.append(("distinct_users", _portfolio("distinct_products", DISTINCT)))
        sources.append("distinct_users")
    ctes.append(("grid", _grid(grain, sources)))
    origin = {m.name: "a" for m in provided}
    base_cols = [f"coalesce({origin.get(m.name, 'u')}.{m.name}, 0) AS {m.name}" for m in BASE]
    joins = "LEFT JOIN additive AS a USING (bucket, product_id)"
    if grain.name != "hourly":
        joins += "\n        LEFT JOIN distinct_users AS u USING (bucket, product_id)"
    derived = [f"{m.expression} AS {m.name}" for m in DERIVED]
    columns = [grain.column, "product_id", *(m.name for m in METRICS)]
    with_ = ",\n".join(f"{name} AS (\n    {body}\n)" for name, body in ctes)
    select_cols = ",\n    ".join(["bucket", "product_id", *(m.name for m in METRICS)])
    inner_cols = ",\n        ".join(["g.bucket", "g.product_id", *base_cols])
    lateral = f"\nCROSS JOIN LATERAL (SELECT {', '.join(derived)}) AS derived" if derived else ""
    insert = (
        f"WITH RECURSIVE {with_}\n"
        f"INSERT INTO {grain.table}\n    ({', '.join(columns)})\n"
        f"SELECT\n    {select_cols}\n"
        f"FROM (\n    SELECT\n        {inner_cols}\n    FROM grid AS g\n        {joins}\n) AS base"
        f"{lateral}"
    )
    delete = (
        f"DELETE FROM {grain.table}\n"
        f"WHERE {grain.column} >= {grain.lo}\n  AND {grain.column} < {grain.hi}"
    )
    return [delete, insert]


def check_sql(grain: Grain) -> str:
    """One row comparing a rollup window with its inputs.

    ``input_<m>``: the additive metric summed over what the rollup summarises (the events of
    the window; for months, the daily rollup's product rows); ``products_<m>`` / ``all_<m>``:
    the rollup's product rows summed and its portfolio row, for every stored metric."""
    if grain.name == "monthly":
        inputs = [f"coalesce(sum(d.{m.name}), 0) AS input_{m.name}" for m in ADDITIVE]
        input_from = (
            "growth.metrics_daily AS d\n"
            f"    WHERE d.product_id <> 'all' AND d.day >= {grain.lo} AND d.day < {grain.hi}"
        )
    else:
        inputs = [f"coalesce({event_aggregate(m)}, 0) AS input_{m.name}" for m in ADDITIVE]
        input_from = f"{EVENTS_FROM}\n    WHERE {EVENTS_WINDOW}"
    rollup = []
    for m in METRICS:
        rollup.append(
            f"coalesce(sum(r.{m.name}) FILTER (WHERE r.product_id <> 'all'), 0)"
            f" AS products_{m.name}"
        )
        rollup.append(
            f"coalesce(sum(r.{m.name}) FILTER (WHERE r.product_id = 'all'), 0) AS all_{m.name}"
        )
    sep = ",\n        "
    return (
        f"WITH inputs AS (\n    SELECT\n        {sep.join(inputs)}\n    FROM {input_from}\n),\n"
        f"rollup AS (\n    SELECT\n        count(*) AS rows,\n        {sep.join(rollup)}\n"
        f"    FROM {grain.table} AS r\n"
        f"    WHERE r.{grain.column} >= {grain.lo} AND r.{grain.column} < {grain.hi}\n)\n"
        "SELECT * FROM inputs CROSS JOIN rollup"
    )


def check_mismatches(row: object, grain: Grain) -> dict[str, list[str]]:
    """The metrics whose rollup disagrees with its inputs, or whose 'all' row is not the sum
    of the product rows, from a :func:`check_sql` row."""
    bad: dict[str, list[str]] = {}
    for m in ADDITIVE:
        a, b = getattr(row, f"input_{m.name}"), getattr(row, f"products_{m.name}")
        if a != b:
            bad[m.name] = [str(a), str(b)]
    for m in METRICS:
        a, b = getattr(row, f"products_{m.name}"), getattr(row, f"all_{m.name}")
        if a != b:
            bad[f"all_{m.name}"] = [str(a), str(b)]
    return bad


# --- community tier: continuous aggregates -------------------------------------------------


def cagg_sql(grain: Grain) -> str:
    """The continuous aggregate of ``grain``: hourly over the events, daily over hourly,
    monthly over daily (hierarchical, TimescaleDB ≥ 2.9). Real-time aggregation is on
    (``materialized_only = false``): buckets newer than the last refresh are computed from the
    layer below at query time, so today's numbers need no refresh to be current.

    FILTER and DISTINCT inside a continuous aggregate need TimescaleDB ≥ 2.7, the join with
    the event vocabulary ≥ 2.10; GROUPING SETS are not supported, so the portfolio row
    ('all') is summed when the rollup tables are refreshed from these views."""
    options = "timescaledb.continuous, timescaledb.materialized_only = false"
    if grain.name == "hourly":
        bucket = "time_bucket(INTERVAL '1 hour', e.occurred_at)"
        aggs = [f"{event_aggregate(m)} AS {m.name}" for m in BASE]
        from_ = EVENTS_FROM
        product = "e.product_id"
    else:
        below = HOURLY if grain.name == "daily" else DAILY
        bucket = f"time_bucket(INTERVAL '{grain.interval}', c.bucket)"
        aggs = [f"sum(c.{m.name}) AS {m.name}" for m in ADDITIVE]
        from_ = f"{below.cagg} AS c"
        product = "c.product_id"
    cols = ",\n    ".join(aggs)
    return (
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {grain.cagg}\n"
        f"WITH ({options}) AS\n"
        f"SELECT\n    {bucket} AS bucket,\n    {product} AS product_id,\n    {cols}\n"
        f"FROM {from_}\n"
        f"GROUP BY {bucket}, {product}\n"
        "WITH NO DATA"
    )


def _once(catalog: str, condition: str, statement: str) -> str:
    """``statement`` unless ``catalog`` already has a row matching ``condition``: compression
    settings cannot be set again once chunks are compressed, and setup runs on every refresh."""
    return (
        "DO $$\nBEGIN\n"
        f"    IF NOT EXISTS (SELECT 1 FROM {catalog}\n"
        f"                   WHERE {condition}) THEN\n"
        f"        {statement};\n"
        "    END IF;\nEND\n$$"
    )


def community_setup_sql() -> list[str]:
    """Idempotent DDL of the community tier: the three continuous aggregates, their refresh
    policies, compression of the aggregates and of ``growth.events``."""
    out: list[str] = []
    for grain in (HOURLY, DAILY, MONTHLY):
        start, end, every = POLICIES[grain.name]
        out.append(cagg_sql(grain))
        out.append(
            f"SELECT add_continuous_aggregate_policy('{grain.cagg}',\n"
            f"    start_offset => INTERVAL '{start}',\n"
            f"    end_offset => INTERVAL '{end}',\n"
            f"    schedule_interval => INTERVAL '{every}',\n"
            "    if_not_exists => true)"
        )
        schema, name = grain.cagg.split(".")
        out.append(
            _once(
                "timescaledb_information.continuous_aggregates",
                f"view_schema = '{schema}' AND view_name = '{name}' AND compression_enabled",
                f"ALTER MATERIALIZED VIEW {grain.cagg} SET (timescaledb.compress = true)",
            )
        )
        out.append(
            f"SELECT add_compression_policy('{grain.cagg}',\n"
            f"    compress_after => INTERVAL '{COMPRESS_CAGGS_AFTER[grain.name]}',\n"
            "    if_not_exists => true)"
        )
    out.append(
        _once(
            "timescaledb_information.hypertables",
            "hypertable_schema = 'growth' AND hypertable_name = 'events' AND compression_enabled",
            "ALTER TABLE growth.events SET (timescaledb.compress,\n"
            "        timescaledb.compress_segmentby = 'product_id',\n"
            "        timescaledb.compress_orderby = 'occurred_at DESC')",
        )
    )
    out.append(
        "SELECT add_compression_policy('growth.events',\n"
        f"    compress_after => INTERVAL '{COMPRESS_EVENTS_AFTER}',\n"
        "    if_not_exists => true)"
    )
    return out


def community_retention_sql(horizons: dict[str, int]) -> list[str]:
    """Retention policies for relations with a horizon in days (0 = keep everything): the old
    policy is removed first so a changed horizon takes effect."""
    out: list[str] = []
    for relation, days in horizons.items():
        out.append(f"SELECT remove_retention_policy('{relation}', if_exists => true)")
        if days > 0:
            out.append(
                f"SELECT add_retention_policy('{relation}',\n"
                f"    drop_after => INTERVAL '{int(days)} days',\n"
                "    if_not_exists => true)"
            )
    return out


def community_refresh_sql(grain: Grain) -> list[str]:
    """``CALL refresh_continuous_aggregate`` for the caggs ``grain``'s table reads, bottom up.

    A procedure that cannot run inside a transaction block: execute on an autocommit
    connection. Windows are aligned to whole buckets by the caller."""
    chain = {"hourly": [HOURLY], "daily": [HOURLY, DAILY], "monthly": [HOURLY, DAILY, MONTHLY]}
    return [
        f"CALL refresh_continuous_aggregate('{g.cagg}', "
        "CAST(:window_start AS timestamptz), CAST(:window_end AS timestamptz))"
        for g in chain[grain.name]
    ]


def community_script(horizons: dict[str, int]) -> str:
    """The community tier's whole DDL as one readable script (``sql/generated/``)."""
    header = (
        "-- GENERATED by growth_assets/rollups/sqlgen.py from the metric list in\n"
        "-- growth_assets/rollups/metrics.py: do not edit; tests/test_rollup_sql.py keeps it\n"
        "-- in sync.\n"
        "-- Community tier (TimescaleDB, Timescale License) only: the rollup assets run it when\n"
        "-- Warehouse.tier() is 'community'. Not executed by the project's tests: the test server\n"
        "-- is TimescaleDB's Apache build, which refuses continuous aggregates and policies.\n"
    )
    body = [*community_setup_sql(), *community_retention_sql(horizons)]
    return header + "\n" + ";\n\n".join(body) + ";\n"


def preview_sql(grain: Grain) -> str:
    """The window's last bucket, for the asset's metadata preview."""
    return (
        f"SELECT {grain.column} AS bucket, product_id, net_revenue, signups, active_users,\n"
        "       churned_customers\n"
        f"FROM {grain.table}\n"
        f"WHERE {grain.column} = (\n"
        f"    SELECT max({grain.column}) FROM {grain.table}\n"
        f"    WHERE {grain.column} >= {grain.lo} AND {grain.column} < {grain.hi})\n"
        "ORDER BY product_id = 'all' DESC, net_revenue DESC"
    )


def retained_window(
    start: datetime, end: datetime, grain: Grain, events_days: int, now: datetime
) -> tuple[datetime, datetime] | None:
    """The part of [start, end) whose continuous aggregates may be re-aggregated.

    Re-aggregating a window whose events were dropped by retention would replace the
    aggregates with nothing, so with an events horizon the window starts no earlier than the
    first whole bucket after ``now - events_days``; ``None`` when nothing is left."""
    if events_days <= 0:
        return start, end
    cutoff = (now - timedelta(days=events_days)).astimezone(UTC)
    if grain.name == "monthly":
        aligned = cutoff.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if aligned < cutoff:
            aligned = (aligned + timedelta(days=32)).replace(day=1)
    elif grain.name == "daily":
        aligned = cutoff.replace(hour=0, minute=0, second=0, microsecond=0)
        if aligned < cutoff:
            aligned += timedelta(days=1)
    else:
        aligned = cutoff.replace(minute=0, second=0, microsecond=0)
        if aligned < cutoff:
            aligned += timedelta(hours=1)
    first = max(start, aligned)
    return (first, end) if first < end else None
