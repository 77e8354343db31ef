"""Feature adoption per day, ISO week and month, counted with polars.

Definition (DESIGN.md "Metric definitions"): of the users active in the period
(user-initiated event, ``growth.user_activity_daily.active``), the share with at least one
event matching the feature in the period (``sql/cohorts/feature_usage.sql`` finds the
configured features' events). The portfolio row ``product_id = 'all'`` is the sum of the
products. A feature nobody used in a product and period has no row. The periods holding a
day of the window are recounted whole.

Why not SQL: each grain was a pass over the window's activity, de-duplicating (product,
user, period) on text keys and joining the feature use to it (2.6 s of the design-scale
build for the three grains). Here the window's users are numbered once, their activity and
feature use are read once as integers, and each grain's counts are group-bys; PostgreSQL
keeps the share (numeric rounding, ``sql/cohorts/feature_adoption.sql``).
"""

from datetime import datetime, timedelta
from typing import Any

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

USERS_SCHEMA = {"user_no": pl.Int64, "product_id": pl.String}
ACTIVITY_SCHEMA = {"user_no": pl.Int64, "d": pl.Int32}
USAGE_SCHEMA = {"user_no": pl.Int64, "d": pl.Int32, "feature": pl.String}


def adoption(
    users: pl.DataFrame,
    activity: pl.DataFrame,
    usage: pl.DataFrame,
    grain: str,
    lo: int,
    hi: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """For the integer periods ``lo`` .. ``hi`` of one grain, the products' rows
    (product_id, period, feature, active_users, feature_users), feature_users > 0, and their
    active users per period (product_id, period, active_users), from which
    :func:`portfolio` sums the portfolio's rows.

    ``users``: (user_no, product_id); ``activity``: their (user_no, d) active days and
    ``usage``: their (user_no, d, feature) feature use, d as offsets from :data:`ORIGIN`,
    covering every day of those periods. Integers only over the activity and the use
    (``frames.py`` says why): products and features as codes, each row's product found by
    the user's position, an adopter's (user, period) looked up among the active ones as one
    packed integer."""
    product, products = codes(users.get_column("product_id"))
    position = positions(users.get_column("user_no"))
    feature, features = codes(usage.get_column("feature"))
    period = period_of(offset_day(pl.col("d")), grain)
    in_window = pl.col("period").is_between(lo, hi)
    active = distinct(
        activity.select("user_no", period=period).filter(in_window), ["user_no", "period"]
    )
    used = distinct(
        usage.select("user_no", feature=feature, period=period).filter(in_window),
        ["user_no", "feature", "period"],
    )
    pair = pl.col("user_no") * (hi - lo + 1) + (pl.col("period") - lo)
    adopters = used.filter(pair.is_in(active.select(pair).to_series()))

    def per_product(frame: pl.DataFrame, keys: list[str], name: str) -> pl.DataFrame:
        owner = product.gather(position.gather(frame.get_column("user_no")))
        counted = counts(frame.select(owner.alias("product"), *keys), ["product", *keys], name)
        return counted.select(
            products.gather(counted.get_column("product")).alias("product_id"), *keys, name
        )

    actives = per_product(active, ["period"], "active_users")
    adopted = per_product(adopters, ["period", "feature"], "feature_users")
    joined = adopted.join(actives, on=["product_id", "period"])
    rows = joined.select(
        "product_id",
        "period",
        features.gather(joined.get_column("feature")).alias("feature"),
        "active_users",
        "feature_users",
    )
    return rows, actives


def portfolio(rows: pl.DataFrame, actives: pl.DataFrame) -> pl.DataFrame:
    """The portfolio rows (``product_id = 'all'``) of one grain, in the columns of the
    products' ``rows``: feature users summed per period and feature, over the active users
    of all products in the period (``actives``, as from :func:`adoption`)."""
    used = rows.group_by("period", "feature").agg(pl.col("feature_users").sum())
    active = actives.group_by("period").agg(pl.col("active_users").sum())
    return used.join(active, on="period").select(
        pl.lit("all").alias("product_id"), "period", "feature", "active_users", "feature_users"
    )


def rebuild(
    conn: Connection,
    window_start: datetime,
    window_end: datetime,
    group_members: int = GROUP_MEMBERS,
) -> int:
    """Replace ``growth.feature_adoption`` for the periods holding a day of [window_start,
    window_end), three grains, in the caller's transaction; ``feature_usage``
    (``sql/cohorts/feature_usage.sql``) must be filled first. Return the rows written.

    A group of products at a time (``group_members``, ``groups.py``), so memory
    follows a group's users, active days and feature use, not the warehouse's."""
    first, last = first_day(window_start), first_day(window_end) - timedelta(days=1)
    bounds = {g: (index(first, g), index(last, g)) for g in LIFECYCLE_GRAINS}
    for g, (lo, hi) in bounds.items():
        Warehouse.run_file(
            conn,
            "cohorts/feature_adoption_delete",
            {"grain": g, "lo": start(lo, g), "hi": start(hi, g)},
        )
    if last < first:
        return 0
    params: dict[str, Any] = {
        "since": min(start(lo, g) for g, (lo, _) in bounds.items()),
        "until": max(start(hi + 1, g) for g, (_, hi) in bounds.items()),
        "origin": ORIGIN,
    }
    Warehouse.run_file(conn, "cohorts/adoption_users", params)
    parts: dict[str, list[tuple[pl.DataFrame, pl.DataFrame]]] = {g: [] for g in bounds}
    for group in groups_of(conn, "adoption_users", group_members) or [[]]:
        scope = {**params, "products": group}
        users = Warehouse.read_frame(conn, "cohorts/adoption_user_list", scope, USERS_SCHEMA)
        activity = Warehouse.read_frame(
            conn, "cohorts/adoption_activity", scope, ACTIVITY_SCHEMA, line_safe=True
        )
        usage = Warehouse.read_frame(
            conn, "cohorts/adoption_usage", scope, USAGE_SCHEMA, line_safe=True
        )
        for g, (lo, hi) in bounds.items():
            parts[g].append(adoption(users, activity, usage, g, lo, hi))
    frames = []
    for g, computed in parts.items():
        rows = pl.concat([r for r, _ in computed])
        actives = pl.concat([a for _, a in computed])
        frames.append(
            pl.concat([rows, portfolio(rows, actives)]).select(
                pl.lit(g).alias("grain"),
                period=period_start(pl.col("period"), g),
                product_id="product_id",
                feature="feature",
                active_users="active_users",
                feature_users="feature_users",
            )
        )
    Warehouse.run_file(conn, "cohorts/adoption_counts")
    Warehouse.write_frame(conn, "adoption_counts", pl.concat(frames))
    (written,) = Warehouse.run_file(conn, "cohorts/feature_adoption")
    return written
