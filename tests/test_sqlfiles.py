"""SQL files: identifier quoting refuses anything odd; statements split where they should."""

from __future__ import annotations

import pytest

from resources import sqlfiles


@pytest.mark.parametrize("name", ["raw.stripe_charges", "growth", "a_1"])
def test_quote_ident_accepts_plain_names(name: str) -> None:
    assert sqlfiles.quote_ident(name) == ".".join(f'"{p}"' for p in name.split("."))


@pytest.mark.parametrize(
    "name",
    ['raw."x"', "raw.x; DROP TABLE y", "Raw.X", "a.b.c", "", "x y", "1abc", "a" * 64],
)
def test_quote_ident_refuses_unsafe_names(name: str) -> None:
    with pytest.raises(ValueError, match="unsafe SQL identifier"):
        sqlfiles.quote_ident(name)


def test_statements_split_on_line_final_semicolons() -> None:
    text = "-- header :x\nSELECT 1;\n\nSELECT ';--' AS s, 2 ; -- trailing :y\nSELECT 3\n"
    assert sqlfiles.statements(text) == ["SELECT 1", "SELECT ';--' AS s, 2", "SELECT 3"]


def test_render_fills_only_declared_identifiers() -> None:
    text = sqlfiles.render("ingest/upsert_raw", raw_table="raw.stripe_charges")
    assert 'INSERT INTO "raw"."stripe_charges"' in text
    with pytest.raises(KeyError, match="raw_table"):
        sqlfiles.render("ingest/upsert_raw")


def test_every_sql_file_parses_into_statements() -> None:
    files = sorted(sqlfiles.sql_dir().rglob("*.sql"))
    assert files, "no SQL files found"
    for path in files:
        assert sqlfiles.statements(path.read_text()), f"{path} holds no statement"
