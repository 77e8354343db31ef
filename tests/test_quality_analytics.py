"""The cohort and SaaS checks go through the quality framework: a failing one is an ERROR
written to ops.quality_results, and (blocking) stops its downstream assets in the same run."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from dagster import DagsterInstance, materialize

from growth_assets.cohorts.assets import cohort_ltv, retention_triangle
from growth_assets.partitions import range_tags
from growth_assets.rollups.assets import engagement_daily, user_activity_daily
from growth_assets.saas.assets import CUSTOMER_360_KEY, MRR_MONTHLY_KEY, customer_360, mrr_monthly
from resources.settings import ModelSettings
from resources.warehouse import Warehouse
from tests.cohort_data import load_events, load_subscriptions, load_users
from tests.saas_helpers import add_events, add_fx
from tests.test_cohorts import EVENTS, FIRST, LAST, SUBSCRIPTIONS, USERS
from tests.test_saas import MRR_EVENTS


def results(warehouse: Warehouse, check: str) -> list[Any]:
    with warehouse.engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT asset_key, partition, passed, severity, blocking, observed "
                    "FROM ops.quality_results WHERE check_name = CAST(:c AS text)"
                ),
                {"c": check},
            )
        )


def build_cohorts_checked(warehouse: Warehouse) -> Any:
    """The activity, the triangle and LTV over the fixture's range, failures kept."""
    with DagsterInstance.ephemeral() as instance:
        return materialize(
            [user_activity_daily, engagement_daily, retention_triangle, cohort_ltv],
            resources={"warehouse": warehouse, "settings": ModelSettings()},
            instance=instance,
            tags=range_tags(FIRST, LAST, "daily"),
            raise_on_error=False,
        )


def test_a_cohort_member_missing_from_the_users_table_fails_the_cohort_checks(
    warehouse: Warehouse,
) -> None:
    # q/u5 is active (a cohort member of product q) but has no growth.users row.
    load_events(warehouse, EVENTS)
    load_users(warehouse, [u for u in USERS if u[:2] != ("q", "u5")])
    load_subscriptions(warehouse, SUBSCRIPTIONS)
    result = build_cohorts_checked(warehouse)
    assert not result.success  # the blocking ERROR check fails its step
    evaluations = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert not evaluations["cohorts_consistent"].passed
    assert not evaluations["revenue_reconciles"].passed

    (row,) = results(warehouse, "cohorts_consistent")
    assert row.asset_key == "growth/retention_triangle"
    assert row.partition == f"{FIRST}...{LAST}"
    assert (row.passed, row.severity, row.blocking) == (False, "ERROR", True)
    observed = row.observed
    # The activity-based recount still agrees; only the users table disagrees.
    assert observed["size_mismatches"] == 0
    assert observed["users_table_mismatches"] == 4
    per_product = observed["cohort_sizes_vs_users_table"]
    assert per_product["p"]["mismatching_cohorts"] == 0
    assert per_product["p"]["monthly_cohort_users"] == per_product["p"]["users_table_users"] == 4
    assert per_product["q"] == {
        "cohorts": 2,
        "mismatching_cohorts": 2,
        "monthly_cohort_users": 1,
        "users_table_users": 0,
        "sample": [
            "month 2024-12-01: size 1, growth.users none",
            "week 2024-12-23: size 1, growth.users none",
        ],
    }
    assert per_product["all"]["mismatching_cohorts"] == 2

    (ltv,) = results(warehouse, "revenue_reconciles")
    assert (ltv.asset_key, ltv.passed, ltv.severity) == ("growth/cohort_ltv", False, "ERROR")
    assert ltv.observed["users_table_mismatches"] == 4
    assert ltv.observed["total_mismatches"] == 0


