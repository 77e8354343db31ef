"""Lifecycle and growth accounting per day, ISO week and month, counted with polars.

Definitions (DESIGN.md "Metric definitions"), per product and user, active = at least one
user-initiated event (``growth.user_activity_daily.active``): new = the period of the
user's first active day; retained = active in the period and the previous one; resurrected
= active, not in the previous period, active before; churned = active in the previous
period, not in this one. Periods without any active user keep a row (active 0) from the
product's first day (``growth.users``) on. The portfolio row ``product_id = 'all'`` is the
sum of the products. Weeks are ISO (Monday), all boundaries UTC.

A day's activity decides its own period, the next one (retained, resurrected, churned) and
whether a later first return of the user is new or resurrected, so every period from the
one holding the window's first day to the last period with data is rebuilt; earlier
periods depend only on earlier days and are kept.

Why not SQL: the three grains were three passes over the activity, each writing the active
(product, user, period) to a temporary table and hash-joining it with itself on text keys
(5.3 s of the design-scale build). Here the activity is read once, as integers (user
number, day), from the previous period of the earliest grain on, and each grain's counts
are a few group-bys; PostgreSQL keeps the ratios (numeric rounding,
``sql/cohorts/growth_accounting.sql``).
"""

from datetime import datetime

import polars as pl
from sqlalchemy.engine import Connection

from growth_assets.cohorts.frames import codes, counts, distinct, positions
from growth_assets.cohorts.groups import GROUP_MEMBERS, groups_of
from growth_assets.cohorts.periods import (
    LIFECYCLE_GRAINS,
    ORIGIN,
    index,
    offset_day,
    period_of,
    period_start,
    start,
)
from growth_assets.saas.windows import first_day
from resources.warehouse import Warehouse

COUNTS = ["active", "new", "retained", "resurrected", "churned", "previous"]
USERS_SCHEMA = {"user_no": pl.Int64, "product_id": pl.String, "first_d": pl.Int32}
ACTIVITY_SCHEMA = {"user_no": pl.Int64, "d": pl.Int32}
PRODUCTS_SCHEMA = {"product_id": pl.String, "first_day": pl.Date}


