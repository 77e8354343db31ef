"""Configured tabular sources: config validation, and CSV / Parquet / SQL through the pipeline.

The pipeline tests write two days (2024-11-04 and 2024-11-05) of hand-made exports:

* ``feature_usage``: two CSV files matched by a glob, daily, times in Europe/Paris written
  ``dd/mm/yyyy hh:mm``, product a constant, actions mapped to canonical types, no id column;
* ``nps``: a Parquet file, hourly, native UTC datetimes, an id column;
* ``billing``: a SQL query against a SQLite database, daily, amounts and currencies,

so every figure asserted below can be checked with a pencil.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from dagster import AssetKey, DagsterInstance, Definitions, materialize

from growth_assets.backfill import materialize_days
from growth_assets.definitions import assets_for, build_definitions
from growth_assets.models.daily import METRICS_DAILY_KEY, USERS_KEY
from growth_assets.sources.streams import SOURCES
from growth_assets.sources.tabular_assets import tabular_resources
from growth_assets.sources.tabular_config import (
    TabularConfig,
    TabularConfigError,
    load_config,
    parse_config,
)
from resources.fx import CsvFxRates
from resources.settings import ModelSettings
from resources.tabular import SqlSourceClient, TabularSourceError, parse_timestamp
from resources.warehouse import Warehouse
from tests.sources import static

DAY1, DAY2 = date(2024, 11, 4), date(2024, 11, 5)

# ---------------------------------------------------------------- configuration (pure)

GOOD = """
[[file_source]]
name = "nps"
path = "exports/nps-*.parquet"
grain = "hourly"
[file_source.columns]
timestamp = "answered_at"
user = "email"
id = "response_id"
product = "product"
properties = ["score", "comment"]
[file_source.constants]
event_type = "engagement"

