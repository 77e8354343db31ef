"""``growth-assets doctor``: is this deployment healthy, and how is it configured?

Reports, in order: the warehouse connection (host, port, database and user, never the
password), the TimescaleDB tier, migrations applied and pending, the Dagster instance and the
last materialisation of every asset, the configured sources (demo or real client, which of
their environment variables are set), the alert channels and whether user ids are
pseudonymised (``GROWTH_PSEUDONYMISE_KEY``: the key's fingerprint, shortened). Secrets are never
printed: a set variable shows as ``set``, a URL as its scheme and host only.

Exit status 1 when the warehouse cannot be reached, has migrations pending, or holds user ids
of another pseudonym space than the key set now (every normaliser would refuse to run); an
unreachable Dagster instance is reported but does not fail the command (the warehouse is
still usable without it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from dagster import AssetKey
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from resources.migrations import applied_versions, discover
from resources.warehouse import detect_tier, normalise_url

CONNECT_TIMEOUT_SECONDS = 5
ALERT_PREFIXES = ("SLACK_", "PAGERDUTY_")
Echo = Callable[[str], None]


def describe_url(url: str) -> str:
    """``host:port/database as user``: where a URL points, without its password."""
    parsed = make_url(normalise_url(url))
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"
    return f"{where} as {parsed.username}" if parsed.username else where


def scrub(message: str, url: URL | str) -> str:
    """``message`` with the URL's password (if any) replaced, first line only."""
    parsed = make_url(url) if isinstance(url, str) else url
    first = message.strip().splitlines()[0] if message.strip() else message
    if parsed.password:
        first = first.replace(str(parsed.password), "****")
    return first


def mask(value: str) -> str:
    """How a secret-bearing value is shown: ``set``, or for a URL ``set (scheme://host/****)``."""
    if not value:
        return "empty"
    if "://" in value:
        parts = urlsplit(value)
        if parts.scheme and parts.hostname:
            return f"set ({parts.scheme}://{parts.hostname}/****)"
    return "set"


def variables_with_prefix(prefixes: Iterable[str], environ: Mapping[str, str]) -> list[str]:
    wanted = tuple(prefixes)
    return sorted(name for name in environ if name.startswith(wanted))


def _fmt_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def check_warehouse(url: str, echo: Echo, fail: Echo) -> bool:
    """Connection, tier and migrations; True when the warehouse is usable and up to date."""
    engine = sa.create_engine(
        normalise_url(url),
        poolclass=NullPool,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
    )
    where = describe_url(url)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version")).scalar()
            tier = detect_tier(conn)
            try:
                applied = applied_versions(conn)
            except sa.exc.ProgrammingError:
                conn.rollback()
                applied = {}
    except sa.exc.OperationalError as exc:
        reason = scrub(str(exc.orig), engine.url)
        fail(f"cannot connect to the warehouse at {where} (password not shown): {reason}")
        return False
    finally:
        engine.dispose()
    echo(f"warehouse:   {where} (PostgreSQL {version})")
    echo(f"timescaledb: {tier.value}")
    known = [m.version for m in discover()]
    pending = [v for v in known if v not in applied]
    echo(
        f"migrations:  {len(applied)} applied ({', '.join(sorted(applied)) or 'none'}); "
        f"{len(pending)} pending{': ' + ', '.join(pending) if pending else ''}"
    )
    if pending:
        fail("migrations are pending: run `growth-assets migrate`")
        return False
    return True


