"""The north-star metric: a configured arithmetic expression over the rollup metrics.

The expression (``net_revenue / active_users``, ``paying_customers``, ``(gross_revenue -
refunds) * 12``) is parsed with :mod:`ast` into a tree whose every node is checked against a
whitelist: metric names from :data:`growth_assets.rollups.metrics.METRICS`, numbers, ``+ - *
/``, unary minus/plus and parentheses. Anything else (calls, attributes, strings, comparisons,
unknown names) is refused with a message saying what. The SQL is emitted from the checked tree
only: metric names become quoted column identifiers, numbers bound parameters, so no text of
the expression ever reaches the SQL. Every operand is cast to numeric (integer columns would
otherwise divide as integers) and a division by zero gives NULL (``nullif``), never an error.

Periods: ``day`` reads ``growth.metrics_daily``, ``month`` ``growth.metrics_monthly``; ``week``
(ISO, Monday) sums the additive metrics of ``growth.metrics_daily`` over the week and counts
the distinct metrics (active users, paying and churned customers) over the week from
``growth.user_activity_daily`` (a user active on two days of the week is one weekly active
user), the 'all' row being the sum of the products' as in every rollup.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any

from growth_assets.rollups.metrics import DISTINCT, METRICS
from resources.sqlfiles import quote_ident

METRIC_NAMES: frozenset[str] = frozenset(m.name for m in METRICS)
MAX_LENGTH = 500
MAX_NODES = 200

_OPS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}


@dataclass(frozen=True)
class Compiled:
    """SQL over the columns of alias ``m`` and its bound numbers."""

    sql: str
    params: dict[str, Any]
    metrics: tuple[str, ...]


def compile_expression(text: str, alias: str = "m") -> Compiled:
    """Check ``text`` and return its SQL; ValueError says what is not allowed."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the north-star expression is empty")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"the north-star expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"the north-star expression {text!r} is not valid: {exc.msg}") from exc
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ValueError(f"the north-star expression has more than {MAX_NODES} parts")
    params: dict[str, Any] = {}
    used: list[str] = []
    prefix = quote_ident(alias)

    def emit(node: ast.AST) -> str:
        if isinstance(node, ast.Expression):
            return emit(node.body)
        if isinstance(node, ast.Name):
            if node.id not in METRIC_NAMES:
                known = ", ".join(sorted(METRIC_NAMES))
                raise ValueError(
                    f"unknown metric {node.id!r} in the north-star expression; known: {known}"
                )
            if node.id not in used:
                used.append(node.id)
            return f"CAST({prefix}.{quote_ident(node.id)} AS numeric)"
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"only numbers and metric names are allowed, not {value!r}")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"number {value!r} is not finite")
            name = f"ns_c{len(params)}"
            params[name] = str(value)
            return f"CAST(:{name} AS numeric)"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            sign = "-" if isinstance(node.op, ast.USub) else "+"
            return f"({sign}{emit(node.operand)})"
        if isinstance(node, ast.BinOp):
            left, right = emit(node.left), emit(node.right)
            if isinstance(node.op, ast.Div):
                return f"({left} / nullif({right}, 0))"
            op = _OPS.get(type(node.op))
            if op is None:
                raise ValueError(
                    f"operator {type(node.op).__name__} is not allowed; use + - * / and ( )"
                )
            return f"({left} {op} {right})"
        raise ValueError(
            f"{type(node).__name__} is not allowed in the north-star expression; use metric "
            "names, numbers, + - * / and ( )"
        )

    sql = emit(tree)
    return Compiled(sql=sql, params=params, metrics=tuple(used))


def _col(name: str) -> str:
    return quote_ident(name)


def periods_sql() -> str:
    """Every rollup metric per (grain, period_start, product_id) for the windows
    ``:day_start..:day_end``, ``:week_start..:week_end``, ``:month_start..:month_end``."""
    names = [m.name for m in METRICS]
    flags = {m.name: m.flag for m in DISTINCT if m.flag}
    cols = ", ".join(_col(n) for n in names)
    week_additive = ", ".join(f"sum(d.{_col(n)}) AS {_col(n)}" for n in names if n not in flags)
    week_distinct = ", ".join(
        f"count(*) FILTER (WHERE w.{_col(flag)}) AS {_col(n)}" for n, flag in flags.items()
    )
    week_flags = ", ".join(f"bool_or(a.{_col(flag)}) AS {_col(flag)}" for flag in flags.values())
    week_cols = ", ".join(
        f"coalesce(u.{_col(n)}, 0) AS {_col(n)}" if n in flags else f"s.{_col(n)}" for n in names
    )
    weekly_users = f"""(
            SELECT CAST(date_trunc('week', a.day) AS date) AS period_start, a.product_id,
                   a.user_id, {week_flags}
            FROM growth.user_activity_daily AS a
            WHERE a.day >= CAST(:week_start AS date) AND a.day < CAST(:week_end AS date)
            GROUP BY 1, 2, 3
        ) AS w"""
    return f"""
    SELECT 'day' AS grain, day AS period_start, product_id, {cols}
    FROM growth.metrics_daily
    WHERE day >= CAST(:day_start AS date) AND day < CAST(:day_end AS date)
    UNION ALL
    SELECT 'week', s.period_start, s.product_id, {week_cols}
    FROM (
        SELECT CAST(date_trunc('week', d.day) AS date) AS period_start, d.product_id,
               {week_additive}
        FROM growth.metrics_daily AS d
        WHERE d.day >= CAST(:week_start AS date) AND d.day < CAST(:week_end AS date)
        GROUP BY 1, 2
    ) AS s
    LEFT JOIN (
        SELECT w.period_start, coalesce(w.product_id, 'all') AS product_id, {week_distinct}
        FROM {weekly_users}
        GROUP BY GROUPING SETS ((w.period_start, w.product_id), (w.period_start))
    ) AS u ON u.period_start = s.period_start AND u.product_id = s.product_id
    UNION ALL
    SELECT 'month', month, product_id, {cols}
    FROM growth.metrics_monthly
    WHERE month >= CAST(:month_start AS date) AND month < CAST(:month_end AS date)
    """


def refresh_sql(compiled: Compiled) -> list[str]:
    """Delete the windows' rows and insert the expression's value for every period."""
    delete = """
    DELETE FROM growth.north_star
    WHERE (grain = 'day' AND period_start >= CAST(:day_start AS date)
           AND period_start < CAST(:day_end AS date))
       OR (grain = 'week' AND period_start >= CAST(:week_start AS date)
           AND period_start < CAST(:week_end AS date))
       OR (grain = 'month' AND period_start >= CAST(:month_start AS date)
           AND period_start < CAST(:month_end AS date))
    """
    insert = f"""
    INSERT INTO growth.north_star (grain, period_start, product_id, name, expression, value)
    SELECT m.grain, m.period_start, m.product_id, CAST(:ns_name AS text),
           CAST(:ns_expression AS text), round({compiled.sql}, 6)
    FROM ({periods_sql()}) AS m
    """
    # No JIT: compiling this plan costs seconds and saves nothing (see sql/saas/mrr_customers).
    return ["SET LOCAL jit = off", delete, insert]
