"""The power-user histogram (L7 / L28) of a window of UTC days, computed with polars.

Per product and day, how many users were active (user-initiated event,
``growth.user_activity_daily.active``) on exactly n of the 7 (L7) and of the 28 (L28) days
ending that day; the portfolio row ``product_id = 'all'`` is the sum of the products.

Why not SQL: a user's active-day count over a trailing window is a step function that rises
by one on each active day a and falls by one on a + window, so the histogram needs each user's
change points in order. In PostgreSQL that was one window pass over millions of change
points keyed on text (product, user), sorted on disk, then a second aggregate: 17 s of the
design-scale build (50,000 users, 640,042 active user-days over two years). Here the same
change points are sorted in memory, one product at a time (so memory follows the largest
product, not the warehouse), and only the histogram (at most days x 35 rows per product) is
copied back.

The algorithm, per product and window length w, with days as offsets from the window's
first day (0 .. span-1):

1. change points: +1 on max(a, 0) and -1 on a + w (if inside the window) for each active day
   a > -w; the points before the window are folded onto day 0, where their sum is the count;
2. per user, in day order, the running sum of the points is the level after each day that
   changes it, and level - change the level before;
3. a move from level x to y is -1 in bucket x and +1 in bucket y on that day (bucket 0 is
   not kept: inactive users are not in the histogram);
4. a running sum per bucket over every day of the window gives the histogram.
"""

from collections.abc import Iterable, Iterator
from datetime import date, datetime

import polars as pl
from sqlalchemy.engine import Connection

from growth_assets.saas.windows import first_day
from resources.warehouse import Warehouse

WINDOWS = (7, 28)
TABLE = "growth.power_users"
ACTIVITY_SCHEMA = {"user_no": pl.Int64, "d": pl.Int32}


def changes(activity: pl.DataFrame, span: int, window: int) -> pl.DataFrame:
    """Steps 1-3 for whole users: (d, bucket, change), the net change of each bucket's
    users on each day where it changes. Sums over batches of different users add up.

    ``activity``: one row per (user_no, d) active day of one product, ``user_no`` an
    integer numbering the users, d the offset from the first day (from -27 on)."""
    live = activity.lazy().filter(pl.col("d") > -window)
    points = pl.concat(
        [
            live.select("user_no", pl.max_horizontal("d", 0).alias("d"), delta=pl.lit(1)),
            live.filter(pl.col("d") + window < span).select(
                "user_no", (pl.col("d") + window).alias("d"), delta=pl.lit(-1)
            ),
        ]
    )
    moves = (
        points.group_by("user_no", "d")
        .agg(pl.col("delta").sum())
        .filter(pl.col("delta") != 0)
        .sort("user_no", "d")
        .with_columns(level=pl.col("delta").cum_sum().over("user_no"))
    )
    steps = pl.concat(
        [
            moves.filter(pl.col("level") > 0).select("d", bucket=pl.col("level"), change=pl.lit(1)),
            moves.filter(pl.col("level") - pl.col("delta") > 0).select(
                "d", bucket=pl.col("level") - pl.col("delta"), change=pl.lit(-1)
            ),
        ]
    )
    return (
        steps.group_by("d", "bucket")
        .agg(pl.col("change").sum())
        .select(pl.col("d").cast(pl.Int32), pl.col("bucket").cast(pl.Int32), "change")
        .collect()
    )


def levels(changed: pl.DataFrame, span: int, window: int) -> pl.DataFrame:
    """Step 4: the running sum of each bucket's changes over every day 0 .. span-1;
    (d, active_days, users) with users > 0."""
    grid = pl.LazyFrame({"d": pl.int_range(0, span, dtype=pl.Int32, eager=True)}).join(
        pl.LazyFrame({"bucket": pl.int_range(1, window + 1, dtype=pl.Int32, eager=True)}),
        how="cross",
    )
    summed = changed.lazy().group_by("d", "bucket").agg(pl.col("change").sum())
    return (
        grid.join(summed, on=["d", "bucket"], how="left")
        .with_columns(pl.col("change").fill_null(0))
        .sort("bucket", "d")
        .select("d", active_days="bucket", users=pl.col("change").cum_sum().over("bucket"))
        .filter(pl.col("users") > 0)
        .collect()
    )


def histogram(activity: pl.DataFrame, span: int, window: int) -> pl.DataFrame:
    """Users by active days in the trailing ``window`` days, for days 0 .. span-1, from
    one product's activity (as in :func:`changes`); (d, active_days, users), users > 0."""
    return levels(changes(activity, span, window), span, window)


def whole_users(frames: Iterable[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """Re-cut frames of user-ordered rows so that no user is split between two: the rows
    of each frame's last user are held back and put in front of the next frame."""
    held: pl.DataFrame | None = None
    for frame in frames:
        if held is not None:
            frame = pl.concat([held, frame])
        last = frame["user_no"][-1]
        held = frame.filter(pl.col("user_no") == last)
        done = frame.filter(pl.col("user_no") != last)
        if not done.is_empty():
            yield done
    if held is not None:
        yield held


def product_rows(
    frames: Iterable[pl.DataFrame], product_id: str, first: date, span: int
) -> pl.DataFrame:
    """The histogram rows of one product for both windows, in the table's columns, from
    its user-ordered activity in frames (memory follows a frame, not the product)."""
    changed: dict[int, list[pl.DataFrame]] = {w: [] for w in WINDOWS}
    for batch in whole_users(frames):
        for w in WINDOWS:
            changed[w].append(changes(batch, span, w))
    parts = [
        levels(pl.concat(changed[w]), span, w).with_columns(window_days=pl.lit(w, pl.Int16))
        for w in WINDOWS
        if changed[w]
    ]
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts).select(
        day=pl.lit(first) + pl.duration(days=pl.col("d")),
        product_id=pl.lit(product_id),
        window_days="window_days",
        active_days=pl.col("active_days").cast(pl.Int16),
        users=pl.col("users").cast(pl.Int64),
    )


def rebuild(conn: Connection, window_start: datetime, window_end: datetime) -> int:
    """Replace ``growth.power_users`` for the UTC days of [window_start, window_end) in the
    caller's transaction; return the rows written (products and 'all')."""
    first, end = first_day(window_start), first_day(window_end)
    span = (end - first).days
    Warehouse.run_file(conn, "cohorts/power_users_delete", {"lo": first, "hi": end})
    if span <= 0:
        return 0
    products = [r.product_id for r in Warehouse.fetch_file(conn, "cohorts/power_users_products")]
    parts: list[pl.DataFrame] = []
    for product_id in products:
        frames = Warehouse.read_frames(
            conn,
            "cohorts/power_users_activity",
            {"product_id": product_id, "lo": first, "hi": end},
            ACTIVITY_SCHEMA,
        )
        # the frames are read to the end (the COPY finishes) before anything is written
        rows = product_rows(frames, product_id, first, span)
        if not rows.is_empty():
            parts.append(rows)
    if not parts:
        return 0
    products_rows = pl.concat(parts)
    everyone = (
        products_rows.group_by("day", "window_days", "active_days")
        .agg(pl.col("users").sum())
        .select(
            "day",
            product_id=pl.lit("all"),
            window_days="window_days",
            active_days="active_days",
            users="users",
        )
    )
    # one copy in key order: into an empty index (a backfill) the entries are appended
    return Warehouse.write_frame(
        conn,
        TABLE,
        pl.concat([products_rows, everyone]).sort(
            "day", "product_id", "window_days", "active_days"
        ),
    )
