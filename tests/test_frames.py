"""The packed-key helpers of growth_assets/cohorts/frames.py agree with polars' own unique,
group_by and sort, including negative values, one-value columns and keys too wide to pack
(which fall back to polars)."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from growth_assets.cohorts.frames import codes, counts, distinct, layout, positions, sorted_by, sums

SMALL = st.integers(min_value=-3, max_value=5)
ROWS = st.lists(st.tuples(SMALL, st.integers(0, 2), SMALL, st.integers(0, 9)), max_size=60)


def frame(rows: list[tuple[int, int, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"a": pl.Int32, "b": pl.Int64, "x": pl.Int64, "y": pl.Int64}, orient="row"
    )


@settings(max_examples=60, deadline=None)
@given(ROWS)
def test_packed_helpers_agree_with_polars(rows: list[tuple[int, int, int, int]]) -> None:
    f = frame(rows)
    keys = ["a", "b"]
    assert distinct(f, keys).equals(f.select(keys).unique().sort(keys))
    expected = f.group_by(keys).agg(pl.len().cast(pl.Int64).alias("n")).sort(keys)
    assert counts(f, keys, "n").equals(expected)
    summed = f.group_by(keys).agg(pl.col("x", "y").sum()).sort(keys)
    assert sums(f, keys, ["x", "y"]).equals(summed)
    assert sorted_by(f, keys).select(keys).equals(f.sort(keys).select(keys))


def test_keys_too_wide_to_pack_fall_back_to_polars() -> None:
    f = pl.DataFrame({"a": [2**40, 0, 2**40], "b": [2**40, 5, 2**40]})
    assert layout(f, ["a", "b"]) is None
    assert distinct(f, ["a", "b"]).equals(pl.DataFrame({"a": [0, 2**40], "b": [5, 2**40]}))
    assert counts(f, ["a", "b"], "n")["n"].to_list() == [1, 2]


def test_codes_follow_the_values_order_and_positions_find_rows() -> None:
    coded, dictionary = codes(pl.Series(["b", "a", "c", "a"]))
    assert coded.to_list() == [1, 0, 2, 0]
    assert dictionary.gather(coded).to_list() == ["b", "a", "c", "a"]
    lookup = positions(pl.Series([7, 3, 5]))
    assert lookup.gather(pl.Series([3, 5, 7])).to_list() == [1, 2, 0]
