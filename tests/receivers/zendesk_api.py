"""A local Zendesk cursor-based incremental ticket export.

``GET /api/v2/incremental/tickets/cursor.json`` with ``start_time`` (epoch seconds) or
``cursor``, and ``per_page``. Tickets are ordered by ``generated_timestamp`` (else
``updated_at``), then id; a page carries ``tickets``, ``after_cursor``, ``after_url``,
``before_cursor``, ``before_url`` and ``end_of_stream``. Like the real export the cursor is
opaque, a ticket appears once in its latest state (:meth:`ZendeskReceiver.upsert` moves an
updated ticket to its new place), and the last page still carries an ``after_cursor`` to poll
from later. Authentication is HTTP Basic ``{email}/token:{api_token}``.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from tests.receivers import Receiver, Reply, Seen

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"


def order_key(ticket: dict[str, Any], previous: float = 0.0) -> float:
    generated = ticket.get("generated_timestamp")
    if isinstance(generated, int):
        return float(generated)
    try:
        return datetime.fromisoformat(str(ticket["updated_at"]).replace("Z", "+00:00")).timestamp()
    except (KeyError, ValueError):
        return previous  # a malformed ticket keeps its place in the list


class ZendeskReceiver(Receiver):
    def __init__(self, email: str, token: str, tickets: list[dict[str, Any]]) -> None:
        super().__init__(f"{email}/token", token)
        self.tickets: list[dict[str, Any]] = []
        for ticket in tickets:
            self.upsert(ticket)

    def upsert(self, ticket: dict[str, Any]) -> None:
        if "id" in ticket:
            self.tickets = [t for t in self.tickets if t.get("id") != ticket["id"]]
        self.tickets.append(ticket)

    def _ordered(self) -> list[tuple[tuple[float, str], dict[str, Any]]]:
        keyed = []
        previous = 0.0
        for ticket in self.tickets:
            previous = order_key(ticket, previous)
            keyed.append(((previous, str(ticket.get("id", ""))), ticket))
        return sorted(keyed, key=lambda kt: kt[0])

    def unauthorised(self) -> Reply:
        return Reply(401, b'{"error": "Couldn\'t authenticate you"}')

    def answer(self, seen: Seen) -> Reply:
        if seen.path != EXPORT_PATH:
            return Reply(404, b'{"error": "InvalidEndpoint"}')
        ordered = self._ordered()
        after = None
        if "cursor" in seen.query:
            after = json.loads(base64.urlsafe_b64decode(seen.query["cursor"]))
        # The page size is kept in the cursor, so a request by cursor alone (zenpy sends no
        # per_page with a cursor) keeps the size the export started with.
        default_size = after[2] if after is not None else 1000
        per_page = min(int(seen.query.get("per_page", default_size)), 1000)
        if after is not None:
            rest = [(k, t) for k, t in ordered if k > (after[0], after[1])]
        elif "start_time" in seen.query:
            start = float(seen.query["start_time"])
            rest = [(k, t) for k, t in ordered if k[0] >= start]
        else:
            return Reply(400, b'{"error": "InvalidPaginationParameter"}')
        page = rest[:per_page]
        if page:
            last_key: tuple[float, str] = page[-1][0]
        elif after is not None:
            last_key = (after[0], after[1])
        else:
            last_key = (float(seen.query["start_time"]) - 0.5, "")
        cursor = base64.urlsafe_b64encode(json.dumps([*last_key, per_page]).encode()).decode()
        query = {"cursor": cursor, "per_page": str(per_page)}
        body = {
            "tickets": [t for _, t in page],
            "after_url": f"{self.url}{EXPORT_PATH}?{urlencode(query)}",
            "after_cursor": cursor,
            "before_url": None,
            "before_cursor": None,
            "end_of_stream": len(rest) <= per_page,
        }
        return Reply(200, json.dumps(body).encode())