[[sql_source]]
name = "billing_kpis"
url_env = "BILLING_DB_URL"
query = '''
SELECT id, paid_at, customer, amount, currency
FROM payments
WHERE paid_at >= :window_start AND paid_at < :window_end
'''
[sql_source.columns]
timestamp = "paid_at"
user = "customer"
id = "id"
value = "amount"
currency = "currency"
[sql_source.constants]
event_type = "revenue"
product = "atlas"
"""


def parse(text: str) -> TabularConfig:
    return parse_config(text, "sources.toml", Path("/srv/growth"), reserved=SOURCES)


def test_good_config_parses() -> None:
    config = parse(GOOD)
    nps, billing = config.sources
    assert (nps.kind, nps.name, nps.grain, nps.format) == ("file", "nps", "hourly", "parquet")
    assert nps.path == "/srv/growth/exports/nps-*.parquet"  # relative to the file's folder
    assert nps.mapping.event_type == "engagement" and nps.mapping.product_column == "product"
    assert nps.mapping.properties == ("score", "comment")
    assert (billing.kind, billing.grain, billing.url_env) == ("sql", "daily", "BILLING_DB_URL")
    assert billing.mapping.currency_column == "currency" and billing.mapping.product == "atlas"
    assert billing.query is not None and billing.query.startswith("SELECT id")


def source(kind: str = "file", **fields: str) -> str:
    """A one-source config; ``fields`` replace lines by key (value '' removes the line)."""
    base = {
        "name": '"usage"',
        "path": '"usage.csv"',
        "url_env": '"KPI_DB_URL"',
        "query": '"SELECT * FROM t WHERE at >= :window_start AND at < :window_end"',
        "timestamp": '"at"',
        "user": '"who"',
        "event_type": '"engagement"',
        "product": '"atlas"',
    }
    base.update(fields)
    top = ["name", "path"] if kind == "file" else ["name", "url_env", "query"]
    lines = [f"[[{kind}_source]]"]
    lines += [f"{k} = {base[k]}" for k in top if base[k]]
    lines += [f"[{kind}_source.columns]"]
    lines += [f"{k} = {base[k]}" for k in ("timestamp", "user") if base[k]]
    lines += [f"[{kind}_source.constants]"]
    lines += [f"{k} = {base[k]}" for k in ("event_type", "product") if base[k]]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (source(timestamp=""), r"file_source 'usage': columns\.timestamp: is required"),
        (source(user=""), r"columns\.user: is required"),
        (source(event_type=""), r"event_type: set columns\.event_type or constants\.event_type"),
        (source(product=""), r"product: set columns\.product or constants\.product"),
        (source(path=""), r"file_source 'usage': path: is required"),
        (source("sql", query=""), r"sql_source 'usage': query: is required"),
        (source("sql", url_env=""), r"url_env: must be the NAME"),
        (source(name=""), r"file_source #1: name: must match"),
        (source(name='"NPS"'), r"name: must match"),
        (source(name='"1nps"'), r"name: must match"),
        (source(name='"nps-export"'), r"name: must match"),
        (source(name='"n' + "x" * 41 + '"'), r"name: must match"),
        (source(name='"nps\'; DROP TABLE growth.events; --"'), r"name: must match"),
        (source(name='"stripe"'), r"'stripe' is a built-in source"),
        (source(path='"usage.txt"'), r"format: cannot tell the format"),
        (source(event_type='"Engagement; DROP"'), r"constants\.event_type: must be"),
        (source(product='"all"'), r"constants\.product: must be a product id"),
        (
            source("sql", query='"SELECT * FROM t"'),
            r"query: must filter on the partition window with both :window_start and "
            r":window_end \(missing :window_end, :window_start\)",
        ),
        (
            source("sql", query='"SELECT * FROM t WHERE at >= :window_start"'),
            r"\(missing :window_end\)",
        ),
        (
            source(
                "sql",
                query='"SELECT * FROM t WHERE at >= :window_start AND at < :window_end; '
                'DROP TABLE t"',
            ),
            r"query: must be a single statement",
        ),
        (
            source("sql", query='"DELETE FROM t WHERE at >= :window_start AND at < :window_end"'),
            r"query: must be a SELECT",
        ),
        (
            source(
                "sql",
                query='"SELECT * FROM t WHERE at >= :window_start AND at < :window_end '
                'AND who = :user"',
            ),
            r"unknown bind parameter\(s\) :user",
        ),
        (source() + 'grain = "weekly"\n', r"unknown key\(s\) 'grain'"),  # inside constants
        (source().replace("[[file_source]]", '[[file_source]]\ngrain = "weekly"'), r"grain"),
        (source() + "[[csv_source]]\nname = 'x'\n", r"top level: unknown key\(s\) 'csv_source'"),
        (source() + source(), r"source name 'usage' is used twice"),
        ("[[file_source]\n", r"sources\.toml: not valid TOML"),
    ],
)
def test_invalid_configs_name_file_source_and_field(text: str, message: str) -> None:
    with pytest.raises(TabularConfigError, match=message) as info:
        parse(text)
    assert str(info.value).startswith("sources.toml")


def test_value_needs_a_currency_and_columns_exclude_constants() -> None:
    text = source().replace("[file_source.constants]", 'value = "amount"\n[file_source.constants]')
    with pytest.raises(TabularConfigError, match=r"columns\.value needs columns\.currency"):
        parse(text)
    text = source().replace("[file_source.constants]", 'product = "p"\n[file_source.constants]')
    with pytest.raises(TabularConfigError, match=r"either columns\.product or constants\.product"):
        parse(text)


def test_the_sql_url_is_never_read_from_the_file_nor_echoed() -> None:
    secret = "postgresql://kpi:s3cret-pw@db.internal/app"
    with pytest.raises(TabularConfigError, match="may not be written in the sources file") as a:
        parse(source("sql").replace('url_env = "KPI_DB_URL"', f'url = "{secret}"'))
    with pytest.raises(TabularConfigError, match="url_env: must be the NAME") as b:
        parse(source("sql", url_env=f'"{secret}"'))
    assert "s3cret-pw" not in str(a.value) and "s3cret-pw" not in str(b.value)


def test_missing_sources_file(tmp_path: Path) -> None:
    with pytest.raises(TabularConfigError, match="GROWTH_SOURCES_FILE"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("value", "fmt", "tz", "expected"),
    [
        ("2024-11-05T10:00:00Z", None, "UTC", datetime(2024, 11, 5, 10, tzinfo=UTC)),
        ("2024-11-05 10:00:00", None, "Europe/Paris", datetime(2024, 11, 5, 9, tzinfo=UTC)),
        ("2024-11-05", None, "UTC", datetime(2024, 11, 5, tzinfo=UTC)),
        (
            "05/11/2024 00:30",
            "%d/%m/%Y %H:%M",
            "Europe/Paris",
            datetime(2024, 11, 4, 23, 30, tzinfo=UTC),
        ),
        ("1730800800", "epoch", "UTC", datetime(2024, 11, 5, 10, tzinfo=UTC)),
        (1730800800, None, "UTC", datetime(2024, 11, 5, 10, tzinfo=UTC)),
        (date(2024, 11, 5), None, "UTC", datetime(2024, 11, 5, tzinfo=UTC)),
        ("yesterday", None, "UTC", None),
        ("31/02/2024 10:00", "%d/%m/%Y %H:%M", "UTC", None),
        ("", None, "UTC", None),
        (None, None, "UTC", None),
        (True, None, "UTC", None),
    ],
)
def test_parse_timestamp(value: Any, fmt: str | None, tz: str, expected: datetime | None) -> None:
    assert parse_timestamp(value, fmt, tz) == expected


# ---------------------------------------------------------------- the pipeline

USAGE_1 = """user,when,action,plan
u1,05/11/2024 10:15,opened,pro
u2,05/11/2024 11:00,opened,free
u2,05/11/2024 11:00,opened,free
u3,04/11/2024 23:30,upgraded,pro
u6,05/11/2024 00:30,opened,pro
"""
USAGE_2 = """user,when,action,plan
u4,05/11/2024 12:00,zapped,free
u5,yesterday,opened,free
,05/11/2024 13:00,opened,free
"""
PAYMENTS = [
    ("p1", "2024-11-05 14:00:00+00:00", "u1", "atlas", "29.00", "USD"),
    ("p2", "2024-11-05 15:00:00+00:00", "u2", "atlas", "10.00", "eur"),
    ("p3", "2024-11-05 16:00:00+00:00", "u7", "beacon", "5.00", "XYZ"),
    ("p4", "2024-11-05 17:00:00+00:00", "u7", "beacon", "abc", "USD"),
    ("p5", "2024-11-04 10:00:00+00:00", "u3", "atlas", "12.50", "USD"),
    ("p6", "2024-11-07 10:00:00+00:00", "u3", "atlas", "99.00", "USD"),  # after the range
]

SOURCES_TOML = """
[[file_source]]
name = "feature_usage"
path = "exports/usage-*.csv"
grain = "daily"
timestamp_format = "%d/%m/%Y %H:%M"
timezone = "Europe/Paris"
[file_source.columns]
timestamp = "when"
user = "user"
event_type = "action"
properties = ["plan"]
[file_source.constants]
product = "atlas"
[file_source.event_types]
opened = "engagement"
upgraded = "key_action"