def check_dagster(asset_keys: list[AssetKey], echo: Echo) -> None:
    """The instance in DAGSTER_HOME and the last materialisation of each asset."""
    from dagster import DagsterInstance

    home = os.environ.get("DAGSTER_HOME", "")
    storage = os.environ.get("DAGSTER_PG_URL", "")
    target = describe_url(storage) if storage else "(DAGSTER_PG_URL not set)"
    try:
        if storage:  # a quick probe: dagster-postgres itself retries for a long while
            probe = sa.create_engine(
                normalise_url(storage.replace("+psycopg2", "")),
                poolclass=NullPool,
                connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
            )
            try:
                with probe.connect():
                    pass
            finally:
                probe.dispose()
        with DagsterInstance.get() as instance:
            rows = []
            for key in asset_keys:
                event = instance.get_latest_materialization_event(key)
                if event is None:
                    rows.append((key.to_user_string(), "never", ""))
                    continue
                materialization = event.asset_materialization
                partition = materialization.partition if materialization else None
                rows.append(
                    (
                        key.to_user_string(),
                        _fmt_time(event.timestamp),
                        f"partition {partition}" if partition else "",
                    )
                )
    except Exception as exc:  # any failure here: report it, the warehouse is still usable
        if isinstance(exc, sa.exc.OperationalError):
            exc = exc.orig or exc
        reason = scrub(str(exc), storage) if storage else (str(exc).splitlines() or [""])[0]
        echo(f"dagster:     instance at {home or '?'} unreachable: {type(exc).__name__}: {reason}")
        return
    echo(f"dagster:     instance at {home} (storage {target})")
    width = max((len(name) for name, _, _ in rows), default=0)
    for name, when, partition in rows:
        echo(f"  {name:<{width}}  {when:<20} {partition}".rstrip())


def check_sources(resources: Mapping[str, object], sources: Iterable[str], echo: Echo) -> None:
    """Which client answers each source, and which of its variables are set (masked)."""
    echo(f"sources:     GROWTH_ENV={os.environ.get('GROWTH_ENV', 'demo')}")
    for source in sources:
        client = resources.get(source)
        kind = type(client).__name__ if client is not None else "not configured"
        mode = "demo" if kind.startswith("Demo") else "real"
        names = variables_with_prefix([f"{source.upper()}_"], os.environ)
        env = ", ".join(f"{n}={mask(os.environ[n])}" for n in names) or "no variables set"
        echo(f"  {source:<10} {mode:<5} ({kind}); {env}")


def check_alerts(echo: Echo) -> None:
    names = variables_with_prefix(ALERT_PREFIXES, os.environ)
    if not names:
        echo("alerts:      none configured (set SLACK_WEBHOOK_URL to post failed runs)")
        return
    echo("alerts:      " + ", ".join(f"{n}={mask(os.environ[n])}" for n in names))


def check_pseudonymisation(url: str, echo: Echo, fail: Echo) -> bool:
    """The pseudonymisation setting, and whether the warehouse's recorded space matches it."""
    from growth_assets.models.pseudonyms import space_mismatch
    from resources.settings import model_settings_from_env

    pseudonyms = model_settings_from_env(os.environ).pseudonyms()
    if pseudonyms is None:
        echo("pseudonyms:  off (user ids are stored as the sources send them)")
    else:
        short = pseudonyms.fingerprint.rsplit(":", 1)[-1][:12]
        echo(f"pseudonyms:  on, HMAC-SHA256 (key fingerprint {short}…)")
    engine = sa.create_engine(normalise_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            problem = space_mismatch(conn, pseudonyms)
    finally:
        engine.dispose()
    if problem is not None:
        fail(problem)
        return False
    return True


def run_doctor(echo: Echo, fail: Echo) -> int:
    """Print the report; the exit status (0 healthy, 1 warehouse unreachable or behind)."""
    from growth_assets.environment import build_resources, warehouse_url
    from growth_assets.sources.streams import SOURCES

    healthy = check_warehouse(warehouse_url(), echo, fail)
    try:
        from growth_assets.definitions import build_definitions

        defs = build_definitions()
        keys: list[AssetKey] = sorted(
            defs.resolve_asset_graph().get_all_asset_keys(), key=lambda k: k.to_user_string()
        )
        resources: Mapping[str, object] = build_resources()
    except ValueError as exc:  # a configuration error (GROWTH_ENV, GROWTH_PARTITIONS_START, ...)
        fail(f"the code location does not load: {exc}")
        return 1
    check_dagster(keys, echo)
    check_sources(resources, SOURCES, echo)
    check_alerts(echo)
    if healthy:
        healthy = check_pseudonymisation(warehouse_url(), echo, fail)
    automation = os.environ.get("GROWTH_AUTOMATION", "on")
    minute = os.environ.get("GROWTH_SCHEDULE_MINUTE", "10")
    echo(f"automation:  {automation} (schedules at minute {minute} of every hour, sensors)")
    return 0 if healthy else 1
