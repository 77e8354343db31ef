"""Versioned schema migrations from ``sql/migrations``, applied once each.

Files are named ``NNNN_description.sql`` and applied in order. All pending migrations of one
call run in a single transaction (a savepoint each, so a failure names its file) under an
advisory lock, so a failed upgrade leaves the schema as it was and two processes starting at
once do not race. The applied version and
a checksum are recorded in ``ops.schema_migrations``; editing a file after it was applied is an
error (write a new migration instead), so every warehouse built from the same files has the
same schema.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from resources.sqlfiles import sql_dir

_LOCK_KEY = 7_318_245_001  # arbitrary, constant: pg_advisory_xact_lock key for migrations

_BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.schema_migrations (
    version     text PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
"""


class MigrationError(RuntimeError):
    """A migration could not be applied, or an applied one was changed afterwards."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(folder: Path | None = None) -> list[Migration]:
    """All migration files, ordered by version."""
    folder = folder or sql_dir() / "migrations"
    found = []
    for path in sorted(folder.glob("*.sql")):
        version, _, name = path.stem.partition("_")
        if not version.isdigit():
            raise MigrationError(f"{path.name}: migration files are named NNNN_description.sql")
        found.append(Migration(version, name, path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {folder}")
    return found


def ensure_timescaledb(conn: Connection, mode: str) -> bool:
    """Create the timescaledb extension when ``mode`` is 'auto' and the server can load it."""
    if mode == "off":
        return False
    if mode != "auto":
        raise ValueError(f"timescaledb mode must be 'auto' or 'off', got {mode!r}")
    available = conn.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    ).scalar()
    preloaded = "timescaledb" in str(
        conn.execute(sa.text("SELECT current_setting('shared_preload_libraries')")).scalar()
    )
    if not (available and preloaded):
        return False
    conn.execute(sa.text("SET LOCAL client_min_messages = warning"))
    conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
    return True


def applied_versions(conn: Connection) -> dict[str, str]:
    rows = conn.execute(sa.text("SELECT version, checksum FROM ops.schema_migrations"))
    return {r.version: r.checksum for r in rows}


def migrate(engine: Engine, timescaledb: str = "auto") -> list[str]:
    """Apply pending migrations; return the versions applied by this call (empty when current)."""
    migrations = discover()
    applied_now: list[str] = []
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        conn.exec_driver_sql(_BOOTSTRAP)
        ensure_timescaledb(conn, timescaledb)
        done = applied_versions(conn)
        for m in migrations:
            if m.version in done:
                if done[m.version] != m.checksum:
                    raise MigrationError(
                        f"migration {m.path.name} changed after it was applied; "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            try:
                with conn.begin_nested():
                    conn.exec_driver_sql(m.path.read_text(encoding="utf-8"))
                    conn.execute(
                        sa.text(
                            "INSERT INTO ops.schema_migrations (version, name, checksum) "
                            "VALUES (:v, :n, :c)"
                        ),
                        {"v": m.version, "n": m.name, "c": m.checksum},
                    )
            except sa.exc.DBAPIError as exc:
                raise MigrationError(f"migration {m.path.name} failed: {exc.orig}") from exc
            applied_now.append(m.version)
    return applied_now
