"""Great Expectations suites over the raw and canonical tables, as Dagster asset checks.

The suites are JSON files in ``growth_assets/quality/suites/`` (reviewable, one per kind of
table); values that depend on the warehouse or the clock are ``{"$PARAMETER": name}`` and
filled at run time (vocabulary, ISO 4217 codes, product start, now). A run validates the
rows of its window: the SQL of ``sql/quality/gx_<kind>.sql`` with the window bound as
literals (SQLAlchemy renders them; GX's query asset takes SQL text) becomes a GX query asset
on a PostgreSQL datasource, in an *ephemeral* GX context: nothing is written to disk, no
``gx/`` folder, no stores. The context and datasource are made once per process.

Each expectation carries GX's own ``severity``: a failed ``critical`` one makes the check an
ERROR (blocking), a failed ``warning`` one a WARN. The check's metadata lists the failing
expectations with their unexpected counts and a sample of the offending values and row ids.

Cost: importing GX takes ~8 s of CPU on the project's 2-core machine (measured; most of it
pandas/altair/marshmallow imports), so the import is lazy, done in the first step that
validates; then a suite over one partition takes ~0.3 s. ``GROWTH_QUALITY_GX=off`` skips
validation (the check then passes with ``skipped`` in its metadata).
"""

from __future__ import annotations

import functools
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dagster import AssetCheckResult, AssetCheckSeverity, AssetExecutionContext, AssetKey
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from growth_assets.quality.config import expectations_enabled, product_start
from growth_assets.quality.results import Scope, recorded
from resources.sqlfiles import render, strip_comments
from resources.warehouse import Warehouse, normalise_url

SUITES = Path(__file__).resolve().parent / "suites"
CHECK_NAME = "expectations"
FUTURE_TOLERANCE = timedelta(days=1)
SAMPLE = 5


@dataclass
class SuiteOutcome:
    suite: str
    evaluated: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def severity(self) -> AssetCheckSeverity:
        critical = any(f["severity"] == "critical" for f in self.failed)
        return AssetCheckSeverity.ERROR if critical or not self.failed else AssetCheckSeverity.WARN


def load_suite(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SUITES / f"{name}.json").read_text())
    return data


def literal_sql(name: str, params: dict[str, Any], **identifiers: str) -> str:
    """``sql/<name>.sql`` with its bind parameters rendered as PostgreSQL literals."""
    statement = sa.text(strip_comments(render(name, **identifiers))).bindparams(**params)
    return str(
        statement.compile(
            dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]
            compile_kwargs={"literal_binds": True},
        )
    )


@functools.cache
def _context() -> Any:
    import great_expectations as gx  # lazy: ~8 s of imports
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _datasource(url: str) -> Any:
    context = _context()
    name = "warehouse_" + uuid.uuid5(uuid.NAMESPACE_URL, url).hex[:12]
    try:
        return context.data_sources.get(name)
    except KeyError:
        return context.data_sources.add_postgres(name, connection_string=normalise_url(url))


def run_suite(url: str, suite_name: str, query: str, parameters: dict[str, Any]) -> SuiteOutcome:
    """Validate ``query``'s rows against the suite; the failing expectations, summarised."""
    import great_expectations as gx
    from great_expectations.expectations.registry import get_expectation_impl

    started = time.perf_counter()
    spec = load_suite(suite_name)
    suite = gx.ExpectationSuite(
        name=f"{suite_name}_{uuid.uuid4().hex[:8]}",
        expectations=[
            get_expectation_impl(e["type"])(**e["kwargs"], severity=e.get("severity", "critical"))
            for e in spec["expectations"]
        ],
    )
    datasource = _datasource(url)
    asset_name = f"{suite_name}_{uuid.uuid4().hex[:12]}"
    asset = datasource.add_query_asset(asset_name, query=query)
    try:
        batch = asset.add_batch_definition_whole_table("window").get_batch()
        result = batch.validate(
            suite,
            expectation_parameters=parameters,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE},
        )
    finally:
        datasource.delete_asset(asset_name)
    outcome = SuiteOutcome(suite=suite_name, evaluated=len(result.results))
    for r in result.results:
        if r.success:
            continue
        config = r.expectation_config
        details = r.result or {}
        outcome.failed.append(
            {
                "expectation": config.type,
                "column": config.kwargs.get("column"),
                "severity": str(getattr(config.severity, "value", config.severity)).lower(),
                "unexpected_count": details.get("unexpected_count"),
                "unexpected_percent": details.get("unexpected_percent"),
                "sample": [str(v) for v in (details.get("partial_unexpected_list") or [])][:SAMPLE],
                "error": (r.exception_info or {}).get("exception_message")
                if r.exception_info and r.exception_info.get("raised_exception")
                else None,
            }
        )
    outcome.seconds = time.perf_counter() - started
    return outcome


def parameters(conn: Connection) -> dict[str, Any]:
    (row,) = Warehouse.fetch_file(conn, "quality/gx_parameters")
    now = datetime.now(product_start().tzinfo)
    return {
        "vocabulary": list(row.vocabulary),
        "currencies": list(row.currencies),
        "product_start": product_start(),
        "latest_allowed": now + FUTURE_TOLERANCE,
    }


def expectations(
    conn: Connection,
    context: AssetExecutionContext,
    warehouse: Warehouse,
    key: AssetKey,
    suite_name: str,
    query: str,
    scope: Scope,
) -> AssetCheckResult:
    """``expectations``: run ``suite_name`` over ``query`` and record the outcome."""
    if not expectations_enabled():
        observed: dict[str, Any] = {"suite": suite_name, "skipped": "GROWTH_QUALITY_GX=off"}
        return recorded(
            conn, context, key, CHECK_NAME, True, AssetCheckSeverity.WARN, observed, scope
        )
    outcome = run_suite(warehouse.url, suite_name, query, parameters(conn))
    observed = {
        "suite": suite_name,
        "expectations_evaluated": outcome.evaluated,
        "failed_expectations": outcome.failed,
        "gx_seconds": round(outcome.seconds, 3),
    }
    return recorded(
        conn, context, key, CHECK_NAME, not outcome.failed, outcome.severity, observed, scope
    )
