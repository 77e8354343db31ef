"""Pseudonymisation of user ids (``GROWTH_PSEUDONYMISE_KEY``; docs/security.md).

The end-to-end test runs the whole pipeline over the small demo world of the crash tests
(``tests/test_crash.py``: 4 days, 3,000 users, 4 products) in one warehouse: first without a
key, then, after ``growth-assets pseudonyms forget``, with one. With the key, no user id of
the source data appears anywhere in ``growth`` or ``analytics``, every metric equals the run
without it, the warehouse equals the keyless one with each id replaced by its pseudonym, and
the key appears in no Dagster event, run config, tag or console line. Switching the key on
over raw ids, changing it, or unsetting it is refused with an error naming the fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from dagster import AssetKey, DagsterInstance, materialize

from growth_assets.backfill import QUIET, materialize_days
from growth_assets.cli.main import main as cli
from growth_assets.definitions import ASSETS
from growth_assets.demo.fingerprint import adopt_pseudonymisation
from growth_assets.models.events import NORMALISERS
from growth_assets.models.pseudonyms import check_space, pseudonymise_staged
from growth_assets.models.subscriptions import SUBSCRIPTIONS_KEY
from resources.pseudonyms import (
    KEY_VARIABLE,
    MIN_KEY_BYTES,
    PseudonymisationError,
    Pseudonymiser,
    pseudonymiser,
)
from resources.settings import SettingsError, model_settings_from_env
from resources.sqlfiles import quote_ident
from resources.warehouse import Warehouse
from tests.reliability import digests
from tests.test_crash import FIRST, LAST, demo_resources

KEY = "k3y-for-the-pseudonymisation-test-7f1c9a2e"
OTHER_KEY = "another-key-entirely-0d5b8e6f3a21"
SEED = 11

# Tables without user ids: every metric. They must digest equal with and without the key.
METRIC_TABLES = {
    f"growth.{t}"
    for t in (
        "metrics_hourly",
        "metrics_daily",
        "metrics_monthly",
        "engagement_daily",
        "growth_accounting",
        "retention_triangle",
        "cohort_ltv",
        "power_users",
        "feature_adoption",
        "mrr_monthly",
        "funnel_conversion",
        "north_star",
    )
}
# Tables keyed by user: equal once each id of the keyless run is mapped to its pseudonym.
USER_TABLES = {
    "growth.users": ("user_id",),
    "growth.user_activity_daily": ("user_id",),
    "growth.subscriptions": ("customer_id", "user_id"),
    "growth.mrr_customer_monthly": ("customer_id",),
    "growth.funnel_users": ("user_id",),
    "growth.customer_360": ("user_id",),
}
# The demo's user and customer ids, wherever they stand in a text (not inside a longer id).
DEMO_ID_PATTERN = r"(^|[^A-Za-z0-9_])(u[0-9]{7}|cus_[A-Za-z0-9]+)([^A-Za-z0-9]|$)"


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    yield monkeypatch


def _resources(warehouse: Warehouse) -> dict[str, Any]:
    """The crash tests' demo resources, with settings read from the environment as the
    definitions read them (the key, when set, as ``EnvVar``)."""
    url = warehouse.engine.url.render_as_string(hide_password=False)
    return {**demo_resources(url, SEED), "settings": model_settings_from_env(os.environ)}


def _build(warehouse: Warehouse, instance: DagsterInstance) -> None:
    _, checks = materialize_days(FIRST, LAST, _resources(warehouse), instance)
    failed = [c for c in checks if not c.passed and c.severity == "ERROR"]
    assert not failed, failed


def _rows(warehouse: Warehouse, table: str, mapped: tuple[str, ...], key: str | None) -> Any:
    """The table's data columns (as in the digests) as a sorted list of tuples, the columns
    ``mapped`` replaced by their pseudonyms under ``key`` (None: as stored)."""
    from tests.reliability import table_columns

    cols = table_columns(warehouse, {table})[table]
    p = pseudonymiser(key)
    with warehouse.engine.connect() as conn:
        select = ", ".join(f"CAST({quote_ident(c)} AS text)" for c in cols)
        rows = conn.execute(sa.text(f"SELECT {select} FROM {quote_ident(table)}")).all()
    out = []
    for row in rows:
        values = list(row)
        for i, col in enumerate(cols):
            if col in mapped and p is not None and values[i] is not None:
                values[i] = p.pseudonym(values[i])
        out.append(tuple(values))
    return sorted(out, key=repr)


def _source_user_ids(warehouse: Warehouse) -> set[str]:
    """Every user and customer id the sources sent, read from raw."""
    sql = """
        SELECT payload #>> '{properties,distinct_id}' FROM raw.mixpanel_events
        UNION SELECT id FROM raw.stripe_customers
        UNION SELECT payload #>> '{metadata,user_id}' FROM raw.stripe_customers
        UNION SELECT payload ->> 'customer' FROM raw.stripe_subscriptions
        UNION SELECT payload #>> '{metadata,user_id}' FROM raw.stripe_subscriptions
        UNION SELECT payload ->> 'customer' FROM raw.stripe_charges
        UNION SELECT payload #>> '{metadata,user_id}' FROM raw.stripe_charges
        UNION SELECT f ->> 'value' FROM raw.zendesk_tickets,
              jsonb_array_elements(payload -> 'custom_fields') AS f
        WHERE f ->> 'id' = '360002'
    """
    with warehouse.engine.connect() as conn:
        return {v for (v,) in conn.execute(sa.text(sql)) if v}


def _leaks(warehouse: Warehouse, ids: set[str]) -> dict[str, int]:
    """Per ``schema.table.column`` of growth and analytics (tables and views), how many values
    are a source user id: the column's text, each string inside a JSON value, each element of
    an array; and per table, rows whose text shows a demo-shaped id anywhere."""
    columns = sa.text(
        """
        SELECT c.table_schema, c.table_name, c.column_name, c.data_type
        FROM information_schema.columns AS c
        WHERE c.table_schema IN ('growth', 'analytics')
        ORDER BY 1, 2, c.ordinal_position
        """
    )
    found: dict[str, int] = {}
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text("CREATE TEMP TABLE source_ids (id text PRIMARY KEY) ON COMMIT DROP"))
        conn.execute(
            sa.text("INSERT INTO source_ids SELECT unnest(CAST(:ids AS text[]))"),
            {"ids": sorted(ids)},
        )
        tables = set()
        for schema, table, column, data_type in conn.execute(columns).all():
            tbl, col = quote_ident(f"{schema}.{table}"), quote_ident(column)
            tables.add(tbl)
            if data_type in ("json", "jsonb"):
                values = (
                    f"SELECT v #>> '{{}}' AS v FROM {tbl}, "
                    f"jsonb_path_query(CAST({col} AS jsonb), 'strict $.**') AS j (v) "
                    "WHERE jsonb_typeof(v) = 'string'"
                )
            elif data_type == "ARRAY":
                values = f"SELECT CAST(unnest({col}) AS text) AS v FROM {tbl}"
            else:
                values = f"SELECT CAST({col} AS text) AS v FROM {tbl}"
            n = conn.execute(
                sa.text(f"SELECT count(*) FROM ({values}) AS x JOIN source_ids AS s ON s.id = x.v")
            ).scalar_one()
            if n:
                found[f"{schema}.{table}.{column}"] = n
        for tbl in sorted(tables):
            n = conn.execute(
                sa.text(f"SELECT count(*) FROM {tbl} AS t WHERE CAST(t AS text) ~ :pattern"),
                {"pattern": DEMO_ID_PATTERN},
            ).scalar_one()
            if n:
                found[f"{tbl} (rows)"] = n
    return found


def _dagster_text(instance: DagsterInstance) -> str:
    """Everything the instance recorded of its runs: run config, tags, every event."""
    parts = []
    for run in instance.get_runs():
        parts += [repr(run.run_config), repr(run.tags)]
        parts += [repr(entry) for entry in instance.all_logs(run.run_id)]
    return "\n".join(parts)


def _refusal(warehouse: Warehouse, asset: AssetKey, partition: str) -> str:
    """The error of materialising one partition of ``asset`` with the current environment."""
    with DagsterInstance.ephemeral() as instance, pytest.raises(Exception) as caught:
        materialize(
            ASSETS,
            selection=[asset],
            resources=_resources(warehouse),
            instance=instance,
            partition_key=partition,
            run_config=QUIET,
        )
    error: BaseException | None = caught.value
    while error is not None and not isinstance(error, PseudonymisationError):
        error = error.__cause__
    assert error is not None, f"not a pseudonymisation error: {caught.value!r}"
    return str(error)


def test_pseudonyms_are_keyed_deterministic_and_short_keys_refused() -> None:
    p = Pseudonymiser(KEY.encode())
    assert p.pseudonym("u0000001") == Pseudonymiser(KEY.encode()).pseudonym("u0000001")
    assert p.pseudonym("u0000001") != p.pseudonym("u0000002")
    assert p.pseudonym("u0000001") != Pseudonymiser(OTHER_KEY.encode()).pseudonym("u0000001")
    assert len(p.pseudonym("u0000001")) == 32 and int(p.pseudonym("u0000001"), 16) >= 0
    assert p.fingerprint != Pseudonymiser(OTHER_KEY.encode()).fingerprint
    assert KEY not in repr(p) and KEY not in p.fingerprint
    assert pseudonymiser(None) is None and pseudonymiser("") is None
    assert pseudonymiser("x" * MIN_KEY_BYTES) is not None

    short = "s3cret-short"
    with pytest.raises(PseudonymisationError) as caught:
        pseudonymiser(short)
    assert KEY_VARIABLE in str(caught.value) and "too short" in str(caught.value)
    assert short not in str(caught.value)
    # When the definitions load, not mid-run; a SettingsError would name the value.
    with pytest.raises(PseudonymisationError) as caught:
        model_settings_from_env({KEY_VARIABLE: short})
    assert short not in str(caught.value) and not isinstance(caught.value, SettingsError)
    assert model_settings_from_env({}).pseudonymise_key is None


def test_no_source_user_id_reaches_growth_or_analytics_and_metrics_are_equal(
    warehouse: Warehouse,
    dagster_instance: DagsterInstance,
    key_env: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Without a key: the source ids are stored as sent (so the scan below can see them).
    with DagsterInstance.ephemeral() as instance:
        _build(warehouse, instance)
    ids = _source_user_ids(warehouse)
    assert len(ids) > 3000  # users, customers: the scan has something to find
    assert _leaks(warehouse, ids)
    plain_metrics = digests(warehouse, METRIC_TABLES)
    plain_users = {t: _rows(warehouse, t, cols, KEY) for t, cols in USER_TABLES.items()}
    plain_events = _events(warehouse, KEY)

    # Switching a key on over raw ids is refused, naming the problem and the fix.
    key_env.setenv(KEY_VARIABLE, KEY)
    message = _refusal(warehouse, SUBSCRIPTIONS_KEY, FIRST.isoformat())
    assert "without pseudonymisation" in message and "pseudonyms forget" in message
    assert KEY not in message

    result = CliRunner().invoke(
        cli,
        ["pseudonyms", "forget", "--yes"],
        env={"GROWTH_WAREHOUSE_URL": warehouse.engine.url.render_as_string(hide_password=False)},
    )
    assert result.exit_code == 0, result.output
    capfd.readouterr()
    _build(warehouse, dagster_instance)

    assert _leaks(warehouse, ids) == {}
    assert digests(warehouse, METRIC_TABLES) == plain_metrics
    for table, cols in USER_TABLES.items():
        assert _rows(warehouse, table, cols, None) == plain_users[table], table
    assert _events(warehouse, None) == plain_events
    with warehouse.engine.connect() as conn:
        counts = conn.execute(
            sa.text(
                "SELECT count(*), count(DISTINCT user_id), "
                "count(*) FILTER (WHERE properties ? 'customer') FROM growth.events"
            )
        ).one()
    print("events, distinct users, with a customer:", tuple(counts))
    assert counts[0] > 5000 and counts[1] > 1000 and counts[2] > 50

    # The key stays out of Dagster's records and the console.
    recorded = _dagster_text(dagster_instance)
    assert "user_ids_pseudonymised" in recorded
    assert KEY not in recorded
    # Nor do the source ids show in metadata, previews or check results of the run.
    leaked = {m.group(2) for m in re.finditer(DEMO_ID_PATTERN, recorded, re.MULTILINE)}
    assert not leaked, sorted(leaked)[:10]
    out, err = capfd.readouterr()
    assert KEY not in out and KEY not in err

    # Another key, or none, would mix two spaces: refused, without showing either key.
    key_env.setenv(KEY_VARIABLE, OTHER_KEY)
    message = _refusal(warehouse, AssetKey(["growth", "events", "mixpanel"]), "2024-11-02-05:00")
    assert "has changed" in message and KEY not in message and OTHER_KEY not in message
    key_env.delenv(KEY_VARIABLE)
    message = _refusal(warehouse, SUBSCRIPTIONS_KEY, FIRST.isoformat())
    assert "is not set" in message and "raw ids would mix" in message
    with warehouse.engine.connect() as conn:
        (fingerprint,) = conn.execute(
            sa.text("SELECT key_fingerprint FROM ops.pseudonymisation")
        ).one()
    assert fingerprint == Pseudonymiser(KEY.encode()).fingerprint


def _recorded(warehouse: Warehouse) -> list[Any]:
    with warehouse.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT key_fingerprint FROM ops.pseudonymisation")))


def test_pseudonym_space_is_recorded_once_and_guarded(warehouse: Warehouse) -> None:
    key, other = Pseudonymiser(KEY.encode()), Pseudonymiser(OTHER_KEY.encode())
    # An empty warehouse takes the first setting it is used with, and keeps it.
    with warehouse.transaction() as conn:
        check_space(conn, key)
    with warehouse.transaction() as conn:
        check_space(conn, key)
    assert [r.key_fingerprint for r in _recorded(warehouse)] == [key.fingerprint]
    with pytest.raises(PseudonymisationError, match="has changed"), warehouse.transaction() as conn:
        check_space(conn, other)

    # A warehouse holding user ids from before anything was recorded holds raw ids.
    with warehouse.transaction() as conn:
        conn.execute(sa.text("DELETE FROM ops.pseudonymisation"))
        conn.execute(
            sa.text(
                "INSERT INTO growth.users (product_id, user_id, first_seen_at, last_seen_at) "
                "VALUES ('atlas', 'u0000001', now(), now())"
            )
        )
    with pytest.raises(PseudonymisationError) as caught, warehouse.transaction() as conn:
        check_space(conn, key)
    assert "without pseudonymisation" in str(caught.value) and "forget" in str(caught.value)
    assert _recorded(warehouse) == []
    with warehouse.transaction() as conn:
        check_space(conn, None)  # and keeps working without a key
    assert [r.key_fingerprint for r in _recorded(warehouse)] == [None]

    # The demo (generated data only) empties growth instead, keeping raw, so its run rebuilds.
    assert adopt_pseudonymisation(warehouse, None) is False
    assert adopt_pseudonymisation(warehouse, key) is True
    assert _recorded(warehouse) == []
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM growth.users")).scalar_one() == 0
    assert adopt_pseudonymisation(warehouse, key) is False


@pytest.mark.parametrize("source", ["mixpanel", "stripe"])
def test_identity_properties_are_replaced_blank_ids_kept(warehouse: Warehouse, source: str) -> None:
    norm = next(n for n in NORMALISERS if n.source == source)
    p = Pseudonymiser(KEY.encode())
    properties = {"plan": "pro", "n": 3}
    for path in norm.identity_paths:  # every identity property, nested ones included
        node = properties
        for part in path[:-1]:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[path[-1]] = f"id-{'.'.join(path)}"
    rows = [("a", "u0000001", properties), ("b", "", {"plan": "free"}), ("c", None, {})]
    with warehouse.transaction() as conn:
        Warehouse.run_file(conn, "models/stage_events_table")
        for source_id, user, props in rows:
            conn.execute(
                sa.text(
                    "INSERT INTO staged_events (source_id, occurred_at, user_id, properties, "
                    "payload) VALUES (:s, now(), :u, CAST(:p AS jsonb), '{}')"
                ),
                {"s": source_id, "u": user, "p": orjson.dumps(props).decode()},
            )
        assert pseudonymise_staged(conn, p, norm.identity_paths) == 1 + len(norm.identity_paths)
        got = {
            r.source_id: (r.user_id, r.properties)
            for r in conn.execute(sa.text("SELECT * FROM staged_events"))
        }
    assert got["a"][0] == p.pseudonym("u0000001")
    assert got["a"][1]["plan"] == "pro" and got["a"][1]["n"] == 3
    for path in norm.identity_paths:
        value: Any = got["a"][1]
        for part in path:
            value = value[part]
        assert value == p.pseudonym(f"id-{'.'.join(path)}"), path
    assert got["b"] == ("", {"plan": "free"}) and got["c"] == (None, {})


def test_doctor_reports_the_setting_and_a_mismatch(
    warehouse: Warehouse, key_env: pytest.MonkeyPatch
) -> None:
    from tests.test_doctor import _doctor

    key_env.setenv("GROWTH_WAREHOUSE_URL", warehouse.url)
    code, out, err = _doctor()
    assert code == 0, err
    assert "pseudonyms:  off" in out
    key_env.setenv(KEY_VARIABLE, KEY)
    code, out, err = _doctor()
    short = Pseudonymiser(KEY.encode()).fingerprint.rsplit(":", 1)[-1][:12]
    assert code == 0, err
    assert f"pseudonyms:  on, HMAC-SHA256 (key fingerprint {short}…)" in out
    with warehouse.transaction() as conn:
        check_space(conn, Pseudonymiser(OTHER_KEY.encode()))
    code, out, err = _doctor()
    assert code == 1 and "has changed" in err and "pseudonyms forget" in err
    assert KEY not in out + err and OTHER_KEY not in out + err
    key_env.setenv(KEY_VARIABLE, "too-short")
    code, out, err = _doctor()
    assert code == 1 and "too short" in err and "too-short" not in out + err


def _events(warehouse: Warehouse, key: str | None) -> list[tuple[Any, ...]]:
    """growth.events' event ids with their user and the customer in their properties, mapped
    to pseudonyms under ``key`` (None: as stored), and the properties without the customer."""
    p = pseudonymiser(key)

    def pseudo(value: str | None) -> str | None:
        return value if p is None or value is None else p.pseudonym(value)

    sql = """
        SELECT CAST(event_id AS text), user_id, properties ->> 'customer',
               CAST(properties - 'customer' AS text), product_id, event_type,
               CAST(value_reporting AS text)
        FROM growth.events
    """
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.text(sql)).all()
    return sorted((r[0], pseudo(r[1]), pseudo(r[2]), *r[3:]) for r in rows)
