"""``growth-assets``: the project's command line.

growth-assets migrate   apply pending migrations and report the TimescaleDB tier
growth-assets status    connection, tier, migrations, table sizes
growth-assets doctor    health and configuration: warehouse, migrations, Dagster, sources, alerts
growth-assets demo      build the demo warehouse end to end and print a summary
growth-assets dev       start `dagster dev` (webserver + daemon) on the warehouse
growth-assets alerts replay --from D --to D   what anomaly detection would have raised
growth-assets pseudonyms forget --yes          empty growth's user ids before a rebuild
"""

from __future__ import annotations

import os
import sys
import warnings
from datetime import datetime
from pathlib import Path

import click
import sqlalchemy as sa
from dagster import BetaWarning

from growth_assets.cli.runtime import REPO_ROOT, apply_dagster_environment
from growth_assets.environment import warehouse_url
from resources.migrations import MigrationError
from resources.migrations import migrate as apply_migrations
from resources.warehouse import Warehouse, detect_tier


def _warehouse() -> Warehouse:
    return Warehouse(url=warehouse_url(), timescaledb=os.environ.get("GROWTH_TIMESCALEDB", "auto"))


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.group()
def main() -> None:
    """growth-assets: a growth-analytics warehouse on Dagster, PostgreSQL and TimescaleDB."""
    # BackfillPolicy is marked beta by Dagster; one warning per asset drowns the summary.
    warnings.filterwarnings("ignore", category=BetaWarning)


@main.command()
def migrate() -> None:
    """Apply pending SQL migrations (safe to run again)."""
    wh = _warehouse()
    try:
        applied = apply_migrations(wh.engine, wh.timescaledb)
        tier = wh.tier()
    except sa.exc.OperationalError as exc:
        _fail(f"cannot reach the warehouse: {exc.orig}")
        return
    except MigrationError as exc:
        _fail(str(exc))
        return
    click.echo(f"migrations applied now: {', '.join(applied) or 'none (up to date)'}")
    click.echo(f"TimescaleDB tier: {tier.value}")


@main.command()
def status() -> None:
    """Report the warehouse connection, TimescaleDB tier, migrations and table sizes."""
    wh = _warehouse()
    url = wh.engine.url.render_as_string(hide_password=True)
    try:
        with wh.engine.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version")).scalar()
            tier = detect_tier(conn)
            migrations = Warehouse.fetch_file(conn, "ops/migrations_applied")
            tables = Warehouse.fetch_file(conn, "ops/table_rows")
    except sa.exc.OperationalError as exc:
        _fail(f"cannot reach the warehouse at {url}: {exc.orig}")
        return
    except sa.exc.ProgrammingError:
        _fail(f"the warehouse at {url} has no schema yet: run `growth-assets migrate`")
        return
    click.echo(f"warehouse: {url} (PostgreSQL {version})")
    click.echo(f"TimescaleDB tier: {tier.value}")
    click.echo(f"migrations: {', '.join(m.version for m in migrations)}")
    for t in tables:
        click.echo(f"  {t.table_name:<32} {int(t.row_count):>12,}")


@main.command()
def doctor() -> None:
    """Check the deployment: warehouse, tier, migrations, last materialisations, sources and
    alert channels (secrets masked). Exits 1 when the warehouse is unreachable or behind."""
    apply_dagster_environment()
    from growth_assets.cli.doctor import run_doctor

    code = run_doctor(click.echo, lambda message: click.echo(f"error: {message}", err=True))
    sys.exit(code)


@main.command()
def demo() -> None:
    """Build the demo warehouse from nothing and print a summary (no credentials needed)."""
    apply_dagster_environment()
    from dagster import DagsterInstance

    from growth_assets.cli.demo import format_summary, run_demo

    with DagsterInstance.get() as instance:
        summary = run_demo(instance)
    click.echo(format_summary(summary))
    if summary.failed_errors:
        sys.exit(2)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def dev(dagster_args: tuple[str, ...]) -> None:
    """Start `dagster dev` (webserver + daemon) on the warehouse; extra args go to dagster."""
    apply_dagster_environment()
    apply_migrations(_warehouse().engine, os.environ.get("GROWTH_TIMESCALEDB", "auto"))
    dagster = str(Path(sys.executable).parent / "dagster")
    args = [dagster, "dev", "-w", str(REPO_ROOT / "workspace.yaml"), *dagster_args]
    os.execv(dagster, args)  # noqa: S606 - replaces this process with dagster dev


@main.group()
def alerts() -> None:
    """Anomaly alerts (the sensors detect and deliver; these commands only look)."""


@alerts.command()
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--metric", "metrics", multiple=True, help="Only these metrics (repeatable).")
def replay(first: datetime, last: datetime, metrics: tuple[str, ...]) -> None:
    """Replay detection over past days and print what would have alerted (no writes, no sends)."""
    from growth_assets.alerts.config import AlertConfigError, load_config
    from growth_assets.cli.alerts import format_replay, replay_evaluations

    if last < first:
        _fail(f"--to {last:%Y-%m-%d} is before --from {first:%Y-%m-%d}")
        return
    try:
        config = load_config()
        evaluations = replay_evaluations(
            _warehouse(), config, first.date(), last.date(), list(metrics)
        )
    except (AlertConfigError, ValueError) as exc:
        _fail(str(exc))
        return
    except sa.exc.OperationalError as exc:
        _fail(f"cannot reach the warehouse: {exc.orig}")
        return
    click.echo(format_replay(evaluations, config, first.date(), last.date()))


@main.group()
def pseudonyms() -> None:
    """User-id pseudonymisation (GROWTH_PSEUDONYMISE_KEY; docs/security.md)."""


@pseudonyms.command()
@click.option("--yes", is_flag=True, help="Confirm: growth's tables are emptied.")
def forget(yes: bool) -> None:
    """Empty every growth table holding user ids and the recorded key, keeping raw: then
    re-materialise the canonical and downstream assets under the new setting."""
    from growth_assets.models.pseudonyms import forget_user_ids

    if not yes:
        _fail("this empties growth.events and every table derived from it; pass --yes")
        return
    try:
        forget_user_ids(_warehouse())
    except sa.exc.OperationalError as exc:
        _fail(f"cannot reach the warehouse: {exc.orig}")
        return
    click.echo(
        "growth emptied (raw kept); re-materialise the canonical and downstream assets over "
        "the whole partition range to rebuild under the current GROWTH_PSEUDONYMISE_KEY"
    )


if __name__ == "__main__":
    main()
