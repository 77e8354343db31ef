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

from contextlib import closing

import polars as pl
from sqlalchemy.engine import Connection

from growth_assets.cohorts.frames import codes, counts, distinct, positions, sorted_by, sums
from growth_assets.cohorts.groups import GROUP_MEMBERS, groups_of
from growth_assets.cohorts.periods import (
    COHORT_GRAINS,
    ORIGIN,
    index,
    offset_day,
    period_of,
    period_start,
)
from resources.warehouse import Warehouse

TABLE = "growth.retention_triangle"
SEGMENT_TYPES = ("channel", "country", "plan")
KEY = ["grain", "product_id", "segment_type", "segment", "cohort", "period_offset"]
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
    periods = activity.select("member_no", period=period_of(offset_day(pl.col("d")), grain))
    return distinct(periods, ["member_no", "period"])


SEGMENTS = ["all", *SEGMENT_TYPES]
"""The segment types in their sort order (their codes in the cells)."""
ATTRIBUTES = ["product", *SEGMENT_TYPES]


def triangle(
    members: pl.DataFrame, periods: pl.DataFrame, grain: str, last_period: int
) -> pl.DataFrame:
    """The triangle rows of one grain for the products of ``members``, in the table's
    columns (the portfolio rows come from :func:`portfolio`).

    ``members``: as :data:`MEMBERS_SCHEMA`; ``periods``: the distinct (member_no, period)
    active periods (:func:`active_periods`); ``last_period``: the period of the last day
    with data (the periods elapsed count up to it).

    The text attributes are replaced by integer codes in their sort order (``frames.codes``)
    and every count is over packed integer keys (``frames.py`` says why): the members'
    periods are counted per combination of attribute values, cohort and offset, then summed
    under each segment type; the codes are replaced by the values last.
    """
    plan = "week_plan" if grain == "week" else "month_plan"
    product, products = codes(members.get_column("product_id"))
    dictionaries: dict[str, pl.Series] = {}
    member = members.select(
        "member_no",
        product=product,
        cohort=period_of(pl.col("first_day"), grain),
        last=period_of(pl.col("last_day"), grain),
    )
    for kind in SEGMENT_TYPES:
        coded, dictionaries[kind] = codes(members.get_column(plan if kind == "plan" else kind))
        member = member.with_columns(coded.alias(kind))
    # each period's member, by position (members are numbered 1 .. n, not necessarily dense)
    position = positions(member.get_column("member_no"))
    owner = member.select([*ATTRIBUTES, "cohort"]).gather(
        position.gather(periods.get_column("member_no"))
    )
    cell = [*ATTRIBUTES, "cohort", "k"]
    active = counts(
        owner.with_columns(k=periods.get_column("period") - pl.col("cohort")), cell, "active"
    )
    last = counts(member.with_columns(k=pl.col("last") - pl.col("cohort")), cell, "last")
    cells = pl.concat(
        [
            active.with_columns(last=pl.lit(0, pl.Int64)),
            last.select(*cell, active=pl.lit(0, pl.Int64), last="last"),
        ]
    )
    # segment values of all types in one dictionary: type t's codes start at offsets[t]
    values = [pl.Series(["all"]), *(dictionaries[kind] for kind in SEGMENT_TYPES)]
    offsets = [sum(len(v) for v in values[:t]) for t in range(len(values))]
    parts = []
    for type_code, kind in enumerate(SEGMENTS):
        value = pl.lit(0, pl.Int64) if kind == "all" else pl.col(kind)
        by_type = cells.select(
            "product",
            segment=value + offsets[type_code],
            cohort="cohort",
            k="k",
            active="active",
            last="last",
        )
        totals = sums(by_type, ["product", "segment", "cohort", "k"], ["active", "last"])
        parts.append(
            totals.select(
                "product",
                pl.lit(type_code, pl.Int64).alias("segment_type"),
                "segment",
                "cohort",
                "k",
                "active",
                "last",
            )
        )
    counted = pl.concat(parts)
    # codes sort as their values, so this is the table's key order; each cohort's rows start
    # at offset 0, whose active members are the cohort
    ordered = sorted_by(counted, ["product", "segment_type", "segment", "cohort", "k"])
    return ordered.select(
        grain=pl.lit(grain),
        product_id=products.gather(ordered.get_column("product")),
        segment_type=pl.Series(SEGMENTS).gather(ordered.get_column("segment_type")),
        segment=pl.concat(values).gather(ordered.get_column("segment")),
        cohort=period_start(pl.col("cohort"), grain),
        period_offset=pl.col("k").cast(pl.Int32),
        cohort_size=_cohort_size(ordered.get_column("k"), ordered.get_column("active")),
        periods_elapsed=(pl.lit(last_period) - pl.col("cohort")).cast(pl.Int32),
        active_users=pl.col("active"),
        last_active_users=pl.col("last"),
    )