def test_the_cohort_checks_recount_sizes_and_revenue_from_the_activity(
    warehouse: Warehouse,
) -> None:
    """A cohort size one too high and an LTV one unit too high, as they are written: the
    checks' own recount (sql/cohorts/check_firsts.sql) must disagree with both."""
    load_events(warehouse, EVENTS)
    load_users(warehouse, USERS)
    load_subscriptions(warehouse, SUBSCRIPTIONS)
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "CREATE FUNCTION public.corrupt_size() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN NEW.cohort_size := NEW.cohort_size + 1; RETURN NEW; END $$"
            )
        )
        conn.execute(
            sa.text(
                "CREATE TRIGGER corrupt_size BEFORE INSERT ON growth.retention_triangle "
                "FOR EACH ROW WHEN (NEW.grain = 'week' AND NEW.product_id = 'p' "
                "AND NEW.segment_type = 'all' AND NEW.cohort = DATE '2024-12-16') "
                "EXECUTE FUNCTION public.corrupt_size()"
            )
        )
        conn.execute(
            sa.text(
                "CREATE FUNCTION public.corrupt_ltv() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN NEW.net_revenue := NEW.net_revenue + 1; "
                "NEW.cumulative_net_revenue := NEW.cumulative_net_revenue + 1; "
                "RETURN NEW; END $$"
            )
        )
        conn.execute(
            sa.text(
                "CREATE TRIGGER corrupt_ltv BEFORE INSERT ON growth.cohort_ltv "
                "FOR EACH ROW WHEN (NEW.grain = 'month' AND NEW.product_id = 'q') "
                "EXECUTE FUNCTION public.corrupt_ltv()"
            )
        )
    result = build_cohorts_checked(warehouse)
    assert not result.success
    (triangle,) = results(warehouse, "cohorts_consistent")
    assert triangle.observed["size_mismatches"] == 1  # the week cohort of 2024-12-16 in p
    assert triangle.observed["users_table_mismatches"] == 1
    (ltv,) = results(warehouse, "revenue_reconciles")
    # q's monthly total and 'all' (not re-summed from the corrupted row) disagree with the
    # recount
    assert ltv.observed["total_mismatches"] == 1
    assert ltv.observed["users_table_mismatches"] == 0


def test_a_broken_mrr_bridge_is_recorded_and_blocks_customer_360(warehouse: Warehouse) -> None:
    add_events(warehouse, MRR_EVENTS)
    add_fx(warehouse, [(date(2025, 1, 1), "JPY", "0.0067"), (date(2025, 2, 1), "JPY", "0.0070")])
    # Corrupt the table as it is written: c1's end MRR no longer follows from its movement.
    with warehouse.transaction() as conn:
        conn.execute(
            sa.text(
                "CREATE FUNCTION public.corrupt_mrr() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN NEW.end_mrr := NEW.end_mrr + 1; RETURN NEW; END $$"
            )
        )
        conn.execute(
            sa.text(
                "CREATE TRIGGER corrupt_mrr BEFORE INSERT ON growth.mrr_customer_monthly "
                "FOR EACH ROW WHEN (NEW.customer_id = 'c1') EXECUTE FUNCTION public.corrupt_mrr()"
            )
        )
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            [mrr_monthly, customer_360],
            resources={"warehouse": warehouse, "settings": ModelSettings()},
            instance=instance,
            tags=range_tags(date(2025, 1, 1), date(2025, 6, 30), "daily"),
            raise_on_error=False,
        )
    assert not result.success
    materialized = {m.asset_key for m in result.get_asset_materialization_events()}
    assert materialized == {MRR_MONTHLY_KEY}  # customer_360 (downstream) did not run
    assert CUSTOMER_360_KEY not in {c.asset_key for c in result.get_asset_check_evaluations()}

    (row,) = results(warehouse, "mrr_bridge")
    assert row.asset_key == "growth/mrr_monthly"
    assert (row.passed, row.severity, row.blocking) == (False, "ERROR", True)
    assert row.observed["customer_rows_broken"] > 0
    assert results(warehouse, "covers_users") == []