[[file_source]]
name = "nps"
path = "exports/nps.parquet"
grain = "hourly"
[file_source.columns]
timestamp = "answered_at"
user = "email"
id = "response_id"
product = "product"
properties = ["score", "comment"]
[file_source.constants]
event_type = "engagement"

[[sql_source]]
name = "billing"
url_env = "TEST_BILLING_DB_URL"
query = '''
SELECT id, paid_at, customer, product, amount, currency
FROM payments
WHERE paid_at >= :window_start AND paid_at < :window_end
ORDER BY id
'''
[sql_source.columns]
timestamp = "paid_at"
user = "customer"
id = "id"
product = "product"
value = "amount"
currency = "currency"
[sql_source.constants]
event_type = "revenue"
"""


def write_exports(folder: Path) -> Path:
    exports = folder / "exports"
    exports.mkdir()
    (exports / "usage-1.csv").write_text(USAGE_1)
    (exports / "usage-2.csv").write_text(USAGE_2)
    pl.DataFrame(
        {
            "response_id": ["r1", "r2", "r3"],
            "answered_at": [
                datetime(2024, 11, 5, 8, tzinfo=UTC),
                datetime(2024, 11, 5, 9, 30, tzinfo=UTC),
                datetime(2024, 11, 4, 12, tzinfo=UTC),
            ],
            "product": ["atlas", "beacon", "beacon"],
            "email": ["u1", "u7", "u7"],
            "score": [9, 3, 6],
            "comment": ["great", "meh", None],
        }
    ).write_parquet(exports / "nps.parquet")
    db = folder / "billing-s3cret.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE payments (id, paid_at, customer, product, amount, currency)")
        conn.executemany("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?)", PAYMENTS)
    toml = folder / "sources.toml"
    toml.write_text(SOURCES_TOML)
    return toml


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TabularConfig:
    toml = write_exports(tmp_path)
    monkeypatch.setenv("TEST_BILLING_DB_URL", f"sqlite:///{tmp_path / 'billing-s3cret.db'}")
    return load_config(toml, reserved=SOURCES)


@pytest.fixture
def resources(warehouse: Warehouse, tmp_path: Path, config: TabularConfig) -> dict[str, Any]:
    fx = tmp_path / "fx.csv"
    fx.write_text("day,currency,rate\n2024-11-01,EUR,1.08\n")
    return {
        "warehouse": warehouse,
        "settings": ModelSettings(),
        "fx_source": CsvFxRates(path=str(fx)),
        "mixpanel": static("mixpanel"),
        "stripe": static("stripe"),
        "zendesk": static("zendesk"),
        **tabular_resources(config),
    }


def build(resources: dict[str, Any], config: TabularConfig) -> list[Any]:
    with DagsterInstance.ephemeral() as instance:
        _, checks = materialize_days(DAY1, DAY2, resources, instance, tabular=config)
    return checks


def q(warehouse: Warehouse, sql: str) -> list[Any]:
    with warehouse.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql))]


def snapshot(warehouse: Warehouse) -> dict[str, Any]:
    return {
        "events": q(
            warehouse,
            "SELECT event_id, source, stream, source_id, event_type, product_id, user_id, "
            "occurred_at, value, currency, value_reporting, properties FROM growth.events "
            "ORDER BY 1",
        ),
        "raw": q(
            warehouse,
            "SELECT source, id, occurred_at, payload, ingested_at FROM raw.tabular_records "
            "ORDER BY 1, 2",
        ),
        "rejected": q(
            warehouse,
            "SELECT source, stream, stage, reject_key, reason FROM ops.rejected_events "
            "ORDER BY 1, 2, 3, 4",
        ),
        "metrics": q(
            warehouse,
            "SELECT day, product_id, gross_revenue, signups, active_users, events "
            "FROM growth.metrics_daily ORDER BY 1, 2",
        ),
        "stale": q(warehouse, "SELECT * FROM ops.stale_windows ORDER BY 1, 2, 3"),
    }


def test_csv_parquet_and_sql_sources_load_hand_checked_numbers(
    resources: dict[str, Any], config: TabularConfig, warehouse: Warehouse
) -> None:
    checks = build(resources, config)
    # quarantine warnings report the rows the data set rejects on purpose
    failed = [c for c in checks if not c.passed and c.severity == "ERROR"]
    assert not failed, failed
    checked = {c.asset for c in checks}
    assert {"raw/file_feature_usage", "growth/events/nps", "raw/sql_billing"} <= checked

    events = q(
        warehouse,
        "SELECT source, stream, source_id, event_type, product_id, user_id, "
        "occurred_at, value, currency, value_reporting FROM growth.events "
        "ORDER BY source, occurred_at",
    )
    usage = [e for e in events if e[0] == "feature_usage"]
    # Paris is UTC+1 in November: 05/11 00:30 is the 4th at 23:30 UTC. The repeated u2 row
    # has no id column, so it hashes to the same id and is one event.
    assert [(e[3], e[5], e[6]) for e in usage] == [
        ("key_action", "u3", datetime(2024, 11, 4, 22, 30, tzinfo=UTC)),
        ("engagement", "u6", datetime(2024, 11, 4, 23, 30, tzinfo=UTC)),
        ("engagement", "u1", datetime(2024, 11, 5, 9, 15, tzinfo=UTC)),
        ("engagement", "u2", datetime(2024, 11, 5, 10, 0, tzinfo=UTC)),
    ]
    assert {e[1] for e in usage} == {"file"} and {e[4] for e in usage} == {"atlas"}
    nps = [(e[2], e[4], e[5]) for e in events if e[0] == "nps"]
    assert nps == [("r3", "beacon", "u7"), ("r1", "atlas", "u1"), ("r2", "beacon", "u7")]
    billing = [(e[2], e[3], e[7], e[8], e[9]) for e in events if e[0] == "billing"]
    assert billing == [
        ("p5", "revenue", Decimal("12.500000"), "USD", Decimal("12.500000")),
        ("p1", "revenue", Decimal("29.000000"), "USD", Decimal("29.000000")),
        ("p2", "revenue", Decimal("10.000000"), "EUR", Decimal("10.800000")),  # × 1.08
    ]

    metrics = {
        (str(r[0]), r[1]): r[2:]
        for r in q(
            warehouse,
            "SELECT day, product_id, gross_revenue, active_users, events FROM growth.metrics_daily",
        )
    }
    # (gross revenue, active users, events)
    assert metrics[("2024-11-05", "atlas")] == (Decimal("39.80"), 2, 5)
    assert metrics[("2024-11-05", "beacon")] == (Decimal("0"), 1, 1)
    assert metrics[("2024-11-05", "all")] == (Decimal("39.80"), 3, 6)
    assert metrics[("2024-11-04", "atlas")] == (Decimal("12.50"), 2, 3)
    assert metrics[("2024-11-04", "all")] == (Decimal("12.50"), 3, 4)

    # The glob read both files; properties keep the configured columns only.
    raw = dict(
        q(
            warehouse,
            "SELECT payload ->> 'file', count(*) FROM raw.tabular_records "
            "WHERE source = 'feature_usage' GROUP BY 1",
        )
    )
    assert raw == {"usage-1.csv": 4, "usage-2.csv": 2}
    (props,) = q(
        warehouse, "SELECT properties FROM growth.events WHERE source = 'nps' AND source_id = 'r3'"
    )
    assert props == ({"score": 6, "comment": None},)


def test_malformed_rows_are_rejected_with_reasons_and_counted(
    resources: dict[str, Any], config: TabularConfig, warehouse: Warehouse
) -> None:
    with DagsterInstance.ephemeral() as instance:
        materialize_days(DAY1, DAY2, resources, instance, tabular=config)
        record = instance.get_latest_materialization_event(AssetKey(["raw", "file_feature_usage"]))
        norm = instance.get_latest_materialization_event(AssetKey(["growth", "events", "billing"]))
    rows = q(
        warehouse,
        "SELECT source, stream, stage, source_id, reason, payload -> 'row' ->> 'user' "
        "FROM ops.rejected_events ORDER BY source, stage, reason",
    )
    reasons = [(r[0], r[1], r[2], r[4]) for r in rows]
    assert reasons == [
        ("billing", "sql", "normalise", "unknown currency 'XYZ'"),
        ("billing", "sql", "normalise", "value 'abc' is not a number"),
        (
            "feature_usage",
            "file",
            "ingest",
            "bad timestamp (occurred_at): Invalid isoformat string: 'yesterday'",
        ),
        ("feature_usage", "file", "normalise", "missing user id"),
        ("feature_usage", "file", "normalise", "unmapped source event 'zapped'"),
    ]
    assert [r[3] for r in rows[:2]] == ["p3", "p4"]
    assert rows[2][5] == "u5"  # the original row is kept

    assert record is not None and record.asset_materialization is not None
    meta = record.asset_materialization.metadata
    assert meta["rows_fetched"].value == 8  # every row of both files, the bad one included
    assert meta["rows_rejected"].value == 1
    assert meta["reject_reasons"].value == {"bad timestamp": 1}
    assert meta["distinct_ids"].value == 6  # 7 in the window, the repeated row counts once
    assert norm is not None and norm.asset_materialization is not None
    assert norm.asset_materialization.metadata["rows_rejected"].value == 2


def test_rerunning_changes_nothing(
    resources: dict[str, Any], config: TabularConfig, warehouse: Warehouse
) -> None:
    build(resources, config)
    first = snapshot(warehouse)
    assert len(first["events"]) == 10 and len(first["raw"]) == 14
    build(resources, config)
    assert snapshot(warehouse) == first


def test_a_changed_export_replaces_its_rows(
    resources: dict[str, Any], config: TabularConfig, warehouse: Warehouse, tmp_path: Path
) -> None:
    build(resources, config)
    (tmp_path / "exports" / "usage-2.csv").write_text(
        "user,when,action,plan\nu4,05/11/2024 12:00,opened,free\n"
    )
    build(resources, config)
    usage = q(
        warehouse,
        "SELECT user_id FROM growth.events WHERE source = 'feature_usage' ORDER BY 1",
    )
    assert usage == [("u1",), ("u2",), ("u3",), ("u4",), ("u6",)]
    # Raw is upsert-only, as for every source: rows that left the file stay in raw (and
    # their rejects stay) until deleted from raw.tabular_records by hand.
    rejected = q(
        warehouse,
        "SELECT stage, reason FROM ops.rejected_events WHERE source = 'feature_usage' "
        "ORDER BY 1, 2",
    )
    assert rejected == [
        ("ingest", "bad timestamp (occurred_at): Invalid isoformat string: 'yesterday'"),
        ("normalise", "missing user id"),
        ("normalise", "unmapped source event 'zapped'"),
    ]


def test_the_sql_url_never_appears_in_metadata_logs_or_errors(
    resources: dict[str, Any],
    config: TabularConfig,
    warehouse: Warehouse,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with DagsterInstance.ephemeral() as instance:
        materialize_days(DAY1, DAY2, resources, instance, tabular=config)
        logs = [repr(e) for run in instance.get_runs() for e in instance.all_logs(run.run_id)]
    assert logs and not [line for line in logs if "s3cret" in line]
    assert any("TEST_BILLING_DB_URL" in line for line in logs)  # the variable's name is shown

    secret_url = "postgresql+psycopg://kpi:s3cret-pw@127.0.0.1:1/nowhere"
    monkeypatch.setenv("TEST_BILLING_DB_URL", secret_url)
    client = tabular_resources(config)["tabular_billing"]
    assert isinstance(client, SqlSourceClient)
    with pytest.raises(TabularSourceError, match="sql source 'billing'") as info:
        list(
            client.fetch(
                "sql", datetime(2024, 11, 5, tzinfo=UTC), datetime(2024, 11, 6, tzinfo=UTC)
            )
        )
    chain: list[BaseException] = []
    exc: BaseException | None = info.value
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    assert len(chain) == 1  # no original driver error attached
    assert "s3cret-pw" not in str(info.value) and "TEST_BILLING_DB_URL" in str(info.value)
    assert "s3cret" not in repr(client) and "s3cret" not in str(client.describe())

    monkeypatch.setenv("TEST_BILLING_DB_URL", "not a url s3cret-pw")
    with pytest.raises(TabularSourceError) as bad:
        list(
            client.fetch(
                "sql", datetime(2024, 11, 5, tzinfo=UTC), datetime(2024, 11, 6, tzinfo=UTC)
            )
        )
    assert "s3cret-pw" not in str(bad.value)

    # A failing run: the error Dagster records does not carry the URL either.
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            assets_for(config),
            selection=[AssetKey(["raw", "sql_billing"])],
            resources=resources,
            instance=instance,
            partition_key="2024-11-05",
            raise_on_error=False,
        )
        assert not result.success
        logs = [repr(e) for e in instance.all_logs(result.run_id)]
    assert any("TabularSourceError" in line for line in logs)
    assert not [line for line in logs if "s3cret-pw" in line]


def test_missing_columns_and_unreadable_files_are_clear_errors(
    config: TabularConfig, tmp_path: Path
) -> None:
    client = tabular_resources(config)["tabular_feature_usage"]
    window = (datetime(2024, 11, 5, tzinfo=UTC), datetime(2024, 11, 6, tzinfo=UTC))
    (tmp_path / "exports" / "usage-3.csv").write_text("user,action\nu1,opened\n")
    with pytest.raises(TabularSourceError, match=r"file source 'feature_usage': cannot read"):
        list(client.fetch("file", *window))
    for name in ("usage-1.csv", "usage-2.csv", "usage-3.csv"):
        (tmp_path / "exports" / name).write_text("user,action,plan\nu1,opened,pro\n")
    with pytest.raises(
        TabularSourceError, match=r"column\(s\) 'when' \(columns\.timestamp\) not in the data"
    ):
        list(client.fetch("file", *window))
    for name in ("usage-1.csv", "usage-2.csv", "usage-3.csv"):
        (tmp_path / "exports" / name).unlink()
    with pytest.raises(TabularSourceError, match=r"no file matches .*usage-\*\.csv"):
        list(client.fetch("file", *window))


def test_definitions_with_a_sources_file(
    config: TabularConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROWTH_SOURCES_FILE", str(tmp_path / "sources.toml"))
    defs = build_definitions()
    Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    for key in (
        AssetKey(["raw", "file_feature_usage"]),
        AssetKey(["raw", "file_nps"]),
        AssetKey(["raw", "sql_billing"]),
        AssetKey(["growth", "events", "billing"]),
    ):
        assert key in keys
    checked = {k.asset_key for k in graph.asset_check_keys}
    assert keys <= checked
    new_events = {AssetKey(["growth", "events", n]) for n in ("feature_usage", "nps", "billing")}
    assert new_events <= graph.get(USERS_KEY).parent_keys
    assert new_events <= graph.get(METRICS_DAILY_KEY).parent_keys
    assert (
        AssetKey(["raw", "sql_billing"])
        in graph.get(AssetKey(["growth", "events", "billing"])).parent_keys
    )
    hourly = defs.resolve_job_def("hourly_assets")
    daily = defs.resolve_job_def("daily_assets")
    assert AssetKey(["growth", "events", "feature_usage"]) in hourly.asset_layer.selected_asset_keys
    assert AssetKey(["raw", "file_feature_usage"]) in daily.asset_layer.selected_asset_keys
    assert "tabular_billing" in (defs.resources or {})
