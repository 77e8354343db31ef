"""The retention triangles of weekly and monthly cohorts, computed with polars.

Definitions (DESIGN.md "Metric definitions"): a (product, user) pair's cohort is the period
of its first active day (user-initiated event, ``growth.user_activity_daily.active``); cell
(cohort, k) counts the members active in period cohort + k (N-period retention), and
``last_active_users`` the members whose last active period is cohort + k (the views sum it
from k on for unbounded retention). Each cohort is split four ways: segment type ``all``,
``channel``, ``country`` and ``plan`` (the members' attributes, ``sql/cohorts/members.sql``).
The portfolio row ``product_id = 'all'`` is the sum of the products. Rows only where one of
the two counts is not 0; offset 0 always is (every member is active in their first period).

Why not SQL: the triangle is a grouping of every member-period under four segment types
(1.4 million rows at the design scale), which PostgreSQL aggregated with text keys in about
4 s, and the insert of the result into a table keyed on six columns, in no order and over
the previous triangle's deleted rows, took as long again. Here PostgreSQL numbers the
members and streams (member, day) as integers, polars counts the cells, and the rows are
copied sorted in key order into the emptied table.

Periods are integers (``periods.py``).
"""

import polars as pl
from sqlalchemy.engine import Connection

from growth_assets.cohorts.periods import ORIGIN, index, offset_day, period_of, period_start
from resources.warehouse import Warehouse

TABLE = "growth.retention_triangle"
GRAINS = ("week", "month")
SEGMENT_TYPES = ("channel", "country", "plan")
KEY = ["grain", "product_id", "segment_type", "segment", "cohort", "period_offset"]
GROUP = ["product_id", "segment_type", "segment", "cohort", "k"]
"""A cell: the key without the grain, the offset as k."""
MEMBERS_SCHEMA = {
    "member_no": pl.Int64,
    "product_id": pl.String,
    "first_day": pl.Date,
    "last_day": pl.Date,
    "channel": pl.String,
    "country": pl.String,
    "week_plan": pl.String,
    "month_plan": pl.String,
}
ACTIVITY_SCHEMA = {"member_no": pl.Int64, "d": pl.Int32}


def active_periods(activity: pl.DataFrame, grain: str) -> pl.DataFrame:
    """The distinct (member_no, period) of a batch of (member_no, d) active days."""
    return activity.select("member_no", period=period_of(offset_day(pl.col("d")), grain)).unique()


def fan_out(cells: pl.DataFrame) -> pl.DataFrame:
    """Cells counted per (product_id, channel, country, plan, cohort, k) summed under each
    segment type: (product_id, segment_type, segment, cohort, k, active, last)."""
    return (
        pl.concat(
            [
                cells.select(
                    "product_id",
                    segment_type=pl.lit("all"),
                    segment=pl.lit("all"),
                    cohort="cohort",
                    k="k",
                    active="active",
                    last="last",
                ),
                *(
                    cells.select(
                        "product_id",
                        segment_type=pl.lit(kind),
                        segment=pl.col(kind),
                        cohort="cohort",
                        k="k",
                        active="active",
                        last="last",
                    )
                    for kind in SEGMENT_TYPES
                ),
            ]
        )
        .group_by(GROUP)
        .agg(pl.col("active", "last").sum())
    )


def triangle(
    members: pl.DataFrame, periods: pl.DataFrame, grain: str, last_period: int
) -> pl.DataFrame:
    """The triangle of one grain in the table's columns, sorted by its key.

    ``members``: as :data:`MEMBERS_SCHEMA`; ``periods``: the distinct (member_no, period)
    active periods (:func:`active_periods`); ``last_period``: the period of the last day
    with data (the periods elapsed count up to it). The members' periods are counted per
    combination of segment values first, then summed under each segment type (eagerly:
    each step's result is used once, and the lazy plan recomputed shared inputs)."""
    plan = "week_plan" if grain == "week" else "month_plan"
    attributes = ["product_id", "channel", "country", "plan", "cohort"]
    member = members.select(
        "member_no",
        "product_id",
        "channel",
        "country",
        plan=plan,
        cohort=period_of(pl.col("first_day"), grain),
        last=period_of(pl.col("last_day"), grain),
    )
    zero = pl.lit(0, pl.UInt32)
    active = (
        periods.join(member, on="member_no")
        .group_by(*attributes, k=pl.col("period") - pl.col("cohort"))
        .agg(active=pl.len(), last=zero)
    )
    last = member.group_by(*attributes, k=pl.col("last") - pl.col("cohort")).agg(
        active=zero, last=pl.len()
    )
    products = fan_out(pl.concat([active, last]))
    portfolio = (
        products.group_by(GROUP[1:])
        .agg(pl.col("active", "last").sum())
        .select(pl.lit("all").alias("product_id"), *GROUP[1:], "active", "last")
    )
    cells = pl.concat([products, portfolio])
    sizes = cells.filter(pl.col("k") == 0).select(*GROUP[:4], cohort_size="active")
    return (
        cells.join(sizes, on=GROUP[:4])
        .select(
            grain=pl.lit(grain),
            product_id="product_id",
            segment_type="segment_type",
            segment="segment",
            cohort=period_start(pl.col("cohort"), grain),
            period_offset=pl.col("k").cast(pl.Int32),
            cohort_size=pl.col("cohort_size").cast(pl.Int64),
            periods_elapsed=(pl.lit(last_period) - pl.col("cohort")).cast(pl.Int32),
            active_users=pl.col("active").cast(pl.Int64),
            last_active_users=pl.col("last").cast(pl.Int64),
        )
        .sort(KEY)
    )


def rebuild(conn: Connection) -> int:
    """Replace ``growth.retention_triangle`` (both grains) in the caller's transaction, from
    the ``cohort_members`` temporary table (``sql/cohorts/members.sql``, run first) and
    ``growth.user_activity_daily``; return the rows written."""
    members = Warehouse.read_frame(conn, "cohorts/triangle_members", {}, MEMBERS_SCHEMA)
    (bounds,) = Warehouse.fetch_file(conn, "cohorts/activity_last_day")
    parts: dict[str, list[pl.DataFrame]] = {g: [] for g in GRAINS}
    # batches are reduced to their distinct periods as they come: memory follows the
    # members' active periods, not their active days
    for batch in Warehouse.read_frames(
        conn, "cohorts/triangle_activity", {"origin": ORIGIN}, ACTIVITY_SCHEMA
    ):
        for g in GRAINS:
            parts[g].append(active_periods(batch, g))
    frames = []
    # 'month' < 'week': the grains in key order (members come from active days, so there
    # are active periods whenever there are members)
    for g in sorted(GRAINS) if not members.is_empty() else ():
        last_period = index(bounds.last_day, g)
        frames.append(triangle(members, pl.concat(parts[g]).unique(), g, last_period))
    Warehouse.run_file(conn, "cohorts/triangle_replace")
    return sum(Warehouse.write_frame(conn, TABLE, f) for f in frames)