def _cohort_size(k: pl.Series, active: pl.Series) -> pl.Series:
    """Each row's cohort size, from rows in key order: a cohort's rows start at offset 0,
    whose active members are the cohort."""
    return pl.select(pl.when(k == 0).then(active).forward_fill()).to_series()


def portfolio(rows: pl.DataFrame) -> pl.DataFrame:
    """The portfolio rows (``product_id = 'all'``) of one grain from its product rows, in
    the same columns and key order: each cell's counts summed over the products."""
    cell = ["grain", "segment_type", "segment", "cohort", "period_offset"]
    summed = (
        rows.group_by(cell)
        .agg(
            pl.col("periods_elapsed").first(),
            pl.col("active_users").sum(),
            pl.col("last_active_users").sum(),
        )
        .sort(cell)
    )
    return summed.select(
        "grain",
        product_id=pl.lit("all"),
        segment_type="segment_type",
        segment="segment",
        cohort="cohort",
        period_offset="period_offset",
        cohort_size=_cohort_size(
            summed.get_column("period_offset"), summed.get_column("active_users")
        ),
        periods_elapsed="periods_elapsed",
        active_users="active_users",
        last_active_users="last_active_users",
    )


def rebuild(conn: Connection, group_members: int = GROUP_MEMBERS) -> int:
    """Replace ``growth.retention_triangle`` (both grains) in the caller's transaction, from
    the ``cohort_members`` temporary table (``sql/cohorts/members.sql``, run first) and
    ``growth.user_activity_daily``; return the rows written.

    A group of products at a time (``group_members``), so memory follows a group's
    members and active periods, not the warehouse's; the portfolio rows are summed from the
    products' rows."""
    groups = groups_of(conn, "cohort_members", group_members)
    (bounds,) = Warehouse.fetch_file(conn, "cohorts/activity_last_day")
    rows: dict[str, list[pl.DataFrame]] = {g: [] for g in COHORT_GRAINS}
    for products in groups:
        members = Warehouse.read_frame(
            conn, "cohorts/triangle_members", {"products": products}, MEMBERS_SCHEMA
        )
        parts: dict[str, list[pl.DataFrame]] = {g: [] for g in COHORT_GRAINS}
        # batches are reduced to their distinct periods as they come: memory follows the
        # members' active periods, not their active days; closed on an error, so that the
        # COPY is cancelled before the transaction rolls back (an open one blocks it)
        with closing(
            Warehouse.read_frames(
                conn,
                "cohorts/triangle_activity",
                {"origin": ORIGIN, "products": products},
                ACTIVITY_SCHEMA,
            )
        ) as batches:
            for batch in batches:
                for g in COHORT_GRAINS:
                    parts[g].append(active_periods(batch, g))
        # members come from active days, so products with members have active periods
        for g in COHORT_GRAINS:
            periods = distinct(pl.concat(parts[g]), ["member_no", "period"])
            rows[g].append(triangle(members, periods, g, index(bounds.last_day, g)))
    frames = []
    # 'month' < 'week': the grains in key order, each sorted by the rest of the key
    for g in sorted(COHORT_GRAINS) if groups else ():
        by_product = pl.concat(rows[g])
        frames.append(pl.concat([by_product, portfolio(by_product)]).sort(KEY))
    Warehouse.run_file(conn, "cohorts/triangle_replace")
    return sum(Warehouse.write_frame(conn, TABLE, f) for f in frames)