def accounting(
    users: pl.DataFrame,
    activity: pl.DataFrame,
    products: pl.DataFrame,
    grain: str,
    lo: int,
    last: int,
) -> pl.DataFrame:
    """The counts of periods ``lo`` .. ``last`` (integer periods) of one grain:
    (product_id, period, active, new, retained, resurrected, churned, previous) of the
    products in ``products`` (the portfolio rows come from :func:`portfolio`).

    ``users``: (user_no, product_id, first_d) with each user's first active day ever as an
    offset from :data:`ORIGIN`, for every user active in ``activity``; ``activity``: the
    (user_no, d) active days from period ``lo - 1`` on (earlier days are ignored);
    ``products``: (product_id, first_day) of the products of ``users`` and of any other
    product whose empty periods get rows here."""
    # integers only over the activity (frames.py says why): products as codes, each period's
    # user found by position; (user, period) sorted, so "active the period before" is the
    # previous row
    product, names = codes(users.get_column("product_id"))
    position = positions(users.get_column("user_no"))
    periods = distinct(
        activity.select("user_no", period=period_of(offset_day(pl.col("d")), grain)).filter(
            pl.col("period") >= lo - 1
        ),
        ["user_no", "period"],
    )
    owned = pl.DataFrame(
        {
            "product": product.gather(position.gather(periods.get_column("user_no"))),
            "period": periods.get_column("period"),
        }
    )
    follows = (periods.get_column("user_no") == periods.get_column("user_no").shift(1)) & (
        periods.get_column("period") == periods.get_column("period").shift(1) + 1
    )
    firsts = pl.DataFrame(
        {
            "product": product,
            "period": users.select(period_of(offset_day(pl.col("first_d")), grain)).to_series(),
        }
    ).filter(pl.col("period") >= lo - 1)

    def named(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(
            names.gather(frame.get_column("product")).alias("product_id"), *frame.columns[1:]
        )

    active = named(counts(owned, ["product", "period"], "active"))
    retained = named(
        counts(owned.filter(follows.fill_null(False)), ["product", "period"], "retained")
    )
    new = named(counts(firsts, ["product", "period"], "new"))
    # every period from the product's first one (and from lo - 1) to the last, and any
    # period with activity
    spans = products.select(
        "product_id",
        period=pl.int_ranges(
            pl.max_horizontal(period_of(pl.col("first_day"), grain), pl.lit(lo - 1)),
            pl.lit(last + 1),
            dtype=pl.Int32,
        ),
    ).explode("period")
    keys = ["product_id", "period"]
    grid = pl.concat(
        [spans.drop_nulls(), active.select(keys), new.select(keys), retained.select(keys)]
    ).unique()
    lifecycle = (
        grid.join(active, on=keys, how="left")
        .join(new, on=keys, how="left")
        .join(retained, on=keys, how="left")
        .with_columns(pl.col("active", "new", "retained").fill_null(0).cast(pl.Int64))
        .sort(keys)
        .with_columns(previous=pl.col("active").shift(1).over("product_id").fill_null(0))
        .filter(pl.col("period").is_between(lo, last))
        .select(
            *keys,
            "active",
            "new",
            "retained",
            resurrected=pl.col("active") - pl.col("new") - pl.col("retained"),
            churned=pl.col("previous") - pl.col("retained"),
            previous="previous",
        )
    )
    return lifecycle


def portfolio(rows: pl.DataFrame) -> pl.DataFrame:
    """The portfolio rows (``product_id = 'all'``) of one grain: the products' counts summed
    per period."""
    return (
        rows.group_by("period")
        .agg(pl.col(COUNTS).sum())
        .select(pl.lit("all").alias("product_id"), "period", *COUNTS)
    )


def rebuild(conn: Connection, window_start: datetime, group_members: int = GROUP_MEMBERS) -> int:
    """Replace ``growth.growth_accounting`` of the three grains from the period holding
    ``window_start``'s day on, in the caller's transaction; return the rows written.

    A group of products at a time (``group_members``, ``groups.py``), so memory
    follows a group's users and active days, not the warehouse's."""
    day = first_day(window_start)
    los = {g: index(day, g) for g in LIFECYCLE_GRAINS}
    since = min(start(los[g] - 1, g) for g in LIFECYCLE_GRAINS)
    for g in LIFECYCLE_GRAINS:
        Warehouse.run_file(
            conn, "cohorts/growth_accounting_delete", {"grain": g, "lo": start(los[g], g)}
        )
    (bounds,) = Warehouse.fetch_file(conn, "cohorts/activity_last_day")
    if bounds.last_day is None:
        return 0
    Warehouse.run_file(conn, "cohorts/numbered_users", {"since": since})
    products = Warehouse.read_frame(conn, "cohorts/lifecycle_products", {}, PRODUCTS_SCHEMA)
    groups = groups_of(conn, "numbered_users", group_members) or [[]]
    grouped = [p for group in groups for p in group]
    parts: dict[str, list[pl.DataFrame]] = {g: [] for g in LIFECYCLE_GRAINS}
    for n, group in enumerate(groups):
        params = {"since": since, "origin": ORIGIN, "products": group}
        users = Warehouse.read_frame(conn, "cohorts/numbered_user_list", params, USERS_SCHEMA)
        activity = Warehouse.read_frame(
            conn, "cohorts/lifecycle_activity", params, ACTIVITY_SCHEMA, line_safe=True
        )
        # the products without users active since then keep their empty periods' rows,
        # with the first group
        spans = products.filter(
            pl.col("product_id").is_in(group)
            | (pl.lit(n == 0) & ~pl.col("product_id").is_in(grouped))
        )
        for g in LIFECYCLE_GRAINS:
            last = index(bounds.last_day, g)
            parts[g].append(accounting(users, activity, spans, g, los[g], last))
    frames = []
    for g in LIFECYCLE_GRAINS:
        rows = pl.concat(parts[g])
        frames.append(
            pl.concat([rows, portfolio(rows)]).select(
                pl.lit(g).alias("grain"),
                period=period_start(pl.col("period"), g),
                product_id="product_id",
                **{c: pl.col(c) for c in COUNTS},
            )
        )
    Warehouse.run_file(conn, "cohorts/lifecycle_counts")
    Warehouse.write_frame(conn, "lifecycle_counts", pl.concat(frames))
    (written,) = Warehouse.run_file(conn, "cohorts/growth_accounting")
    return written
