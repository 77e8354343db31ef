"""A local Mixpanel Raw Export API: ``GET /api/2.0/export`` answering JSON lines.

Like the real endpoint it filters by whole days (``from_date``/``to_date``, inclusive, UTC
here), authenticates with HTTP Basic (the project API secret as user name and an empty
password, or a service account's user name and secret plus ``project_id``), and ends every
line with a newline. ``extra_lines`` adds raw text lines to a day (malformed records).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from tests.receivers import Receiver, Reply, Seen

EXPORT_PATH = "/api/2.0/export"


class MixpanelReceiver(Receiver):
    def __init__(
        self,
        secret: str,
        events: list[dict[str, Any]],
        service_account: str | None = None,
        project_id: str | None = None,
    ) -> None:
        if service_account:
            super().__init__(service_account, secret)
        else:
            super().__init__(secret, "")
        self.project_id = project_id
        self.events = events
        self.extra_lines: dict[date, list[str]] = {}

    def exports(self) -> list[tuple[str, str]]:
        """(from_date, to_date) of every export request that was answered or attempted."""
        return [(s.query["from_date"], s.query["to_date"]) for s in self.seen]

    def answer(self, seen: Seen) -> Reply:
        if seen.path != EXPORT_PATH:
            return Reply(404, b'{"error": "not found"}')
        if self.project_id is not None and seen.query.get("project_id") != self.project_id:
            return Reply(400, b'{"error": "project_id is required"}')
        try:
            first = date.fromisoformat(seen.query["from_date"])
            last = date.fromisoformat(seen.query["to_date"])
        except (KeyError, ValueError):
            return Reply(400, b'{"error": "from_date and to_date are required"}')
        lines = []
        for event in self.events:
            at = event.get("properties", {}).get("time")
            if (
                isinstance(at, int | float)
                and first <= datetime.fromtimestamp(at, UTC).date() <= last
            ):
                lines.append(json.dumps(event))
        for day, extra in sorted(self.extra_lines.items()):
            if first <= day <= last:
                lines.extend(extra)
        body = "".join(f"{line}\n" for line in lines).encode()
        return Reply(200, body, content_type="text/plain; charset=utf-8")
