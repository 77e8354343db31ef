"""A source client for tests: answers ``fetch`` from records given up front.

It stands where an API client stands (the same ``SourceClient`` interface), filtering by the
stream's own timestamp field like the real APIs do, so everything downstream is the real code.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson

from growth_assets.sources.load import record_time
from growth_assets.sources.streams import streams_of
from resources.clients import SourceClient


class StaticClient(SourceClient):
    source: str
    records_json: str  # {"stream": [record, ...]}

    def fetch(self, stream: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
        spec = next(s for s in streams_of(self.source) if s.stream == stream)
        for record in orjson.loads(self.records_json).get(stream, []):
            try:
                ts = record_time(spec, record)
            except ValueError:
                yield record  # let the pipeline reject it, as it would a real API's bad record
                continue
            if start <= ts < end:
                yield record


def static(source: str, **streams: list[dict[str, Any]]) -> StaticClient:
    return StaticClient(source=source, records_json=orjson.dumps(streams).decode())
