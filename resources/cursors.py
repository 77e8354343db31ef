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
    """``ops.source_cursors`` of one stream, in the caller's transaction.

    The load streams records into a COPY on the same connection, and a connection cannot run
    another statement while a COPY is open. So the store reads (and locks) the stream's
    cursor when it is made, before the COPY starts, keeps saves in memory, and writes them
    with :meth:`flush` after the rows, still in the same transaction.
    """

    def __init__(self, conn: Connection, source: str, stream: str) -> None:
        self._conn = conn
        self._source = source
        self._stream = stream
        rows = Warehouse.fetch_file(conn, "ingest/get_cursor", {"source": source, "stream": stream})
        self._saved = {
            r_stream: SavedCursor(r.cursor, r.position_at)
            for r_stream, r in ((stream, row) for row in rows)
        }
        self._pending: dict[str, SavedCursor] = {}

    def get(self, source: str, stream: str) -> SavedCursor | None:
        self._check(source, stream)
        return self._pending.get(stream) or self._saved.get(stream)

    def save(self, source: str, stream: str, saved: SavedCursor) -> None:
        self._check(source, stream)
        self._pending[stream] = saved

    def flush(self) -> None:
        """Write the saved cursors (call after the rows are loaded, before commit)."""
        for stream, saved in self._pending.items():
            Warehouse.run_file(
                self._conn,
                "ingest/save_cursor",
                {
                    "source": self._source,
                    "stream": stream,
                    "cursor": saved.cursor,
                    "position_at": saved.position_at,
                },
            )
            self._saved[stream] = saved
        self._pending.clear()

    def _check(self, source: str, stream: str) -> None:
        if (source, stream) != (self._source, self._stream):
            raise ValueError(
                f"this cursor store holds {self._source}.{self._stream}, not {source}.{stream}"
            )
