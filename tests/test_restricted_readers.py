"""BI access across the whole catalog: a product-restricted reader sees only its product in
every ``analytics`` view, and ``growth_bi`` reads nothing in ``raw``, ``growth``, ``ops`` and
creates nothing anywhere.

Views and tables are enumerated from the catalog, so a view or table added later is covered
without editing this file. The world is a small demo business (4 days, 4 products) built by
the real pipeline, plus alerts recorded for two products and the portfolio, so that every
view holds rows for an unrestricted reader (a view that is empty here fails the test: an
empty view would prove nothing about its restriction).
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from resources.sqlfiles import quote_ident
from resources.warehouse import Warehouse
from tests.test_analytics import login
from tests.test_crash import build

PRODUCT_COLUMN = "product_id"

_RELATIONS = sa.text(
    """
    SELECT n.nspname || '.' || c.relname AS name, c.relkind,
           EXISTS (SELECT 1 FROM pg_attribute AS a
                   WHERE a.attrelid = c.oid AND a.attname = :column AND NOT a.attisdropped)
               AS has_product
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY(CAST(:schemas AS text[]))
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND NOT c.relispartition
    ORDER BY 1
    """
)


def relations(warehouse: Warehouse, *schemas: str) -> list[sa.Row]:
    with warehouse.engine.connect() as conn:
        return list(conn.execute(_RELATIONS, {"schemas": list(schemas), "column": PRODUCT_COLUMN}))


def record_alerts(warehouse: Warehouse, products: list[str]) -> None:
    """One open anomaly per product (and the portfolio), as detection records them."""
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO ops.alerts (dedup_key, kind, product_id, metric, grain, period, "
                "period_start, asset_key, value, z, severity) VALUES (:key, 'anomaly', :p, "
                "'churned_customers', 'daily', '2024-11-04', '2024-11-04', "
                "'growth/metrics_daily', 9, 4.2, 'high')"
            ),
            [{"key": f"{p}/churned_customers/daily/2024-11-04", "p": p} for p in products],
        )


def test_restricted_reader_sees_its_product_in_every_view_and_bi_nothing_else(
    warehouse: Warehouse,
) -> None:
    build(warehouse.url, seed=5)
    with warehouse.engine.connect() as conn:
        products = sorted(
            conn.execute(
                sa.text("SELECT DISTINCT product_id FROM growth.events ORDER BY 1")
            ).scalars()
        )
    assert len(products) >= 3
    mine, other = products[0], products[1]
    record_alerts(warehouse, [mine, other, "all"])

    views = relations(warehouse, "analytics")
    assert len(views) >= 20 and {v.relkind for v in views} <= {"v", "m"}
    team = f"team_{uuid.uuid4().hex[:10]}"
    with warehouse.engine.begin() as conn:
        conn.execute(sa.text("SELECT ops.create_product_reader(:r, :p)"), {"r": team, "p": mine})
    try:
        with (
            login(warehouse, "growth_bi") as bi,
            bi.connect() as everyone,
            login(warehouse, team) as restricted,
            restricted.connect() as scoped,
        ):
            for view in views:
                name = quote_ident(view.name)
                total = everyone.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
                assert total > 0, f"{view.name} is empty in the test world: nothing is tested"
                if view.has_product:
                    seen = set(
                        everyone.execute(sa.text(f"SELECT DISTINCT product_id FROM {name}"))
                        .scalars()
                        .all()
                    )
                    assert mine in seen and len(seen) > 1, (view.name, seen)
                    scoped_products = set(
                        scoped.execute(sa.text(f"SELECT DISTINCT product_id FROM {name}"))
                        .scalars()
                        .all()
                    )
                    assert scoped_products == {mine}, (view.name, scoped_products)
                else:
                    # no product dimension: the rows mix products, a restricted reader sees none
                    rows = scoped.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
                    assert rows == 0, f"{view.name} shows {rows} cross-product rows to {team}"

            hidden = relations(warehouse, "raw", "growth", "ops")
            assert len(hidden) > 40
            for rel in hidden:
                for conn in (everyone, scoped):
                    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                        conn.execute(sa.text(f"SELECT 1 FROM {quote_ident(rel.name)} LIMIT 1"))
                    conn.rollback()

            with warehouse.engine.connect() as conn:
                schemas = list(
                    conn.execute(
                        sa.text(
                            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                            "AND nspname <> 'information_schema' ORDER BY 1"
                        )
                    ).scalars()
                )
            assert {"raw", "growth", "ops", "analytics", "public"} <= set(schemas)
            attempts = [
                *(f"CREATE TABLE {quote_ident(s)}.bi_table (x int)" for s in schemas),
                *(f"CREATE VIEW {quote_ident(s)}.bi_view AS SELECT 1 AS x" for s in schemas),
                *(
                    f"CREATE FUNCTION {quote_ident(s)}.bi_fn() RETURNS int "
                    "LANGUAGE sql AS 'SELECT 1'"
                    for s in schemas
                ),
                "CREATE SCHEMA bi_schema",
                "CREATE TEMPORARY TABLE bi_temp (x int)",
            ]
            for conn in (everyone, scoped):
                for statement in attempts:
                    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                        conn.execute(sa.text(statement))
                    conn.rollback()
    finally:
        with warehouse.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP ROLE {team}")
