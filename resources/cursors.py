"""Saved positions of incremental sources (``ops.source_cursors``).

A cursor-keeping client (Zendesk's incremental export) reads its cursor at the start of a load
and saves the new one at the end, through the load's own connection: the cursor and the rows
it accounts for commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.engine import Connection

from resources.warehouse import Warehouse


@dataclass(frozen=True)
class SavedCursor:
    """An opaque source cursor and the source time it has read up to."""

    cursor: str
    position_at: datetime


class CursorStore(Protocol):
    def get(self, source: str, stream: str) -> SavedCursor | None: ...

    def save(self, source: str, stream: str, saved: SavedCursor) -> None: ...


class SqlCursorStore:
    """``ops.source_cursors`` in the caller's transaction (its row stays locked until the end)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, source: str, stream: str) -> SavedCursor | None:
        rows = Warehouse.fetch_file(
            self._conn, "ingest/get_cursor", {"source": source, "stream": stream}
        )
        if not rows:
            return None
        return SavedCursor(cursor=rows[0].cursor, position_at=rows[0].position_at)

    def save(self, source: str, stream: str, saved: SavedCursor) -> None:
        Warehouse.run_file(
            self._conn,
            "ingest/save_cursor",
            {
                "source": source,
                "stream": stream,
                "cursor": saved.cursor,
                "position_at": saved.position_at,
            },
        )
