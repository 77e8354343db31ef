"""Load one window of a stream into its raw table: key, time, COPY, upsert, keep rejects.

Records are never dropped silently. A record without an id or a usable timestamp, or with a
timestamp in the future, is kept in ``ops.rejected_events`` (stage ``ingest``) with the reason.
A client that receives a record it cannot parse (a malformed JSONL line) passes it on as
``{MALFORMED: <the text>, MALFORMED_REASON: <why>}`` so it is rejected with that reason too.
A record PostgreSQL cannot store (a NUL character or an unpaired surrogate from a ``\\udc80``
JSON escape in a string) is rejected too, instead of failing the
whole window's ``COPY``; its kept payload shows those characters as escapes.
Records outside the requested window are counted and left to the partition they belong to
(Mixpanel's export, for example, answers per day while partitions are hourly).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from growth_assets.quality.config import product_start
from growth_assets.sources.streams import StreamSpec
from resources.warehouse import Warehouse

FUTURE_TOLERANCE = timedelta(days=1)
# Source ids are index keys (an index entry holds at most ~2.7 kB); longer ones are rejected.
MAX_ID_BYTES = 1000
MALFORMED = "_malformed"  # key of a record the client could not parse: the raw text
MALFORMED_REASON = "_malformed_reason"


@dataclass
class LoadStats:
    fetched: int = 0
    keyed: int = 0
    distinct_ids: int = 0
    inserted: int = 0
    updated: int = 0
    outside_window: int = 0
    rejected: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def unchanged(self) -> int:
        return self.distinct_ids - self.inserted - self.updated


@dataclass(frozen=True)
class Rejected:
    kind: str  # a short category for counting: "missing id", "bad timestamp", …
    reason: str
    payload: Any
    source_id: str | None = None
    occurred_at: datetime | None = None


def dig(record: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in nested dicts, or None where the path does not exist."""
    for key in path:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record


def parse_time(value: Any, fmt: str) -> datetime:
    """Parse a source timestamp (epoch seconds or ISO 8601) into an aware UTC datetime."""
    if value is None or value == "":
        raise ValueError("missing timestamp")
    if fmt == "epoch":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"timestamp {value!r} is not epoch seconds")
        return datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, str):
        raise ValueError(f"timestamp {value!r} is not an ISO 8601 string")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no time zone")
    return parsed.astimezone(UTC)


def record_time(spec: StreamSpec, record: Any) -> datetime:
    """The timestamp the stream windows on, parsed; ValueError when missing or malformed."""
    return parse_time(dig(record, spec.time_path), spec.time_format)


# A NUL in the serialized JSON: ``\u0000`` after an even number of backslashes (an odd
# number would make it the text "\u0000" that some record holds literally).
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_REASON = (
    "text PostgreSQL cannot store: a NUL character or an unpaired surrogate "
    "(kept here as \\u0000 / \\udXXX escapes)"
)


def storable(value: Any) -> Any:
    """``value`` with NUL and lone surrogates written as escapes (``\\u0000``, ``\\udc80``):
    what a rejected record is kept as, nothing lost."""
    if isinstance(value, str):
        if not _UNSTORABLE.search(value):
            return value
        return value.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode()
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def key_record(
    spec: StreamSpec, record: Any, now: datetime, earliest: datetime | None = None
) -> tuple[str, datetime] | Rejected:
    """Return (source id, timestamp) for a record, or why it cannot be loaded. A timestamp
    before ``earliest`` (the configured product start) belongs to no partition: rejected as
    ancient rather than left outside every window."""
    if not isinstance(record, dict):
        return Rejected(
            "not an object",
            f"record is not a JSON object: {type(record).__name__}",
            {"raw": record},
        )
    if MALFORMED in record:
        return Rejected(
            "malformed record", f"malformed record: {record.get(MALFORMED_REASON)}", record
        )
    raw_id = dig(record, spec.id_path)
    if raw_id is None or raw_id == "":
        return Rejected("missing id", f"missing id ({'.'.join(spec.id_path)})", record)
    source_id = str(raw_id)
    if len(source_id.encode("utf-8", "surrogatepass")) > MAX_ID_BYTES:
        return Rejected(
            "id too long",
            f"id ({'.'.join(spec.id_path)}) longer than {MAX_ID_BYTES} bytes",
            record,
            source_id[:100],
        )
    try:
        ts = record_time(spec, record)
    except (ValueError, OverflowError, OSError) as exc:
        return Rejected(
            "bad timestamp", f"bad timestamp ({'.'.join(spec.time_path)}): {exc}", record, source_id
        )
    if ts > now + FUTURE_TOLERANCE:
        return Rejected(
            "future timestamp",
            f"timestamp {ts.isoformat()} is in the future",
            record,
            source_id,
            ts,
        )
    if earliest is not None and ts < earliest:
        return Rejected(
            "ancient timestamp",
            f"timestamp {ts.isoformat()} is before the product start {earliest.date()}",
            record,
            source_id,
            ts,
        )
    return source_id, ts


def load_window(
    conn: Connection,
    spec: StreamSpec,
    records: Iterable[Any],
    window: tuple[datetime, datetime],
    partition: str,
) -> LoadStats:
    """Stage, upsert and reject one window's records inside the caller's transaction."""
    started = time.perf_counter()
    start, end = window
    now = datetime.now(UTC)
    earliest = product_start()
    stats = LoadStats()
    rejects: list[Rejected] = []

    def rows() -> Iterable[tuple[str, datetime, str]]:
        for record in records:
            stats.fetched += 1
            keyed = key_record(spec, record, now, earliest)
            if isinstance(keyed, Rejected):
                rejects.append(keyed)
                continue
            source_id, ts = keyed
            if not start <= ts < end:
                stats.outside_window += 1
                continue
            try:
                payload = orjson.dumps(record).decode()
            except orjson.JSONEncodeError as exc:
                if "surrogate" in str(exc):
                    rejects.append(Rejected("unstorable", UNSTORABLE_REASON, record, source_id, ts))
                    continue
                # An integer beyond 64 bits: orjson refuses it, jsonb holds any number.
                payload = json.dumps(record)
            if _NUL_ESCAPE.search(payload):
                rejects.append(Rejected("unstorable", UNSTORABLE_REASON, record, source_id, ts))
                continue
            stats.keyed += 1
            yield source_id, ts, payload

    Warehouse.run_file(conn, "ingest/stage_raw")
    Warehouse.copy_rows(conn, "raw_batch", ("id", "occurred_at", "payload"), rows())
    if spec.shared_table:
        (result,) = Warehouse.fetch_file(
            conn, "ingest/upsert_shared_raw", {"source": spec.source}, raw_table=spec.raw_table
        )
    else:
        (result,) = Warehouse.fetch_file(conn, "ingest/upsert_raw", raw_table=spec.raw_table)
    stats.distinct_ids = int(result.distinct_ids or 0)
    stats.inserted = int(result.inserted or 0)
    stats.updated = int(result.updated or 0)

    for rej in rejects:
        Warehouse.run_file(
            conn,
            "ingest/reject_record",
            {
                "source": spec.source,
                "stream": spec.stream,
                "source_id": storable(rej.source_id),
                "occurred_at": rej.occurred_at,
                "payload": json.dumps(storable(rej.payload), default=str),
                "reason": storable(rej.reason),
                "partition": partition,
            },
        )
        stats.reject_reasons[rej.kind] = stats.reject_reasons.get(rej.kind, 0) + 1
    stats.rejected = len(rejects)
    stats.seconds = time.perf_counter() - started
    return stats
